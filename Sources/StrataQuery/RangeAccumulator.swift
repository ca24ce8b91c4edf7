/// The arithmetic every aggregate state of the kernel shares, so that a SUM, an AVG or a MIN means the
/// same in a GROUP BY (`Accumulator`) and in a feature view's window (`RangeAccumulator`). Inlinable: the
/// window loops of StrataFeatures run it per value.
public enum AggregateMath {
    /// Adds `value` to the 128-bit sum `high · 2^64 + low`: sums of BIGINT never overflow along the way
    /// (as DuckDB's HUGEINT); only a final sum outside BIGINT is an error.
    @inlinable @inline(__always)
    static func addWide(_ low: inout Int64, _ high: inout Int64, _ value: Int64) {
        let (next, overflow) = low.addingReportingOverflow(value)
        low = next
        if overflow { high &+= value < 0 ? -1 : 1 }
    }

    /// The 128-bit sum as a double (for AVG).
    @inlinable @inline(__always)
    public static func wideValue(_ low: Int64, _ high: Int64) -> Double { Double(high) * 0x1p64 + Double(low) }

    /// MIN/MAX order of doubles: NaN is larger than every number, as in DuckDB.
    @inlinable @inline(__always)
    static func replaces(_ candidate: Double, _ current: Double, isMin: Bool) -> Bool {
        isMin ? less(candidate, current) : less(current, candidate)
    }

    @inlinable @inline(__always)
    static func replaces(_ candidate: Int64, _ current: Int64, isMin: Bool) -> Bool {
        isMin ? candidate < current : candidate > current
    }

    /// The SQL order of doubles (`Comparison.less`): NaN last.
    @inlinable @inline(__always)
    public static func less(_ a: Double, _ b: Double) -> Bool { a < b || (b.isNaN && !a.isNaN) }

    /// DISTINCT identity of a double (`Aggregator.doubleCode`): -0.0 is 0.0, every NaN one value.
    @inlinable @inline(__always)
    static func doubleCode(_ value: Double) -> Int64 {
        if value.isNaN { return Int64(bitPattern: Double.nan.bitPattern) }
        return Int64(bitPattern: (value == 0 ? 0.0 : value).bitPattern)
    }
}

/// Raw views of one input column of a range aggregate, for loops without reference counting. Both value
/// pointers nil: the input only says which rows count (COUNT(*) with a FILTER).
public struct AggregateInput: @unchecked Sendable {
    public var integers: UnsafePointer<Int64>?
    public var floats: UnsafePointer<Double>?
    /// nil when every row counts; otherwise false for NULL values and rows a FILTER rejects.
    public var valid: UnsafePointer<Bool>?

    @inlinable
    public init(integers: UnsafePointer<Int64>?, floats: UnsafePointer<Double>?, valid: UnsafePointer<Bool>?) {
        self.integers = integers
        self.floats = floats
        self.valid = valid
    }

    @inlinable @inline(__always)
    public func counts(_ row: Int) -> Bool { valid?[row] ?? true }
}

/// One aggregate folded over ranges of rows (the window of one request, in one or several runs), with
/// SQL semantics: COUNT and COUNT(DISTINCT) of no rows are 0, the others NULL; SUM of integers is exact
/// and NULL with `overflowed` set outside BIGINT; AVG is a DOUBLE; MIN/MAX order NaN last; DISTINCT
/// counts doubles by value (-0.0 = 0.0, every NaN one value). Reset between windows. The loops are
/// inlinable and chosen once per range, not per value: they are the inner loop of every window feature.
public struct RangeAccumulator: Sendable {
    public let function: AggregateFunction
    @usableFromInline var low: Int64 = 0
    @usableFromInline var high: Int64 = 0
    @usableFromInline var floatSum = 0.0
    @usableFromInline var isFloat = false
    @usableFromInline var count = 0
    @usableFromInline var integerExtreme: Int64 = 0
    @usableFromInline var floatExtreme = 0.0
    @usableFromInline var distinct: Set<Int64> = []
    @usableFromInline var overflow = false
    /// Set by `result` when a SUM of integers lies outside BIGINT.
    public var overflowed: Bool { overflow }

    public init(_ function: AggregateFunction) { self.function = function }

    @inlinable
    public mutating func reset() {
        low = 0
        high = 0
        floatSum = 0
        count = 0
        if !distinct.isEmpty { distinct.removeAll(keepingCapacity: true) }
    }

    /// COUNT(*) of rows without a filter.
    @inlinable @inline(__always)
    public mutating func addRows(_ rows: Int) { count &+= rows }

    /// Folds rows `begin..<end` of `input`.
    @inlinable @inline(__always)
    public mutating func add(_ input: AggregateInput, _ begin: Int, _ end: Int) {
        if let integers = input.integers {
            addIntegers(integers, input, begin, end)
        } else if let floats = input.floats {
            isFloat = true
            addFloats(floats, input, begin, end)
        } else {
            addCounted(input, begin, end)
        }
    }

    /// COUNT of the rows of `begin..<end` the input counts (not NULL, passing the filter).
    @inlinable @inline(__always)
    mutating func addCounted(_ input: AggregateInput, _ begin: Int, _ end: Int) {
        guard let valid = input.valid else {
            count &+= end - begin
            return
        }
        var row = begin
        while row < end {
            if valid[row] { count &+= 1 }
            row &+= 1
        }
    }

    @inlinable @inline(__always)
    mutating func addIntegers(_ values: UnsafePointer<Int64>, _ input: AggregateInput, _ begin: Int, _ end: Int) {
        var row = begin
        switch function {
        case .sum, .avg:
            var low = self.low, high = self.high, count = self.count
            while row < end {
                if input.counts(row) {
                    AggregateMath.addWide(&low, &high, values[row])
                    count &+= 1
                }
                row &+= 1
            }
            self.low = low
            self.high = high
            self.count = count
        case .min, .max:
            let isMin = function == .min
            while row < end {
                if input.counts(row) {
                    let value = values[row]
                    if count == 0 || AggregateMath.replaces(value, integerExtreme, isMin: isMin) { integerExtreme = value }
                    count &+= 1
                }
                row &+= 1
            }
        case .countDistinct:
            while row < end {
                if input.counts(row) {
                    distinct.insert(values[row])
                    count &+= 1
                }
                row &+= 1
            }
        case .count, .countStar:
            addCounted(input, begin, end)
        }
    }

    @inlinable @inline(__always)
    mutating func addFloats(_ values: UnsafePointer<Double>, _ input: AggregateInput, _ begin: Int, _ end: Int) {
        var row = begin
        switch function {
        case .sum, .avg:
            var sum = floatSum, count = self.count
            while row < end {
                if input.counts(row) {
                    sum += values[row]
                    count &+= 1
                }
                row &+= 1
            }
            floatSum = sum
            self.count = count
        case .min, .max:
            let isMin = function == .min
            while row < end {
                if input.counts(row) {
                    let value = values[row]
                    if count == 0 || AggregateMath.replaces(value, floatExtreme, isMin: isMin) { floatExtreme = value }
                    count &+= 1
                }
                row &+= 1
            }
        case .countDistinct:
            while row < end {
                if input.counts(row) {
                    distinct.insert(AggregateMath.doubleCode(values[row]))
                    count &+= 1
                }
                row &+= 1
            }
        case .count, .countStar:
            addCounted(input, begin, end)
        }
    }

    /// Folds `rows` counted rows whose MIN or MAX (the function's) is `value`: a run's extreme, known
    /// without a scan.
    @inlinable @inline(__always)
    public mutating func foldExtreme(_ value: Int64, rows: Int) {
        guard rows > 0 else { return }
        if count == 0 || AggregateMath.replaces(value, integerExtreme, isMin: function == .min) { integerExtreme = value }
        count &+= rows
    }

    @inlinable @inline(__always)
    public mutating func foldExtreme(_ value: Double, rows: Int) {
        guard rows > 0 else { return }
        isFloat = true
        if count == 0 || AggregateMath.replaces(value, floatExtreme, isMin: function == .min) { floatExtreme = value }
        count &+= rows
    }

    /// Adds what `other` accumulated (the same function), as if its rows had followed this one's.
    public mutating func merge(_ other: RangeAccumulator) {
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
    @inlinable
    public mutating func result() -> Scalar {
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
                overflow = true
                return .null
            }
            return .integer(low)
        case .avg: return .double((isFloat ? floatSum : AggregateMath.wideValue(low, high)) / Double(count))
        case .min, .max: return isFloat ? .double(floatExtreme) : .integer(integerExtreme)
        case .count, .countStar, .countDistinct: preconditionFailure("handled above")
        }
    }

    /// round(x, places) as the SQL function computes it (DuckDB's rule).
    public static func round(_ value: Double, places: Int) -> Double { Functions.roundDouble(value, places: places) }
}
