import Foundation
import StrataStorage
import StrataTestSupport
import Testing
@testable import StrataFeatures
@testable import StrataFormat
@testable import StrataQuery

/// Carries over whole months (`RunCarries`): a window's COUNT, SUM and AVG read from its first month, its
/// last month and one difference of carries must equal the loop that reads every month, on the cases the
/// carries must refuse: NaN and ±∞ in a month between, running sums that cancel (10^20 then −10^20),
/// integer totals beyond 64 bits, NULLs, users absent for months, cutoffs on any day.
@Suite struct WindowCarriesTests {
    /// Fifteen monthly runs (2016-01 … 2017-03) of seven users, built by hand.
    struct Months {
        static let users = 8
        let runs: [PointInTimeEngine.EntityRuns]
        let layout: PointInTimeEngine.WindowInputs
        let index: CarryIndex

        init(needs functions: [AggregateFunction]) throws {
            var layout = PointInTimeEngine.WindowInputs()
            layout.loadColumns = ["amount", "points"]
            layout.inputs = [("amount", nil), ("points", nil)]
            let needs = functions.reduce(InputNeeds()) { $0.union(.of($1)) }
            layout.needs = [needs, needs]
            self.layout = layout
            var draws = TestRandom(state: 2016)
            var runs: [PointInTimeEngine.EntityRuns] = []
            for month in 0..<15 {
                let first = Dates.dayNumber(yyyymmdd: (2016 + month / 12) * 10_000 + (month % 12 + 1) * 100 + 1)!
                let length = Dates.month(containing: first).count
                var entities: [Int64] = [], times: [Int64] = [], amounts: [Double] = [], points: [Int64] = []
                var valid = Validity()
                for user in 0..<Self.users {
                    if user == 5 && (2...9).contains(month) { continue }   // away for eight months
                    for (row, day) in Set((0..<(2 + draws.below(6))).map { _ in draws.below(length) }).sorted().enumerated() {
                        entities.append(Int64(user))
                        times.append(Int64(first + day))
                        var amount = Double(draws.below(1_000_000)) / 1_000
                        var point = Int64(draws.below(100))
                        // The first row of a user's month carries its special value.
                        switch (row == 0 ? user : -1, month) {
                        case (1, 4): amount = .nan
                        case (2, 6): amount = .infinity
                        case (2, 7): amount = -.infinity
                        case (3, 3): amount = 1e20
                        case (3, 5): amount = -1e20
                        case (4, 3), (4, 4): point = 1 << 62   // carried totals pass 2^63; windows from month 7 on see 0
                        case (4, 5), (4, 6): point = -(1 << 62)
                        case (7, 1), (7, 2), (7, 3): point = 1 << 62   // sums past 2^63 in months between: an overflow, not a wrapped sum
                        default: break
                        }
                        amounts.append(amount)
                        points.append(point)
                        valid.append(user != 6 || day % 3 != 0)   // user 6 has NULL points
                    }
                }
                let table = LoadedTable(columns: [
                    ColumnVector(type: .entity, values: .integers(entities)),
                    ColumnVector(type: .date, values: .integers(times)),
                    ColumnVector(type: .float64, values: .floats(amounts)),
                    ColumnVector(type: .int64, values: .integers(points), validity: valid),
                ])
                runs.append(try PointInTimeEngine.EntityRuns(table: table, span: (0, Self.users), layout: layout,
                                                             strings: [StringCodes(), StringCodes()]))
            }
            index = CarryIndex(requested: (0..<Int64(Self.users)).map { $0 }, span: (0, Self.users))
            // Amounts are never NULL (their count is the rows'); points may be.
            var carries = RunCarries(layout: CarryLayout(needs: layout.needs, floats: [true, false], counted: [false, true]), index: index)
            for run in runs {
                run.carries = carries
                carries = carries.adding(run)
            }
            self.runs = runs
        }

        /// Every user at every day of 2016-12 … 2017-03 for `days`, with carries or reading every month;
        /// the first output whose integer SUM left BIGINT.
        func compute(_ plans: [AggregatePlan], days: [Int64], inclusive: Bool, carried: Bool) -> (outputs: [OutputColumn], overflow: Int?) {
            var entities: [Int64] = [], cutoffs: [Int64] = []
            let first = Dates.dayNumber(yyyymmdd: 20161201)!, last = Dates.dayNumber(yyyymmdd: 20170331)!
            for day in first...last {
                for user in 0..<Self.users {
                    entities.append(Int64(user))
                    cutoffs.append(Int64(day))
                }
            }
            let outputs = days.flatMap { _ in plans.map { plan in
                OutputColumn(schema: ColumnSchema(name: "f", type: plan.function == .count || plan.function == .countStar ? .int64
                                                  : plan.function == .avg || plan.input == 0 ? .float64 : .int64, nullable: true),
                             rowCount: entities.count)
            } }
            let order = (0..<entities.count).sorted { (entities[$0], $0) < (entities[$1], $1) }
            let carry = carried ? PointInTimeEngine.CarryPlan(layout: runs[0].carries!.layout, numbers: UnsafePointer(index.numbers.baseAddress!),
                                                              spanCount: index.numbers.count) : nil
            let overflow = withExtendedLifetime((runs, index)) {
                PointInTimeEngine.computeWindowSlice(requests: order[...], entities: entities, cutoffs: cutoffs, inclusive: inclusive, days: days,
                                                     plans: plans, runs: runs.map(\.view), carry: carry, slots: outputs.map(\.slot))
            }
            return (outputs, overflow)
        }
    }

    static let days: [Int64] = [1, 7, 30, 31, 90, 180, 365, 400]

    @Test(arguments: [false, true]) func carriedWindowsEqualReadingEveryMonth(inclusive: Bool) throws {
        let functions: [AggregateFunction] = [.sum, .avg, .count]
        let months = try Months(needs: functions)
        let plans = [
            AggregatePlan(function: .sum, input: 0), AggregatePlan(function: .avg, input: 0), AggregatePlan(function: .count, input: 0),
            AggregatePlan(function: .sum, input: 1), AggregatePlan(function: .avg, input: 1), AggregatePlan(function: .count, input: 1),
            AggregatePlan(function: .countStar, input: nil),
        ]
        let (carried, carriedOverflow) = months.compute(plans, days: Self.days, inclusive: inclusive, carried: true)
        let (read, readOverflow) = months.compute(plans, days: Self.days, inclusive: inclusive, carried: false)
        // User 7's year sums past BIGINT in months the carries hold (their bounds refuse the wrapped difference).
        #expect(carriedOverflow != nil && carriedOverflow == readOverflow)
        var compared = 0, nan = 0, infinite = 0
        for (one, other) in zip(carried, read) {
            for row in 0..<one.rowCount {
                let a = one.value(row), b = other.value(row)
                if case .float(let x) = a, case .float(let y) = b {
                    #expect(x.bitPattern == y.bitPattern || (x.isNaN && y.isNaN), "row \(row): \(x) against \(y)")
                    if x.isNaN { nan += 1 } else if x.isInfinite { infinite += 1 }
                } else {
                    #expect(a == b, "row \(row): \(a) against \(b)")
                }
                compared += 1
            }
        }
        #expect(compared == Self.days.count * plans.count * Months.users * 121)
        // The refusals were exercised: NaN and infinities in months the long windows hold whole.
        #expect(nan > 1_000 && infinite > 0)
        // User 3's longest windows hold 10^20 and −10^20 in months between: the carried difference went
        // through them and is refused (both sides above read the same months one by one).
        let cutoff = Dates.dayNumber(yyyymmdd: 20170215)!
        var large = 0
        for run in months.runs {
            let (start, limit) = run.view.rows(entity: 3)
            for position in start..<limit where run.times[position] >= Int64(cutoff - 400) && run.times[position] < Int64(cutoff) {
                if Self.amount(run, position).magnitude == 1e20 { large += 1 }
            }
        }
        #expect(large == 2)
    }

    /// MIN and MAX beside carried sums: they still read every month; the sums come from the carries.
    @Test func extremesBesideCarriedSums() throws {
        let months = try Months(needs: [.sum, .max, .min])
        let plans = [AggregatePlan(function: .max, input: 0), AggregatePlan(function: .sum, input: 1), AggregatePlan(function: .min, input: 1)]
        let carried = months.compute(plans, days: Self.days, inclusive: false, carried: true).outputs
        let read = months.compute(plans, days: Self.days, inclusive: false, carried: false).outputs
        for (one, other) in zip(carried, read) {
            for row in 0..<one.rowCount {
                let a = one.value(row), b = other.value(row)
                if case .float(let x) = a, case .float(let y) = b {
                    #expect(x.bitPattern == y.bitPattern || (x.isNaN && y.isNaN))
                } else {
                    #expect(a == b)
                }
            }
        }
    }

    /// A run's amount at a position (the table keeps the values of a summed double).
    static func amount(_ run: PointInTimeEngine.EntityRuns, _ position: Int) -> Double { run.inputs[0].floats![position] }

    /// Batches by month of cutoff, each in entity order; every request once; ids outside the span last.
    @Test func monthBatchesAreOrderedPermutations() {
        var draws = TestRandom(state: 7)
        let days = (0..<5_000).map { _ in Int64(Dates.dayNumber(yyyymmdd: 20160101)! + draws.below(500)) }
        let entities = (0..<5_000).map { _ in Int64(draws.below(1_200)) - 100 }   // some below and above the span
        let requests = FeatureRequests(entities: entities, cutoffs: days)
        let (order, batches) = PointInTimeEngine.monthBatches(requests, span: (base: 0, count: 1_000))
        #expect(order.sorted() == Array(0..<5_000))
        #expect(batches.first?.lowerBound == 0 && batches.last?.upperBound == 5_000)
        var previousMonth = Int.min
        for (number, batch) in batches.enumerated() {
            if number > 0 { #expect(batch.lowerBound == batches[number - 1].upperBound) }
            let months = Set(order[batch].map { Dates.monthKey(dayNumber: Int(days[$0])) })
            #expect(months.count == 1 && months.first! > previousMonth)
            previousMonth = months.first!
            func key(_ request: Int) -> Int64 { (0..<1_000).contains(entities[request]) ? entities[request] : 1_000 }
            let keys = order[batch].map(key)
            #expect(keys == keys.sorted())
            // Stable: equal entities keep the requests' order.
            for (a, b) in zip(order[batch], order[batch].dropFirst()) where key(a) == key(b) { #expect(a < b) }
        }
        #expect(batches.count == Set(days.map { Dates.monthKey(dayNumber: Int($0)) }).count)
        #expect(PointInTimeEngine.monthBatches(FeatureRequests(entities: [], cutoffs: []), span: (0, 10)).batches.isEmpty)
    }
}
