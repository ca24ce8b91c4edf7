import StrataFormat
import Testing
@testable import StrataTrain

/// How `strata train` divides rows: nothing that tests may train or choose the stopping round.
@Suite struct SplitTests {
    /// `users` users, one row per user and cutoff month; every `churnEvery`-th user churns.
    func dataset(users: Int, months: [Int], churnEvery: Int = 7) -> Dataset {
        var labels: [Double] = []
        var cutoffs: [Int64] = []
        var entities: [Int64] = []
        for month in months {
            for user in 0..<users {
                labels.append(user % churnEvery == 0 ? 1 : 0)
                cutoffs.append(Int64(Dates.dayNumber(yyyymmdd: month)!))
                entities.append(Int64(user))
            }
        }
        return Dataset(featureNames: ["x"], features: [labels.indices.map(Double.init)], categorical: [false], categoryNames: [[]],
                       labels: labels, cutoffs: cutoffs, entities: entities)
    }

    func users(_ data: Dataset, _ rows: [Int]) -> Set<Int64> { Set(rows.map { data.entities[$0] }) }
    func churnRate(_ data: Dataset, _ rows: [Int]) -> Double { rows.reduce(0) { $0 + data.labels[$1] } / Double(rows.count) }

    @Test func oneCutoffSplitsByUserAtRandomStratifiedByLabel() throws {
        let data = dataset(users: 1_000, months: [20_170_201])
        let parts = try data.split(SplitPlan(), needsValidation: false)
        #expect(parts.kind == .random)
        #expect(parts.valid.isEmpty)
        #expect(Set(parts.train).isDisjoint(with: parts.test) && parts.train.count + parts.test.count == data.rowCount)
        // 20% of the churners and 20% of the others, so both sides keep the churn rate (143 of 1,000 churn).
        #expect(parts.test.count == 200)
        #expect(parts.test.filter { data.labels[$0] == 1 }.count == 29)
        #expect(abs(churnRate(data, parts.test) - churnRate(data, parts.train)) < 0.01)
        // The same seed gives the same split; another seed another one.
        #expect(try data.split(SplitPlan(), needsValidation: false).test == parts.test)
        var other = SplitPlan()
        other.seed = 7
        #expect(try data.split(other, needsValidation: false).test != parts.test)
    }

    @Test func aUsersRowsStayOnOneSide() throws {
        // Two rows per user on one cutoff month (e.g. two label files for the same month).
        let data = dataset(users: 500, months: [20_170_201, 20_170_215])
        var plan = SplitPlan()
        plan.kind = .random
        let parts = try data.split(plan, needsValidation: true)
        #expect(users(data, parts.train).isDisjoint(with: users(data, parts.test)))
        #expect(users(data, parts.train).isDisjoint(with: users(data, parts.valid)))
        #expect(users(data, parts.valid).isDisjoint(with: users(data, parts.test)))
        #expect(parts.train.count + parts.valid.count + parts.test.count == data.rowCount)
        #expect(users(data, parts.test).count == 100 && users(data, parts.valid).count == 80)
    }

    @Test func manyCutoffsTestTheLastMonthAndValidateTheOneBefore() throws {
        let data = dataset(users: 100, months: [20_161_101, 20_161_201, 20_170_101, 20_170_201])
        let plain = try data.split(SplitPlan(), needsValidation: false)
        #expect(plain.kind == .time && plain.testFrom == "2017-02-01" && plain.validFrom == nil)
        #expect(plain.test.count == 100 && plain.train.count == 300 && plain.valid.isEmpty)
        // With early stopping the month before the test month validates; it no longer trains.
        let stopping = try data.split(SplitPlan(), needsValidation: true)
        #expect(stopping.validFrom == "2017-01-01" && stopping.valid.count == 100 && stopping.train.count == 200 && stopping.test.count == 100)
        #expect(stopping.train.allSatisfy { data.cutoffs[$0] < data.cutoffs[stopping.valid[0]] })
        #expect(stopping.valid.allSatisfy { data.cutoffs[$0] < data.cutoffs[stopping.test[0]] })
        // Explicit boundaries.
        var plan = SplitPlan()
        plan.testFrom = Int64(Dates.dayNumber(yyyymmdd: 20_170_101)!)
        plan.validFrom = Int64(Dates.dayNumber(yyyymmdd: 20_161_201)!)
        let explicit = try data.split(plan, needsValidation: true)
        #expect(explicit.train.count == 100 && explicit.valid.count == 100 && explicit.test.count == 200)
        // Without early stopping --valid-from alone marks the held-out rows, as before the test set existed.
        var legacy = SplitPlan()
        legacy.validFrom = Int64(Dates.dayNumber(yyyymmdd: 20_170_101)!)
        #expect(try data.split(legacy, needsValidation: false).test.count == 200)
    }

    @Test func twoCutoffsWithEarlyStoppingValidateOnSomeUsersOfTheEarlierMonth() throws {
        let data = dataset(users: 500, months: [20_170_201, 20_170_301])
        let parts = try data.split(SplitPlan(), needsValidation: true)
        #expect(parts.kind == .time && parts.test.count == 500)
        #expect(parts.valid.count == 100 && parts.train.count == 400)
        #expect((parts.train + parts.valid).allSatisfy { data.cutoffs[$0] < data.cutoffs[parts.test[0]] })
        #expect(users(data, parts.train).isDisjoint(with: users(data, parts.valid)))
    }

    @Test func impossibleSplitsSayWhy() throws {
        let one = dataset(users: 50, months: [20_170_201])
        var time = SplitPlan()
        time.kind = .time
        #expect(throws: TrainError("no rows with a cutoff before 2017-02-01 to train on (the training set has one cutoff: use --split random)")) {
            try one.split(time, needsValidation: false)
        }
        var late = SplitPlan()
        late.testFrom = Int64(Dates.dayNumber(yyyymmdd: 20_170_301)!)
        #expect(throws: TrainError("no rows with a cutoff from 2017-03-01 on to test with (the cutoff months are 2017-02-01)")) { try one.split(late, needsValidation: false) }
        let tiny = dataset(users: 2, months: [20_170_201])
        #expect(throws: TrainError.self) { try tiny.split(SplitPlan(), needsValidation: true) }
        var order = SplitPlan()
        order.testFrom = Int64(Dates.dayNumber(yyyymmdd: 20_170_201)!)
        order.validFrom = Int64(Dates.dayNumber(yyyymmdd: 20_170_301)!)
        let two = dataset(users: 50, months: [20_170_101, 20_170_201])
        #expect(throws: TrainError("--valid-from 2017-03-01 must come before the test rows (2017-02-01)")) { try two.split(order, needsValidation: true) }
    }
}

/// Bin bounds stay strictly ascending whatever the values: infinities (a derived feature's 1/0) and
/// neighbours whose sum overflows used to give `[…, inf, inf]`, which the model file then refused.
@Test func binBoundsAscendWithInfinitiesAndHugeValues() {
    let values: [Double] = [1, 2, .infinity, -.infinity, 1e308, .greatestFiniteMagnitude, .nan, 2, 1]
    let mapper = BinMapper(values: values, rows: Array(values.indices), isCategorical: false)
    #expect(zip(mapper.upperBounds, mapper.upperBounds.dropFirst()).allSatisfy { $0 < $1 }, "\(mapper.upperBounds)")
    #expect(mapper.upperBounds.last == .infinity)
    // Every distinct value has a bin of its own, in order.
    let bins = [-Double.infinity, 1, 2, 1e308, .greatestFiniteMagnitude, .infinity].map { mapper.bin($0) }
    #expect(bins == bins.sorted() && Set(bins).count == bins.count, "\(bins)")
    #expect(mapper.bin(.nan) == mapper.missingBin)
}
