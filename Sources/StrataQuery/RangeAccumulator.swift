/// The arithmetic every aggregate state of the kernel shares, so that a SUM, an AVG or a MIN means the
/// same in a GROUP BY (`Accumulator`) and in a feature view's window (`RangeAccumulator`).
enum AggregateMath {
    /// Adds `value` to the 128-bit sum `high · 2^64 + low`: sums of BIGINT never overflow along the way
    /// (as DuckDB's HUGEINT); only a final sum outside BIGINT is an error.
    @inline(__always) static func addWide(_ low: inout Int64, _ high: inout Int64, _ value: Int64) {
        let (next, overflow) = low.addingReportingOverflow(value)
        low = next
        if overflow { high &+= value < 0 ? -1 : 1 }
    }

    /// The 128-bit sum as a double (for AVG).
    @inline(__always) static func wideValue(_ low: Int64, _ high: Int64) -> Double { Double(high) * 0x1p64 + Double(low) }

    /// MIN/MAX order of doubles: NaN is larger than every number, as in DuckDB.
    @inline(__always) static func replaces(_ candidate: Double, _ current: Double, isMin: Bool) -> Bool {
        isMin ? Comparison.less(candidate, current) : Comparison.less(current, candidate)
    }

    @inline(__always) static func replaces(_ candidate: Int64, _ current: Int64, isMin: Bool) -> Bool {
        isMin ? candidate < current : candidate > current
    }
}

/// Raw views of one input column of a range aggregate, for loops without reference counting. Both value
/// pointers nil: the input only says which rows count (COUNT(*) with a FILTER).
package struct AggregateInput: @unchecked Sendable {
    package var integers: UnsafePointer<Int64>?
    package var floats: UnsafePointer<Double>?
    /// nil when every row counts; otherwise false for NULL values and rows a FILTER rejects.
    package var valid: UnsafePointer<Bool>?

    package init(integers: UnsafePointer<Int64>?, floats: UnsafePointer<Double>?, valid: UnsafePointer<Bool>?) {
        self.integers = integers
        self.floats = floats
        self.valid = valid
    }
}

/// One aggregate folded over ranges of rows (the window of one request, in one or several runs), with
/// SQL semantics: COUNT and COUNT(DISTINCT) of no rows are 0, the others NULL; SUM of integers is exact
/// and NULL with `overflowed` set outside BIGINT; AVG is a DOUBLE; MIN/MAX order NaN last; DISTINCT
/// counts doubles by value (-0.0 = 0.0, every NaN one value). Reset between windows.
package struct RangeAccumulator {
    package let function: AggregateFunction
    private var low: Int64 = 0
    private var high: Int64 = 0
    private var floatSum = 0.0
    private var isFloat = false
    private var count = 0
    private var integerExtreme: Int64 = 0
    private var floatExtreme = 0.0
    private var distinct: Set<Int64> = []
    /// Set by `result` when a SUM of integers lies outside BIGINT.
    package private(set) var overflowed = false

    package init(_ function: AggregateFunction) { self.function = function }

    package mutating func reset() {
        low = 0
        high = 0
        floatSum = 0
        count = 0
        if !distinct.isEmpty { distinct.removeAll(keepingCapacity: true) }
    }

    /// COUNT(*) of rows without a filter.
    @inline(__always) package mutating func addRows(_ rows: Int) { count &+= rows }

    /// Folds rows `begin..<end` of `input`.
    @inline(__always) package mutating func add(_ input: AggregateInput, _ begin: Int, _ end: Int) {
        if let integers = input.integers {
            var row = begin
            while row < end {
                if input.valid?[row] ?? true { addInteger(integers[row]) }
                row &+= 1
            }
        } else if let floats = input.floats {
            isFloat = true
            var row = begin
            while row < end {
                if input.valid?[row] ?? true { addFloat(floats[row]) }
                row &+= 1
            }
        } else if let valid = input.valid {
            var row = begin
            while row < end {
                if valid[row] { count &+= 1 }
                row &+= 1
            }
        } else {
            count &+= end - begin
        }
    }

    @inline(__always) private mutating func addInteger(_ value: Int64) {
        switch function {
        case .sum, .avg: AggregateMath.addWide(&low, &high, value)
        case .min, .max:
            if count == 0 || AggregateMath.replaces(value, integerExtreme, isMin: function == .min) { integerExtreme = value }
        case .countDistinct: distinct.insert(value)
        case .count, .countStar: break
        }
        count &+= 1
    }

    @inline(__always) private mutating func addFloat(_ value: Double) {
        switch function {
        case .sum, .avg: floatSum += value
        case .min, .max:
            if count == 0 || AggregateMath.replaces(value, floatExtreme, isMin: function == .min) { floatExtreme = value }
        case .countDistinct: distinct.insert(Aggregator.doubleCode(value))
        case .count, .countStar: break
        }
        count &+= 1
    }

    /// Adds what `other` accumulated (the same function), as if its rows had followed this one's.
    package mutating func merge(_ other: RangeAccumulator) {
        guard other.count > 0 else { return }
        switch function {
        case .sum, .avg:
            AggregateMath.addWide(&low, &high, other.low)
            high &+= other.high
            floatSum += other.floatSum
        case .min, .max:
            if count == 0 || AggregateMath.replaces(other.integerExtreme, integerExtreme, isMin: function == .min) { integerExtreme = other.integerExtreme }
            if count == 0 || AggregateMath.replaces(other.floatExtreme, floatExtreme, isMin: function == .min) { floatExtreme = other.floatExtreme }
        case .countDistinct: distinct.formUnion(other.distinct)
        case .count, .countStar: break
        }
        isFloat = isFloat || other.isFloat
        count &+= other.count
    }

    /// The aggregate of everything added since the last reset.
    package mutating func result() -> Scalar {
        switch function {
        case .count, .countStar: return .integer(Int64(count))
        case .countDistinct: return .integer(Int64(distinct.count))
        default: break
        }
        guard count > 0 else { return .null }
        switch function {
        case .sum:
            if isFloat { return .double(floatSum) }
            guard high == 0 else {
                overflowed = true
                return .null
            }
            return .integer(low)
        case .avg: return .double((isFloat ? floatSum : AggregateMath.wideValue(low, high)) / Double(count))
        case .min, .max: return isFloat ? .double(floatExtreme) : .integer(integerExtreme)
        case .count, .countStar, .countDistinct: preconditionFailure("handled above")
        }
    }

    /// round(x, places) as the SQL function computes it (DuckDB's rule).
    package static func round(_ value: Double, places: Int) -> Double { Functions.roundDouble(value, places: places) }
}
