import Foundation
import StrataTestSupport
import Testing
@testable import StrataFeatures
@testable import StrataFormat
@testable import StrataIngest
@testable import StrataQuery

/// Rows of a few entities as a run holds them (entity by entity), one input column.
private struct RunRows {
    var offsets: [Int32] = [0]
    var integers: [Int64] = []
    var floats: [Double] = []
    var valid: [Bool] = []

    /// Every range of whole rows of every entity, with the entity's first row.
    var ranges: [(start: Int, begin: Int, end: Int)] {
        var out: [(Int, Int, Int)] = []
        for entity in 0..<(offsets.count - 1) {
            let start = Int(offsets[entity]), limit = Int(offsets[entity + 1])
            for begin in start...limit { for end in begin...limit { out.append((start, begin, end)) } }
        }
        return out
    }

    /// Runs `body` with the input as the window loop sees it, and its prefixes.
    /// `table` false: ranges are scanned (`RunPrefixes` makes no table), with the same results.
    func withInput<T>(floats isFloat: Bool, needs: InputNeeds, table: Bool = true, _ body: (AggregateInput, PrefixView) -> T) -> T {
        integers.withUnsafeBufferPointer { integers in
            floats.withUnsafeBufferPointer { floats in
                valid.withUnsafeBufferPointer { valid in
                    let input = AggregateInput(integers: isFloat ? nil : integers.baseAddress, floats: isFloat ? floats.baseAddress : nil,
                                               valid: valid.baseAddress)
                    let prefixes = RunPrefixes(inputs: [input], offsets: offsets, needs: [needs], table: table)
                    #expect((prefixes.views[0].records != nil) == table)   // every use here has a sum or a count slot
                    return withExtendedLifetime(prefixes) { body(input, prefixes.views[0]) }
                }
            }
        }
    }
}

@Suite struct WindowPrefixTests {
    /// Values k · 2^-10 with |k| up to 2^53, big ones cancelling small ones: every partial sum is exact in
    /// double-double, so each window's SUM must be the exact sum correctly rounded — which a running
    /// double (the loop before prefix sums) or a plain double prefix gets wrong here.
    @Test func doubleSumsAreTheExactSumRounded() {
        var draws = TestRandom(state: 7)
        var rows = RunRows()
        var scaled: [Int64] = []
        for _ in 0..<12 {
            for _ in 0..<draws.below(24) {
                let big = draws.below(3) == 0
                let k = big ? Int64(1 << 52) + Int64(draws.below(1 << 20)) : Int64(draws.below(2000)) - 1000
                let signed = draws.below(2) == 0 ? k : -k
                scaled.append(signed)
                rows.floats.append(Double(signed) * 0x1p-10)
                rows.valid.append(draws.below(10) != 0)
            }
            rows.offsets.append(Int32(rows.floats.count))
        }
        rows.integers = [Int64](repeating: 0, count: rows.floats.count)
        var checked = 0, differsFromLoop = 0
        for table in [true, false] {
        rows.withInput(floats: true, needs: [.counts, .sums], table: table) { input, prefix in
            for (start, begin, end) in rows.ranges {
                var total = WindowTotal()
                // Two pieces, as a window over two runs adds them.
                let middle = (begin + end) / 2
                if begin < middle { total.addSum(input, prefix, start: start, begin, middle) }
                if middle < end { total.addSum(input, prefix, start: start, middle, end) }
                var exact: Int128 = 0, count = 0, loop = 0.0
                for row in begin..<end where rows.valid[row] {
                    exact += Int128(scaled[row])
                    count += 1
                    loop += rows.floats[row]
                }
                let expected: Scalar = count == 0 ? .null : .double(Double(exact) * 0x1p-10)
                #expect(total.result(.sum) == expected, "rows \(begin)..<\(end)")
                if count > 0 {
                    #expect(total.result(.avg) == .double(Double(exact) * 0x1p-10 / Double(count)))
                    if loop != Double(exact) * 0x1p-10 { differsFromLoop += 1 }
                }
                #expect(total.result(.count) == .integer(Int64(count)))
                checked += 1
            }
        }
        }
        #expect(checked > 2000)
        #expect(differsFromLoop > 100)   // the data do exercise cancellation
    }

    /// Integer SUM and AVG equal the scan's (`RangeAccumulator`), BIGINT overflow included: small values
    /// take the 64-bit prefixes, values near ±2^63 the 128-bit ones.
    @Test func integerSumsEqualTheScanIncludingOverflow() {
        for (seed, huge) in [(UInt64(1), false), (2, true)] {
            var draws = TestRandom(state: seed)
            var rows = RunRows()
            for _ in 0..<6 {
                for _ in 0..<draws.below(16) {
                    let value = huge && draws.below(2) == 0 ? Int64.max - Int64(draws.below(100)) : Int64(draws.below(1_000_000)) - 500_000
                    rows.integers.append(draws.below(4) == 0 ? -value : value)
                    rows.valid.append(draws.below(8) != 0)
                }
                rows.offsets.append(Int32(rows.integers.count))
            }
            rows.floats = [Double](repeating: 0, count: rows.integers.count)
            var overflows = 0
            for table in [true, false] {
            rows.withInput(floats: false, needs: [.counts, .sums], table: table) { input, prefix in
                if table { #expect(prefix.sumKind == (huge ? .wide : .narrow)) }
                for (start, begin, end) in rows.ranges {
                    for function in [AggregateFunction.sum, .avg, .count] {
                        var total = WindowTotal()
                        total.addSum(input, prefix, start: start, begin, end)
                        var scan = RangeAccumulator(function)
                        scan.add(input, begin, end)
                        #expect(total.result(function) == scan.result(), "\(function) of rows \(begin)..<\(end)")
                        #expect(total.overflowed == scan.overflowed)
                        if total.overflowed { overflows += 1 }
                    }
                }
            }
            }
            #expect((overflows > 0) == huge)
        }
    }

    /// NaN and infinities: a window holding them sums as SQL does (NaN wins; +∞ and −∞ make NaN); other
    /// windows of the same entity are unaffected; an overflowing running sum does not leak into windows
    /// after it.
    @Test func nanInfinityAndOverflowedPrefixes() {
        var rows = RunRows()
        rows.floats = [1, .nan, 2, 3,   .infinity, 4, -.infinity, 5,   1e308, 1e308, -1e308, 6, 7]
        rows.offsets = [0, 4, 8, 13]
        rows.valid = [Bool](repeating: true, count: rows.floats.count)
        rows.integers = [Int64](repeating: 0, count: rows.floats.count)
        for table in [true, false] {
        rows.withInput(floats: true, needs: [.counts, .sums], table: table) { input, prefix in
            #expect((prefix.nonFinite != nil) == table)
            func sum(_ start: Int, _ begin: Int, _ end: Int) -> Scalar {
                var total = WindowTotal()
                total.addSum(input, prefix, start: start, begin, end)
                return total.result(.sum)
            }
            #expect(sum(0, 0, 2).isNaNDouble && sum(0, 1, 4).isNaNDouble)
            #expect(sum(0, 2, 4) == .double(5))
            #expect(sum(4, 4, 6) == .double(.infinity) && sum(4, 5, 7) == .double(-.infinity))
            #expect(sum(4, 4, 7).isNaNDouble)
            #expect(sum(4, 7, 8) == .double(5))
            #expect(sum(8, 8, 10) == .double(.infinity))
            #expect(sum(8, 10, 13) == .double(-1e308 + 13))
            #expect(sum(8, 11, 13) == .double(13))
        }
        }
    }

    /// A window after a large value in the same month: its own small values, and values that cancel
    /// (a purchase and its refund), come out as the window's rows alone give them — not off by the
    /// table's error relative to the large running sum.
    @Test func smallWindowsAfterALargeValue() {
        var rows = RunRows()
        rows.floats = [5.3e15, 0.614, 35.108, -35.108, 1e-6, 1e12, 3.5]
        rows.offsets = [0, 7]
        rows.valid = [Bool](repeating: true, count: rows.floats.count)
        rows.integers = [Int64](repeating: 0, count: rows.floats.count)
        for table in [true, false] {
            rows.withInput(floats: true, needs: [.counts, .sums], table: table) { input, prefix in
                func sum(_ begin: Int, _ end: Int) -> Scalar {
                    var total = WindowTotal()
                    total.addSum(input, prefix, start: 0, begin, end)
                    return total.result(.sum)
                }
                #expect(sum(1, 2) == .double(0.614))
                #expect(sum(2, 4) == .double(0))
                #expect(sum(1, 4) == .double(0.614))
                #expect(sum(4, 5) == .double(1e-6))
                #expect(sum(4, 7) == .double(exactSum([1e-6, 1e12, 3.5])))
                #expect(sum(0, 7) == .double(exactSum(rows.floats)))
            }
        }
    }

    /// MIN and MAX from a run's per-entity extremes equal the scan's, NaN last and NULLs skipped.
    @Test func wholeRunExtremesEqualTheScan() {
        var draws = TestRandom(state: 3)
        var rows = RunRows()
        for _ in 0..<40 {
            for _ in 0..<draws.below(6) {
                rows.integers.append(Int64(draws.below(100)) - 50)
                rows.floats.append(draws.below(7) == 0 ? .nan : Double(draws.below(100)) - 50.5)
                rows.valid.append(draws.below(5) != 0)
            }
            rows.offsets.append(Int32(rows.integers.count))
        }
        for isFloat in [false, true] {
            for table in [true, false] {
            rows.withInput(floats: isFloat, needs: [.counts, .extremes, .values], table: table) { input, prefix in
                for entity in 0..<(rows.offsets.count - 1) {
                    let start = Int(rows.offsets[entity]), limit = Int(rows.offsets[entity + 1])
                    for function in [AggregateFunction.min, .max] {
                        var folded = RangeAccumulator(function), scan = RangeAccumulator(function)
                        let rowsCounted = prefix.count(input, start: start, start, limit)
                        if isFloat {
                            folded.foldExtreme((function == .min ? prefix.floatMin! : prefix.floatMax!)[entity], rows: rowsCounted)
                        } else {
                            folded.foldExtreme((function == .min ? prefix.integerMin! : prefix.integerMax!)[entity], rows: rowsCounted)
                        }
                        scan.add(input, start, limit)
                        let (a, b) = (folded.result(), scan.result())
                        #expect(a == b || (a.isNaNDouble && b.isNaNDouble), "\(function) of entity \(entity)")
                    }
                }
            }
            }
        }
    }

    /// Every window function over windows from 1 to 365 days — windows that hold whole months, parts of
    /// months and nothing — against a brute-force evaluation of the CSVs, row by label row.
    @Test func longWindowsEqualBruteForce() throws {
        let directory = try generatedCSVs(members: 250, months: 15, labelMonths: 4, activity: 1.5)
        let store = directory + "/db"
        try makeStore(from: directory, at: store)
        let days = [1, 7, 30, 90, 180, 365]
        let view = directory + "/long.yaml"
        try """
        name: long
        entity: msno
        features:
          - window: {source: user_logs, time: date, days: [\(days.map(String.init).joined(separator: ", "))]}
            aggregates:
              - {name: "w{days}_secs", function: sum, column: total_secs}
              - {name: "w{days}_secs_mean", function: mean, column: total_secs}
              - {name: "w{days}_unq", function: sum, column: num_unq}
              - {name: "w{days}_unq_min", function: min, column: num_unq}
              - {name: "w{days}_secs_max", function: max, column: total_secs}
              - {name: "w{days}_unq_distinct", function: count_distinct, column: num_unq}
              - {name: "w{days}_days", function: count}
              - {name: "w{days}_heavy", function: count, filter: "num_100 > 10"}
              - {name: "w{days}_n100_heavy", function: sum, column: num_100, filter: "num_100 > 10"}
        """.write(toFile: view, atomically: true, encoding: .utf8)
        _ = try TrainingSetBuilder.build(storePath: store, request: TrainingSetRequest(featuresFile: view, labelsTable: "labels", outputTable: "long"))

        let logs = try userLogs(directory)
        let names = try header(store, "long")
        let cells = try tableCells(store, "long")
        #expect(cells.count >= 400)
        var compared = 0, wholeYear = 0
        for row in cells {
            let cutoff = Dates.dayNumber(yyyymmdd: Int(row[1])!)!
            let value = Dictionary(uniqueKeysWithValues: zip(names, row))
            for length in days {
                let window = (logs[row[0]] ?? []).filter { $0.day >= cutoff - length && $0.day < cutoff }
                if length == 365 && window.count > 100 { wholeYear += 1 }
                func cell(_ name: String) -> String { value["w\(length)_\(name)"]! }
                let secs = exactSum(window.map(\.secs))
                if window.isEmpty {
                    #expect(cell("secs") == "NULL" && cell("secs_mean") == "NULL" && cell("unq") == "NULL" && cell("unq_min") == "NULL")
                    #expect(cell("secs_max") == "NULL" && cell("unq_distinct") == "0" && cell("days") == "0")
                } else {
                    #expect(Double(cell("secs"))! == secs, "\(row[0]) \(row[1]) w\(length)_secs")
                    #expect(Double(cell("secs_mean"))! == secs / Double(window.count))
                    #expect(cell("unq") == String(window.reduce(0) { $0 + $1.unq }))
                    #expect(cell("unq_min") == String(window.map(\.unq).min()!))
                    #expect(Double(cell("secs_max"))! == window.map(\.secs).max()!)
                    #expect(cell("unq_distinct") == String(Set(window.map(\.unq)).count))
                    #expect(cell("days") == String(window.count))
                }
                let heavy = window.filter { $0.num100 > 10 }
                #expect(cell("heavy") == String(heavy.count))
                #expect(cell("n100_heavy") == (heavy.isEmpty ? "NULL" : String(heavy.reduce(0) { $0 + $1.num100 })))
                compared += 1
            }
        }
        #expect(compared == cells.count * days.count)
        #expect(wholeYear > 50)   // windows that span a year of partitions
    }
}

extension WindowPrefixTests {
    /// A string has one code in every month: COUNT(DISTINCT) over a window spanning two partitions counts
    /// "Paris" in January and "London" in February as two cities (each month alone codes its first city 0).
    @Test func distinctStringsAcrossMonths() throws {
        let user = "User1xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx="
        let (directory, store) = try fixtureStore(tickets: """
        msno,day,city
        \(user),20170110,Paris
        \(user),20170120,Paris
        \(user),20170205,London
        \(user),20170206,Rome
        """, column: "{name: city, type: string}")
        let view = directory + "/cities.yaml"
        try """
        name: cities
        entity: msno
        features:
          - window: {source: tickets, time: day, days: [60]}
            aggregates:
              - {name: "cities{days}", function: count_distinct, column: city}
        """.write(toFile: view, atomically: true, encoding: .utf8)
        _ = try TrainingSetBuilder.build(storePath: store, request: TrainingSetRequest(featuresFile: view, labelsTable: "labels", outputTable: "cities"))
        let rows = try tableCells(store, "cities")
        let march = try #require(rows.first { $0[0] == user && $0[1] == "20170301" })
        #expect(march.last == "3")   // Paris, London, Rome
        let february = try #require(rows.first { $0[0] == user && $0[1] == "20170201" })
        #expect(february.last == "1")   // Paris only
    }

    /// NULLs in a window's column, and a filter: counts and sums skip them (through the tables' count
    /// slots, with the values released where only sums read them), MIN sees the rest, a user whose values
    /// are all NULL gets NULL sums and a zero count.
    @Test func nullsAndFiltersInWindows() throws {
        let one = "User1xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx=", two = "User2xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx="
        let (directory, store) = try fixtureStore(tickets: """
        msno,day,minutes
        \(one),20170110,10
        \(one),20170120,
        \(one),20170205,3
        \(one),20170206,
        \(two),20170115,
        """, column: "{name: minutes, type: int64, nullable: true}")
        let view = directory + "/minutes.yaml"
        try """
        name: minutes
        entity: msno
        features:
          - window: {source: tickets, time: day, days: [30, 60]}
            aggregates:
              - {name: "sum{days}", function: sum, column: minutes}
              - {name: "count{days}", function: count, column: minutes}
              - {name: "mean{days}", function: mean, column: minutes}
              - {name: "min{days}", function: min, column: minutes}
              - {name: "rows{days}", function: count}
              - {name: "long{days}", function: count, filter: "minutes > 5"}
              - {name: "long_sum{days}", function: sum, column: minutes, filter: "minutes > 5"}
        """.write(toFile: view, atomically: true, encoding: .utf8)
        _ = try TrainingSetBuilder.build(storePath: store, request: TrainingSetRequest(featuresFile: view, labelsTable: "labels", outputTable: "minutes"))
        let names = try header(store, "minutes")
        let rows = try tableCells(store, "minutes")
        func row(_ user: String, _ cutoff: String) throws -> [String] {
            let found = try #require(rows.first { $0[0] == user && $0[1] == cutoff })
            return names.indices.filter { names[$0].hasSuffix("30") || names[$0].hasSuffix("60") }.map { found[$0] }
        }
        // Per window: sum, count, mean, min, rows, long, long_sum (30 days, then 60).
        #expect(try row(one, "20170301") == ["3", "1", "3.0", "3", "2", "0", "NULL", "13", "2", "6.5", "3", "4", "1", "10"])
        #expect(try row(one, "20170201") == ["10", "1", "10.0", "10", "2", "1", "10", "10", "1", "10.0", "10", "2", "1", "10"])
        #expect(try row(two, "20170201") == ["NULL", "0", "NULL", "NULL", "1", "0", "NULL", "NULL", "0", "NULL", "NULL", "1", "0", "NULL"])
    }

    /// Cutoffs on any day of the month, both semantics, and 9,000 label rows in one month (the window
    /// loop then splits a month's requests over two threads): every window against brute force.
    @Test(arguments: [false, true]) func midMonthCutoffsEqualBruteForce(inclusive: Bool) throws {
        let directory = try generatedCSVs(members: 200, months: 14, labelMonths: 2)
        // Labels of our own: random members at random days of 2016-11 (most) and of 2016-06..2017-02.
        let members = try String(contentsOfFile: directory + "/members.csv", encoding: .utf8).split(separator: "\n").dropFirst()
            .map { String($0.split(separator: ",", omittingEmptySubsequences: false)[0]) }
        var draws = TestRandom(state: inclusive ? 11 : 12)
        var labels = "msno,cutoff_date,is_churn\n"
        for index in 0..<10_000 {
            let month = index < 9_000 ? 11 : 6 + draws.below(9)
            let (year, monthOfYear) = month > 12 ? (2017, month - 12) : (2016, month)
            labels += "\(members[draws.below(members.count)]),\(year * 10_000 + monthOfYear * 100 + 1 + draws.below(28)),0\n"
        }
        try labels.write(toFile: directory + "/labels.csv", atomically: true, encoding: .utf8)
        let store = directory + "/db"
        try makeStore(from: directory, at: store)
        let days = [1, 9, 30, 200]
        let view = directory + "/mid.yaml"
        try """
        name: mid
        entity: msno
        features:
          - window: {source: user_logs, time: date, days: [\(days.map(String.init).joined(separator: ", "))]}
            aggregates:
              - {name: "w{days}_secs", function: sum, column: total_secs}
              - {name: "w{days}_unq", function: sum, column: num_unq}
              - {name: "w{days}_unq_max", function: max, column: num_unq}
              - {name: "w{days}_days", function: count}
        """.write(toFile: view, atomically: true, encoding: .utf8)
        var request = TrainingSetRequest(featuresFile: view, labelsTable: "labels", outputTable: "mid")
        request.inclusive = inclusive
        _ = try TrainingSetBuilder.build(storePath: store, request: request)

        let logs = try userLogs(directory)
        let names = try header(store, "mid")
        let cells = try tableCells(store, "mid")
        #expect(cells.count == 10_000)
        var partial = 0
        for row in cells {
            let cutoff = Dates.dayNumber(yyyymmdd: Int(row[1])!)!
            let value = Dictionary(uniqueKeysWithValues: zip(names, row))
            for length in days {
                let window = (logs[row[0]] ?? []).filter { $0.day >= cutoff - length && (inclusive ? $0.day <= cutoff : $0.day < cutoff) }
                if window.contains(where: { $0.day == cutoff }) { partial += 1 }
                func cell(_ name: String) -> String { value["w\(length)_\(name)"]! }
                #expect(cell("days") == String(window.count), "\(row[0]) \(row[1]) w\(length)")
                if window.isEmpty {
                    #expect(cell("secs") == "NULL" && cell("unq") == "NULL" && cell("unq_max") == "NULL")
                } else {
                    #expect(Double(cell("secs"))! == exactSum(window.map(\.secs)), "\(row[0]) \(row[1]) w\(length)_secs")
                    #expect(cell("unq") == String(window.reduce(0) { $0 + $1.unq }))
                    #expect(cell("unq_max") == String(window.map(\.unq).max()!))
                }
            }
        }
        #expect(partial > 0 || !inclusive)   // inclusive windows do take the cutoff day's rows
    }
}

/// One row of a generated user_logs.csv, as the brute-force checks read it.
private struct Log {
    let day: Int
    let num100: Int64
    let unq: Int64
    let secs: Double
}

/// A dataset's user_logs.csv by msno.
private func userLogs(_ directory: String) throws -> [String: [Log]] {
    var logs: [String: [Log]] = [:]
    for line in try String(contentsOfFile: directory + "/user_logs.csv", encoding: .utf8).split(separator: "\n").dropFirst() {
        let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        logs[f[0], default: []].append(Log(day: Dates.dayNumber(yyyymmdd: Int(f[1])!)!, num100: Int64(f[6])!, unq: Int64(f[7])!, secs: Double(f[8])!))
    }
    return logs
}

/// The store of fixtures/w1 with a table of one's own, `tickets` (msno, day, and `column`), partitioned
/// by day, from the CSV text `tickets`.
private func fixtureStore(tickets: String, column: String) throws -> (directory: String, store: String) {
    let directory = temporaryDirectory()
    try copyFixtures(to: directory)
    let store = directory + "/db"
    try makeStore(from: directory, at: store)
    try tickets.write(toFile: directory + "/tickets.csv", atomically: true, encoding: .utf8)
    var options = IngestOptions()
    options.forcedTable = "tickets"
    options.customSchema = try CustomTableSchema.parse("""
    columns:
      - {name: msno, type: entity}
      - {name: day, type: date}
      - \(column)
    partition_by: day
    """, file: "tickets.yaml")
    _ = try Ingester.ingest(store: store, files: [directory + "/tickets.csv"], options: options)
    return (directory, store)
}

/// The exact sum of doubles, correctly rounded (Shewchuk's non-overlapping partials, as Python's fsum).
func exactSum(_ values: [Double]) -> Double {
    var partials: [Double] = []
    for value in values {
        var x = value
        var kept = 0
        for partial in partials {
            var y = partial
            if abs(x) < abs(y) { swap(&x, &y) }
            let high = x + y
            let low = y - (high - x)
            if low != 0 {
                partials[kept] = low
                kept += 1
            }
            x = high
        }
        partials.removeSubrange(kept...)
        partials.append(x)
    }
    // Round the partials once: add from the largest, stopping where the rest cannot change the result
    // (with the half-way correction of fsum).
    var index = partials.count - 1
    guard index >= 0 else { return 0 }
    var high = partials[index]
    var low = 0.0
    while index > 0 {
        index -= 1
        let x = high, y = partials[index]
        high = x + y
        low = y - (high - x)
        if low != 0 { break }
    }
    if index > 0 && ((low < 0 && partials[index - 1] < 0) || (low > 0 && partials[index - 1] > 0)) {
        let y = low * 2
        let x = high + y
        if y == x - high { high = x }
    }
    return high
}

extension Scalar {
    var isNaNDouble: Bool {
        if case .double(let value) = self { return value.isNaN }
        return false
    }
}
