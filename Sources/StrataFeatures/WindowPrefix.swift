import StrataQuery

/// What the aggregates reading one run input need besides a scan of the window's rows.
struct InputNeeds: OptionSet, Sendable {
    let rawValue: UInt8
    /// COUNT, SUM, AVG: how many rows of a range count.
    static let counts = InputNeeds(rawValue: 1)
    /// SUM, AVG: the sum of a range.
    static let sums = InputNeeds(rawValue: 2)
    /// MIN, MAX: each entity's extreme over the whole run (a window covering the run reads it).
    static let extremes = InputNeeds(rawValue: 4)
    /// MIN, MAX (windows holding part of a run), COUNT(DISTINCT): the values themselves, scanned.
    static let values = InputNeeds(rawValue: 8)

    static func of(_ function: AggregateFunction) -> InputNeeds {
        switch function {
        case .count, .countStar: return .counts
        case .sum, .avg: return [.counts, .sums]
        case .min, .max: return [.counts, .extremes, .values]
        case .countDistinct: return .values
        }
    }
}

/// Prefix sums of a run's inputs (the run's rows in entity-then-time order), so that COUNT, SUM and AVG
/// over any range of an entity's rows are at most two reads whatever the range's length, and each
/// entity's MIN and MAX over the whole run. Built once per run, read by every request of its months.
///
/// One table, row-major: row i holds, for each input that needs them, the entity's running count and sum
/// through row i (inclusive; restarting at each entity). A range `begin..<end` is the record of row
/// end − 1 minus that of row begin − 1 (nothing when begin is the entity's first row), so a window that
/// holds all of an entity's rows in the run reads one record — one cache line for every input at once.
///
/// - COUNT: rows that count (not NULL, passing the filter); no slot when every row counts.
/// - SUM of integers: `Int64` when the run's Σ|v| fits in BIGINT (a wrapping difference is then exact:
///   no range can leave BIGINT), else `Int128` (two slots).
/// - SUM of doubles: double-double (the running double and the sum of its rounding errors, each exact by
///   TwoSum), over the finite values. The window adds its ranges in double-double and rounds once.
///   Ranges holding NaN or ±∞ (counted in `nonFinite`, there only when the run has some), ranges whose
///   prefix overflowed, and ranges whose sum is below 2^-40 of the running sums around them (they
///   cancel: the table's error, about 2^-106 of those sums, could reach the result's last bits) are
///   summed row by row instead, with the same arithmetic. So the error before the one rounding stays
///   below about 2^-60 of the result.
///
/// The table replaces the values where no aggregate scans them (`keepsValues` false): an integer input
/// only summed or counted costs about what its values did; a double summed keeps its values (for the
/// ranges that cancel) beside its 16 bytes a row of table.
final class RunPrefixes {
    private let owned: [UnsafeMutableRawPointer]
    let views: [PrefixView]
    /// Per input: whether scans still read its values and validity (MIN/MAX of part of a run,
    /// COUNT(DISTINCT), doubles summed row by row).
    let keepsValues: [Bool]
    /// Per input: rows × (the largest |v| + 1) of a summed integer (a bound on the magnitude of any of
    /// its sums in this run, for carries over runs: `RunCarries.bounds`), 0 for the others.
    let sumBounds: [Double]

    /// `table` false (for the tests): no table, every range is scanned with the same arithmetic. Scanning
    /// is what a table saves even when users hold only a dozen rows a month: measured on W1 with
    /// 180- and 365-day windows (users with about 15 rows a month), scanning took a third longer.
    init(inputs: [AggregateInput], offsets: [Int32], needs: [InputNeeds], table: Bool = true) {
        let rowCount = Int(offsets.last ?? 0)
        let entities = offsets.count - 1
        var owned: [UnsafeMutableRawPointer] = []
        func allocate<T>(_ type: T.Type, _ count: Int) -> UnsafeMutablePointer<T> {
            let pointer = UnsafeMutablePointer<T>.allocate(capacity: max(1, count))
            owned.append(UnsafeMutableRawPointer(pointer))
            return pointer
        }
        var views = inputs.map { _ in PrefixView() }
        // Without a table, ranges are scanned; a double summed keeps its values for the ranges that cancel.
        var keeps = inputs.indices.map { index in
            needs[index].contains(.values) || (!table && !needs[index].isDisjoint(with: [.counts, .sums]))
                || (needs[index].contains(.sums) && inputs[index].floats != nil)
        }
        // Slots: a count where validity matters, a sum of the input's kind.
        var stride = 0
        var sumBounds = [Double](repeating: 0, count: inputs.count)
        for (index, input) in inputs.enumerated() where table {
            if needs[index].contains(.counts) || needs[index].contains(.sums), input.valid != nil {
                views[index].countSlot = stride
                stride += 1
            }
            guard needs[index].contains(.sums) else { continue }
            if let values = input.integers {
                // Narrow when rows × the largest |v| fits in BIGINT (a bound on Σ|v|). The OR of
                // v ^ (v >> 63) (|v|, or |v| − 1 for negatives) bounds |v| − 1 in a pass that vectorises.
                var bits: UInt64 = 0
                for row in 0..<rowCount {
                    let value = values[row]
                    bits |= UInt64(bitPattern: value ^ (value >> 63))
                }
                let narrow = UInt64(rowCount) <= UInt64(Int64.max) / (bits + 1)
                sumBounds[index] = Double(rowCount) * (Double(bits) + 1)
                views[index].sumKind = narrow ? .narrow : .wide
                views[index].sumSlot = stride
                stride += narrow ? 1 : 2
            } else if input.floats != nil {
                views[index].sumKind = .double
                views[index].sumSlot = stride
                stride += 2
            }
        }
        if stride > 0 {
            let records = allocate(Int64.self, rowCount * stride)
            let nonFinite: [UnsafeMutablePointer<Int32>?] = views.map { $0.sumSlot >= 0 && $0.sumKind == .double ? .allocate(capacity: rowCount + 1) : nil }
            var special = [Int32](repeating: 0, count: inputs.count)
            var overflowed = [Bool](repeating: false, count: inputs.count)
            // Entity by entity, every input in turn: an entity's records stay in cache while each input
            // writes its slots, so the table is written once.
            for entity in 0..<entities {
                let rows = Int(offsets[entity])..<Int(offsets[entity + 1])
                guard !rows.isEmpty else { continue }
                for (index, input) in inputs.enumerated() {
                    let view = views[index]
                    if view.countSlot >= 0, let valid = input.valid {
                        let slot = records + view.countSlot
                        var count: Int64 = 0
                        for row in rows {
                            if valid[row] { count &+= 1 }
                            slot[row * stride] = count
                        }
                    }
                    guard view.sumSlot >= 0 else { continue }
                    let slot = records + view.sumSlot
                    switch view.sumKind {
                    case .narrow:
                        let values = input.integers!
                        var sum: Int64 = 0
                        if let valid = input.valid {
                            for row in rows {
                                if valid[row] { sum &+= values[row] }
                                slot[row * stride] = sum
                            }
                        } else {
                            for row in rows {
                                sum &+= values[row]
                                slot[row * stride] = sum
                            }
                        }
                    case .wide:
                        let values = input.integers!
                        var sum: Int128 = 0
                        for row in rows {
                            if input.counts(row) { sum += Int128(values[row]) }
                            slot[row * stride] = Int64(truncatingIfNeeded: sum)
                            slot[row * stride + 1] = Int64(truncatingIfNeeded: sum >> 64)
                        }
                    case .double:
                        // The running sum and, beside it, the sum of its rounding errors (each exact, by
                        // TwoSum): a double-double left unnormalised, so that the chain from row to row is
                        // one addition.
                        let values = input.floats!, marks = nonFinite[index]!
                        var high = 0.0, low = 0.0
                        for row in rows {
                            marks[row] = special[index]
                            if input.counts(row) {
                                let value = values[row]
                                if value.isFinite {
                                    let (sum, error) = DoubleDouble.twoSum(high, value)
                                    low += error
                                    high = sum
                                } else {
                                    special[index] &+= 1
                                }
                            }
                            slot[row * stride] = Int64(bitPattern: high.bitPattern)
                            slot[row * stride + 1] = Int64(bitPattern: low.bitPattern)
                        }
                        if !high.isFinite || !low.isFinite { overflowed[index] = true }
                    }
                }
            }
            for index in views.indices {
                views[index].records = UnsafePointer(records)
                views[index].stride = stride
                guard let marks = nonFinite[index] else { continue }
                marks[rowCount] = special[index]
                // Kept only when the run has NaN, ±∞ or an overflowed prefix: then ranges holding them are scanned.
                if special[index] > 0 || overflowed[index] {
                    owned.append(UnsafeMutableRawPointer(marks))
                    views[index].nonFinite = UnsafePointer(marks)
                    keeps[index] = true
                } else {
                    marks.deallocate()
                }
            }
        }
        for (index, input) in inputs.enumerated() where needs[index].contains(.extremes) {
            if let values = input.integers {
                let low = allocate(Int64.self, entities), high = allocate(Int64.self, entities)
                for entity in 0..<entities {
                    var smallest = Int64.max, largest = Int64.min
                    for row in Int(offsets[entity])..<Int(offsets[entity + 1]) where input.counts(row) {
                        smallest = min(smallest, values[row])
                        largest = max(largest, values[row])
                    }
                    low[entity] = smallest
                    high[entity] = largest
                }
                views[index].integerMin = UnsafePointer(low)
                views[index].integerMax = UnsafePointer(high)
            } else if let values = input.floats {
                let low = allocate(Double.self, entities), high = allocate(Double.self, entities)
                for entity in 0..<entities {
                    var smallest = 0.0, largest = 0.0, seen = false
                    for row in Int(offsets[entity])..<Int(offsets[entity + 1]) where input.counts(row) {
                        let value = values[row]
                        if !seen || AggregateMath.less(value, smallest) { smallest = value }
                        if !seen || AggregateMath.less(largest, value) { largest = value }
                        seen = true
                    }
                    low[entity] = smallest
                    high[entity] = largest
                }
                views[index].floatMin = UnsafePointer(low)
                views[index].floatMax = UnsafePointer(high)
            }
        }
        self.owned = owned
        self.views = views
        keepsValues = keeps
        self.sumBounds = sumBounds
    }

    deinit {
        for pointer in owned { pointer.deallocate() }
    }
}

/// One input's part of a `RunPrefixes` table, as raw pointers for the hot loop.
struct PrefixView: @unchecked Sendable {
    enum SumKind: UInt8 { case narrow, wide, double }

    var records: UnsafePointer<Int64>?
    var stride = 0
    /// The input's slots in a record; -1 when it has none.
    var countSlot = -1
    var sumSlot = -1
    var sumKind = SumKind.narrow
    /// Counted NaN and ±∞ before each row (exclusive, over the run); nil when the run has none.
    var nonFinite: UnsafePointer<Int32>?
    var integerMin: UnsafePointer<Int64>?
    var integerMax: UnsafePointer<Int64>?
    var floatMin: UnsafePointer<Double>?
    var floatMax: UnsafePointer<Double>?

    /// Rows of `begin..<end` of `input` that count, for an entity whose rows start at `start`.
    @inline(__always) func count(_ input: AggregateInput, start: Int, _ begin: Int, _ end: Int) -> Int {
        guard begin < end else { return 0 }
        guard countSlot >= 0, let records else { return Self.scanCount(input, begin, end) }
        let last = records[(end - 1) * stride + countSlot]
        return Int(begin > start ? last &- records[(begin - 1) * stride + countSlot] : last)
    }
}

extension PrefixView {
    /// Rows of `begin..<end` that count, by reading the validity.
    @inline(__always) static func scanCount(_ input: AggregateInput, _ begin: Int, _ end: Int) -> Int {
        guard let valid = input.valid else { return max(0, end - begin) }
        var count = 0
        for row in begin..<end where valid[row] { count &+= 1 }
        return count
    }
}

/// A double-double: the unevaluated sum high + low, added to without error (Knuth's TwoSum, then a
/// renormalisation, after which |low| ≤ ulp(high) / 2; the tables' pairs are left unnormalised).
struct DoubleDouble {
    var high = 0.0
    var low = 0.0

    /// a + b as the rounded sum and its exact rounding error.
    @inline(__always) static func twoSum(_ a: Double, _ b: Double) -> (sum: Double, error: Double) {
        let sum = a + b
        let virtual = sum - a
        return (sum, (a - (sum - virtual)) + (b - virtual))
    }

    @inline(__always) mutating func add(_ value: Double) {
        let (sum, error) = Self.twoSum(high, value)
        guard sum.isFinite else { return overflow(sum) }
        renormalise(sum, low + error)
    }

    @inline(__always) mutating func add(_ other: DoubleDouble) {
        let (sum, error) = Self.twoSum(high, other.high)
        guard sum.isFinite else { return overflow(sum) }
        renormalise(sum, error + (low + other.low))
    }

    @inline(__always) mutating func subtract(_ other: DoubleDouble) {
        add(DoubleDouble(high: -other.high, low: -other.low))
    }

    /// ±∞ (an overflow, or an infinite term) or NaN: the sum stays so, as a running double's would.
    private mutating func overflow(_ sum: Double) {
        high = sum
        low = 0
    }

    @inline(__always) private mutating func renormalise(_ sum: Double, _ error: Double) {
        high = sum + error
        low = error - (high - sum)
    }
}

/// COUNT, SUM and AVG of one window, folded range by range from the prefixes (`RunPrefixes`), with the
/// results of `RangeAccumulator`: COUNT of no rows 0, SUM/AVG of no rows NULL, integer SUM exact and
/// NULL with `overflowed` outside BIGINT, AVG a DOUBLE.
struct WindowTotal {
    var count = 0
    var integer: Int128 = 0
    var float = DoubleDouble()
    var isFloat = false
    var nan = false, positiveInfinity = false, negativeInfinity = false
    private(set) var overflowed = false

    /// Between windows. `isFloat` stays (an input's type is fixed) and so does `overflowed` (the first
    /// overflow fails the whole build).
    @inline(__always) mutating func reset() {
        count = 0
        integer = 0
        float = DoubleDouble()
        nan = false
        positiveInfinity = false
        negativeInfinity = false
    }

    /// Adds the range `begin..<end` of an entity whose rows start at `start`.
    @inline(__always) mutating func addSum(_ input: AggregateInput, _ prefix: PrefixView, start: Int, _ begin: Int, _ end: Int) {
        guard begin < end else { return }
        guard let records = prefix.records else { return scan(input, begin, end) }
        let last = records + (end - 1) * prefix.stride
        let first: UnsafePointer<Int64>? = begin > start ? records + (begin - 1) * prefix.stride : nil
        if prefix.countSlot >= 0 {
            count &+= Int(last[prefix.countSlot] &- (first?[prefix.countSlot] ?? 0))
        } else {
            count &+= end - begin
        }
        let slot = prefix.sumSlot
        guard slot >= 0 else { return }
        switch prefix.sumKind {
        case .narrow:
            integer += Int128(last[slot] &- (first?[slot] ?? 0))
        case .wide:
            func wide(_ record: UnsafePointer<Int64>) -> Int128 {
                Int128(record[slot + 1]) << 64 | Int128(UInt64(bitPattern: record[slot]))
            }
            integer += wide(last) - (first.map(wide) ?? 0)
        case .double:
            isFloat = true
            func pair(_ record: UnsafePointer<Int64>) -> DoubleDouble {
                DoubleDouble(high: Double(bitPattern: UInt64(bitPattern: record[slot])), low: Double(bitPattern: UInt64(bitPattern: record[slot + 1])))
            }
            let top = pair(last), bottom = first.map(pair) ?? DoubleDouble()
            var range = top
            if first != nil { range.subtract(bottom) }
            // Scanned instead: ranges holding NaN or ±∞ or an overflowed prefix (`nonFinite` is there only
            // when the run has some), and ranges that cancel against the running sums around them, where
            // the table's error (about 2^-106 of those sums) could reach the result's last bits.
            let special = prefix.nonFinite.map { $0[end] != $0[begin] } ?? false
            if special || !top.high.isFinite || !bottom.high.isFinite
                || !(range.high.magnitude >= 0x1p-40 * max(top.high.magnitude, bottom.high.magnitude)) {
                let counted = count   // the count is in already
                scan(input, begin, end)
                count = counted
            } else {
                float.add(range)
            }
        }
    }

    /// Adds the rows `begin..<end` one by one, with the arithmetic of the prefixes (a run without a table;
    /// a range holding NaN or ±∞, or cancelling against the running sums around it): the same results
    /// either way.
    @inline(__always) mutating func scan(_ input: AggregateInput, _ begin: Int, _ end: Int) {
        if let values = input.integers {
            var sum: Int128 = 0, rows = 0
            for row in begin..<end where input.counts(row) {
                sum += Int128(values[row])
                rows &+= 1
            }
            integer += sum
            count &+= rows
        } else if let values = input.floats {
            isFloat = true
            for row in begin..<end where input.counts(row) {
                let value = values[row]
                count &+= 1
                if value.isFinite {
                    float.add(value)
                } else if value.isNaN {
                    nan = true
                } else if value > 0 {
                    positiveInfinity = true
                } else {
                    negativeInfinity = true
                }
            }
        } else {
            count &+= PrefixView.scanCount(input, begin, end)
        }
    }

    @inline(__always) mutating func result(_ function: AggregateFunction) -> Scalar {
        if function == .count || function == .countStar { return .integer(Int64(count)) }
        guard count > 0 else { return .null }
        let sum: Double
        if isFloat {
            if nan || (positiveInfinity && negativeInfinity) {
                sum = .nan
            } else if positiveInfinity {
                sum = .infinity
            } else if negativeInfinity {
                sum = -.infinity
            } else {
                sum = float.high
            }
            return .double(function == .avg ? sum / Double(count) : sum)
        }
        if let exact = Int64(exactly: integer) {
            return function == .avg ? .double(Double(exact) / Double(count)) : .integer(exact)
        }
        guard function == .avg else {
            overflowed = true
            return .null
        }
        // AggregateMath's 128-bit form (high · 2^64 + low, low signed), for the same rounding as a GROUP BY.
        let low = Int64(truncatingIfNeeded: integer)
        let high = Int64(truncatingIfNeeded: (integer - Int128(low)) >> 64)
        return .double(AggregateMath.wideValue(low, high) / Double(count))
    }
}
