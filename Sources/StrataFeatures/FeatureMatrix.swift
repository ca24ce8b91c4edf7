import Foundation
import StrataFormat
import StrataQuery
import StrataStorage

/// Feature values being computed, one column per output, indexed by request. Raw buffers, so that
/// threads computing disjoint requests may write at the same time.
final class OutputColumn: @unchecked Sendable {
    let schema: ColumnSchema
    let rowCount: Int
    private let integers: UnsafeMutableBufferPointer<Int64>
    private let floats: UnsafeMutableBufferPointer<Double>
    private var strings: [String?]
    private let isNull: UnsafeMutableBufferPointer<Bool>

    init(schema: ColumnSchema, rowCount: Int) {
        self.schema = schema
        self.rowCount = rowCount
        // Values are read only where `isNull` is false, that is after they are set: left uninitialised (the
        // pages are then first touched by the threads computing them, not zeroed here one by one).
        integers = .allocate(capacity: schema.type.isIntegerLike ? max(1, rowCount) : 1)
        floats = .allocate(capacity: schema.type == .float64 ? max(1, rowCount) : 1)
        strings = schema.type == .string ? Array(repeating: nil, count: rowCount) : []
        isNull = .allocate(capacity: max(1, rowCount))
        isNull.initialize(repeating: true)
    }

    deinit {
        integers.deallocate()
        floats.deallocate()
        isNull.deallocate()
    }

    /// Sets request `row`. Strings are written from one thread only (attributes and last values).
    @inline(__always) func set(_ row: Int, _ value: FeatureValue) {
        switch value {
        case .null:
            isNull[row] = true
        case .integer(let integer):
            isNull[row] = false
            if schema.type == .float64 { floats[row] = Double(integer) } else { integers[row] = integer }
        case .float(let float):
            isNull[row] = false
            floats[row] = float
        case .string(let string):
            isNull[row] = false
            strings[row] = string
        }
    }

    /// Copies every row of `part` to row `rows[i]` of this column (one pass's results into the whole).
    func scatter(_ part: OutputColumn, to rows: [Int]) {
        precondition(part.rowCount == rows.count && part.schema.type == schema.type)
        rows.withUnsafeBufferPointer { rows in
            for (index, row) in rows.enumerated() { isNull[row] = part.isNull[index] }
            switch schema.type {
            case .float64: for (index, row) in rows.enumerated() where !part.isNull[index] { floats[row] = part.floats[index] }
            case .string: for (index, row) in rows.enumerated() where !part.isNull[index] { strings[row] = part.strings[index] }
            default: for (index, row) in rows.enumerated() where !part.isNull[index] { integers[row] = part.integers[index] }
            }
        }
    }

    /// Raw write access for the window loop (numeric outputs only).
    var slot: OutputSlot {
        OutputSlot(integers: integers.baseAddress!, floats: floats.baseAddress!, isNull: isNull.baseAddress!, isFloat: schema.type == .float64)
    }

    func value(_ row: Int) -> FeatureValue {
        if isNull[row] { return .null }
        switch schema.type {
        case .float64: return .float(floats[row])
        case .string: return .string(strings[row] ?? "")
        default: return .integer(integers[row])
        }
    }

    /// The column in `order` (request rows), as stored.
    func vector(order: [Int]) -> ColumnVector {
        var bits = [UInt8](repeating: 0, count: (order.count + 7) / 8)
        var anyNull = false
        /// One pass over `order` (random reads): validity bits and values together.
        func gather<T>(_ source: UnsafeMutableBufferPointer<T>, zero: T) -> [T] {
            bits.withUnsafeMutableBufferPointer { bits in
                [T](uninitializedCount: order.count) { output in
                    for (index, row) in order.enumerated() {
                        if isNull[row] {
                            anyNull = true
                            output.initializeElement(at: index, to: zero)
                        } else {
                            bits[index >> 3] |= 1 << UInt8(index & 7)
                            output.initializeElement(at: index, to: source[row])
                        }
                    }
                }
            }
        }
        let values: ColumnValues
        switch schema.type {
        case .float64: values = .floats(gather(floats, zero: 0))
        case .string:
            for (index, row) in order.enumerated() {
                if isNull[row] { anyNull = true } else { bits[index >> 3] |= 1 << UInt8(index & 7) }
            }
            var array = StringArray()
            for row in order { array.append(Array((strings[row] ?? "").utf8)) }
            values = .strings(array)
        default: values = .integers(gather(integers, zero: 0))
        }
        let validity: Validity? = anyNull ? Validity(bits: bits, count: order.count) : nil
        return ColumnVector(type: schema.type, values: values, validity: validity)
    }
}

/// Computed features for a set of (entity, cutoff) rows.
public struct FeatureMatrix {
    public let schemas: [ColumnSchema]
    var columns: [OutputColumn]
    public var rowCount: Int { columns.first?.rowCount ?? 0 }

    public func value(row: Int, column: Int) -> FeatureValue { columns[column].value(row) }

    /// All feature columns with rows in `order`, a core's worth at a time in parallel; each output column
    /// is released once converted, so the matrix and its vectors are not held whole at once (at KKBox's
    /// volume each is about 1.3 GB).
    public consuming func vectors(order: [Int]) -> [ColumnVector] {
        var pending = Array(columns.reversed())
        columns = []
        var result: [ColumnVector] = []
        result.reserveCapacity(pending.count)
        let group = max(1, ProcessInfo.processInfo.activeProcessorCount)
        while !pending.isEmpty {
            let taken = Array(pending.suffix(group).reversed())
            pending.removeLast(taken.count)
            result += parallelMap(taken.count) { taken[$0].vector(order: order) }
        }
        return result
    }
}

/// An output column as raw pointers, for writers that own disjoint rows.
struct OutputSlot: @unchecked Sendable {
    let integers: UnsafeMutablePointer<Int64>
    let floats: UnsafeMutablePointer<Double>
    let isNull: UnsafeMutablePointer<Bool>
    let isFloat: Bool

    /// Stores an aggregate's `value`, or `fill` when it is NULL and a fill is set (the null policy).
    @inline(__always) func set(_ row: Int, _ value: Scalar, fill: Double?) {
        switch value {
        case .integer(let integer):
            isNull[row] = false
            if isFloat { floats[row] = Double(integer) } else { integers[row] = integer }
        case .double(let float):
            isNull[row] = false
            floats[row] = float
        case .null, .string, .entity:
            if let fill {
                isNull[row] = false
                if isFloat { floats[row] = fill } else { integers[row] = Int64(fill) }
            } else {
                isNull[row] = true
            }
        }
    }
}

/// One feature value, as the online store and the training-set writer hand it out.
public enum FeatureValue: Equatable, Sendable {
    case null
    case integer(Int64)
    case float(Double)
    case string(String)

    /// The value's text (format-spec §10); nil for NULL.
    public var text: String? {
        switch self {
        case .null: nil
        case .integer(let integer): String(integer)
        case .float(let float): ValueText.float(float)
        case .string(let string): string
        }
    }

    /// The text of a value of a column of `type` (format-spec §10): dates as YYYYMMDD, not day numbers.
    public func text(as type: LogicalType) -> String? {
        if case .integer(let day) = self, type == .date { return ValueText.date(day, style: .iso) }
        return text
    }

    var asDouble: Double? {
        switch self {
        case .integer(let value): Double(value)
        case .float(let value): value
        case .null, .string: nil
        }
    }
}
