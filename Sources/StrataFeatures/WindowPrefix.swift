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

/// Prefix sums of one run input (the run's rows in entity-then-time order), so that COUNT, SUM and AVG
/// over any range of rows are two reads whatever the range's length, and each entity's MIN and MAX over
/// the whole run. Built once per run (one pass per need), read by every request of the run's months.
///
/// - COUNT: `counted[i]`, the rows before row i that count (not NULL, passing the filter).
/// - SUM of integers: exclusive prefix sums. When the run's Σ|v| fits in BIGINT they are `Int64`, and a
///   range is a wrapping difference — exact, since no range can leave BIGINT; otherwise `Int128`.
/// - SUM of doubles: prefix sums restart at each entity and are kept in double-double (a pair hi + lo,
///   about 106 bits, with error-free additions), over the finite values only. A range is the
///   double-double difference of two prefixes; the window adds its ranges in double-double and rounds
///   once. Ranges holding NaN or ±∞ (counted in `nonFinite`), or whose prefixes overflowed, are summed
///   row by row instead, with the same double-double arithmetic.
///
/// The prefixes replace the values where no aggregate scans them (`keepsValues` false): an input only
/// summed or counted costs no more memory than before, and a double input 8 bytes a row more.
final class InputPrefix {
    private var owned: [UnsafeMutableRawPointer]
    let view: PrefixView
    /// Whether scans still read the input's values and validity (MIN/MAX of part of a run,
    /// COUNT(DISTINCT), or doubles summed row by row because of NaN, ±∞ or an overflowed prefix).
    let keepsValues: Bool

    init(input: AggregateInput, offsets: [Int32], needs: InputNeeds) {
        let rowCount = Int(offsets.last ?? 0)
        var owned: [UnsafeMutableRawPointer] = []
        func allocate<T>(_ type: T.Type, _ count: Int) -> UnsafeMutablePointer<T> {
            let pointer = UnsafeMutablePointer<T>.allocate(capacity: max(1, count))
            owned.append(UnsafeMutableRawPointer(pointer))
            return pointer
        }
        var view = PrefixView()
        var rowScans = needs.contains(.values)
        if !needs.isEmpty, let valid = input.valid {
            let counted = allocate(Int32.self, rowCount + 1)
            var total: Int32 = 0
            for row in 0..<rowCount {
                counted[row] = total
                if valid[row] { total &+= 1 }
            }
            counted[rowCount] = total
            view.counted = UnsafePointer(counted)
        }
        if needs.contains(.sums), let values = input.integers {
            var magnitude: UInt64 = 0, fits = true
            for row in 0..<rowCount where input.counts(row) {
                let (next, overflow) = magnitude.addingReportingOverflow(values[row].magnitude)
                magnitude = next
                if overflow || magnitude > UInt64(Int64.max) {
                    fits = false
                    break
                }
            }
            if fits {
                let sums = allocate(Int64.self, rowCount + 1)
                var total: Int64 = 0
                for row in 0..<rowCount {
                    sums[row] = total
                    if input.counts(row) { total &+= values[row] }
                }
                sums[rowCount] = total
                view.integerSums = UnsafePointer(sums)
            } else {
                let sums = allocate(Int128.self, rowCount + 1)
                var total: Int128 = 0
                for row in 0..<rowCount {
                    sums[row] = total
                    if input.counts(row) { total += Int128(values[row]) }
                }
                sums[rowCount] = total
                view.wideSums = UnsafePointer(sums)
            }
        }
        if needs.contains(.sums), let values = input.floats {
            let high = allocate(Double.self, rowCount), low = allocate(Double.self, rowCount)
            let nonFinite = allocate(Int32.self, rowCount + 1)
            var special: Int32 = 0, overflowed = false
            for entity in 0..<(offsets.count - 1) {
                var sum = DoubleDouble()
                for row in Int(offsets[entity])..<Int(offsets[entity + 1]) {
                    nonFinite[row] = special
                    if input.counts(row) {
                        let value = values[row]
                        if value.isFinite { sum.add(value) } else { special &+= 1 }
                    }
                    high[row] = sum.high
                    low[row] = sum.low
                }
                overflowed = overflowed || !sum.high.isFinite
            }
            nonFinite[rowCount] = special
            view.floatHigh = UnsafePointer(high)
            view.floatLow = UnsafePointer(low)
            if special > 0 || overflowed {
                view.nonFinite = UnsafePointer(nonFinite)
                rowScans = true
            } else {
                owned.removeLast()
                nonFinite.deallocate()
            }
        }
        if needs.contains(.extremes) {
            let entities = offsets.count - 1
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
                view.integerMin = UnsafePointer(low)
                view.integerMax = UnsafePointer(high)
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
                view.floatMin = UnsafePointer(low)
                view.floatMax = UnsafePointer(high)
            }
        }
        self.owned = owned
        self.view = view
        keepsValues = rowScans
    }

    deinit {
        for pointer in owned { pointer.deallocate() }
    }
}

/// An `InputPrefix` as raw pointers for the hot loop; nil where the input's aggregates do not need it.
struct PrefixView: @unchecked Sendable {
    var counted: UnsafePointer<Int32>?
    var integerSums: UnsafePointer<Int64>?
    var wideSums: UnsafePointer<Int128>?
    var floatHigh: UnsafePointer<Double>?
    var floatLow: UnsafePointer<Double>?
    var nonFinite: UnsafePointer<Int32>?
    var integerMin: UnsafePointer<Int64>?
    var integerMax: UnsafePointer<Int64>?
    var floatMin: UnsafePointer<Double>?
    var floatMax: UnsafePointer<Double>?

    /// Rows of `begin..<end` that count.
    @inline(__always) func count(_ begin: Int, _ end: Int) -> Int {
        guard let counted else { return end - begin }
        return Int(counted[end] &- counted[begin])
    }
}

/// A double-double: the unevaluated sum high + low with |low| ≤ ulp(high) / 2, added to without error
/// (Knuth's TwoSum, then a renormalisation).
struct DoubleDouble {
    var high = 0.0
    var low = 0.0

    @inline(__always) mutating func add(_ value: Double) {
        let sum = high + value
        guard sum.isFinite else { return overflow(sum) }
        let virtual = sum - high
        let error = (high - (sum - virtual)) + (value - virtual)
        renormalise(sum, low + error)
    }

    @inline(__always) mutating func add(_ other: DoubleDouble) {
        let sum = high + other.high
        guard sum.isFinite else { return overflow(sum) }
        let virtual = sum - high
        let error = (high - (sum - virtual)) + (other.high - virtual)
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

/// COUNT, SUM and AVG of one window, folded range by range from the prefixes (`InputPrefix`), with the
/// results of `RangeAccumulator`: COUNT of no rows 0, SUM/AVG of no rows NULL, integer SUM exact and
/// NULL with `overflowed` outside BIGINT, AVG a DOUBLE.
struct WindowTotal {
    var count = 0
    var integer: Int128 = 0
    var float = DoubleDouble()
    var isFloat = false
    var nan = false, positiveInfinity = false, negativeInfinity = false
    private(set) var overflowed = false

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
        count &+= prefix.count(begin, end)
        if let sums = prefix.integerSums {
            integer += Int128(sums[end] &- sums[begin])
        } else if let sums = prefix.wideSums {
            integer += sums[end] - sums[begin]
        } else if let high = prefix.floatHigh, let low = prefix.floatLow {
            isFloat = true
            // `nonFinite` is there only when the run has NaN, ±∞ or an overflowed prefix.
            if let nonFinite = prefix.nonFinite, let values = input.floats,
               nonFinite[end] != nonFinite[begin] || !high[end - 1].isFinite || (begin > start && !high[begin - 1].isFinite) {
                for row in begin..<end where input.counts(row) {
                    let value = values[row]
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
                var range = DoubleDouble(high: high[end - 1], low: low[end - 1])
                if begin > start { range.subtract(DoubleDouble(high: high[begin - 1], low: low[begin - 1])) }
                float.add(range)
            }
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
