import StrataFormat

/// SQL value types. Dates are day numbers and booleans 0/1, both in the integer lane.
public enum SQLType: String, Sendable, Equatable {
    case bigint = "BIGINT"
    case double = "DOUBLE"
    case varchar = "VARCHAR"
    case date = "DATE"
    case boolean = "BOOLEAN"
    /// The type of a bare NULL literal; it takes the type of whatever it meets.
    case null = "NULL"

    var isNumeric: Bool { self == .bigint || self == .double }

    init(_ logical: LogicalType) {
        switch logical {
        case .int64: self = .bigint
        case .float64: self = .double
        case .date: self = .date
        case .string, .entity: self = .varchar
        case .bool: self = .boolean
        }
    }
}

/// One value: a literal, a group key, a cell of a result.
public enum Scalar: Sendable, Equatable {
    case null
    case integer(Int64)
    case double(Double)
    case string(String)
    /// A string held as an id of the store's entity dictionary (msno).
    case entity(Int64)
}

/// The values of one column for a batch of rows. Integers, dates and booleans share the Int64 lane;
/// msno stays an entity id until it must be printed or compared as text (late materialisation).
enum VectorValues {
    case integers([Int64])
    case doubles([Double])
    case strings([String])
    case entities([Int64])
    /// The same value on every row (literals, and expressions over them).
    case constant(Scalar)
}

struct Vector {
    var type: SQLType
    var values: VectorValues
    /// nil when no row is null; for a constant, the constant itself says whether it is null.
    var nulls: [Bool]?
    var count: Int

    init(type: SQLType, values: VectorValues, nulls: [Bool]?, count: Int) {
        self.type = type
        self.values = values
        self.nulls = nulls.flatMap { $0.contains(true) ? $0 : nil }
        self.count = count
    }

    static func constant(_ value: Scalar, type: SQLType, count: Int) -> Vector {
        Vector(type: type, values: .constant(value), nulls: nil, count: count)
    }

    var isConstant: Bool { if case .constant = values { true } else { false } }

    @inline(__always) func isNull(_ row: Int) -> Bool {
        if case .constant(let value) = values { return value == .null }
        return nulls?[row] ?? false
    }

    /// The value of one row.
    func scalar(_ row: Int) -> Scalar {
        if isNull(row) { return .null }
        switch values {
        case .integers(let values): return .integer(values[row])
        case .doubles(let values): return .double(values[row])
        case .strings(let values): return .string(values[row])
        case .entities(let values): return .entity(values[row])
        case .constant(let value): return value
        }
    }

    /// The rows at `rows`, in that order.
    func gather(_ rows: [Int32]) -> Vector {
        let gatheredNulls = nulls.map { nulls in rows.map { nulls[Int($0)] } }
        switch values {
        case .integers(let values): return Vector(type: type, values: .integers(Self.gather(values, rows)), nulls: gatheredNulls, count: rows.count)
        case .doubles(let values): return Vector(type: type, values: .doubles(Self.gather(values, rows)), nulls: gatheredNulls, count: rows.count)
        case .strings(let values): return Vector(type: type, values: .strings(rows.map { values[Int($0)] }), nulls: gatheredNulls, count: rows.count)
        case .entities(let values): return Vector(type: type, values: .entities(Self.gather(values, rows)), nulls: gatheredNulls, count: rows.count)
        case .constant: return Vector(type: type, values: values, nulls: nil, count: rows.count)
        }
    }

    /// `values[rows[i]]` for every i; rows come from a selection of this batch, so they are in range.
    private static func gather<T>(_ values: [T], _ rows: [Int32]) -> [T] {
        values.withUnsafeBufferPointer { values in
            rows.withUnsafeBufferPointer { rows in
                [T](uninitializedCount: rows.count) { output in
                    for index in 0..<rows.count {
                        let row = Int(rows[index])
                        precondition(row < values.count, "gather row out of range")
                        (output.baseAddress! + index).initialize(to: values[row])
                    }
                }
            }
        }
    }

    /// Rows of `index` (-1: a NULL row), for outer joins.
    func gather(nullable rows: [Int32]) -> Vector {
        let gatheredNulls = rows.map { $0 < 0 || (nulls?[Int($0)] ?? false) }
        switch values {
        case .integers(let values): return Vector(type: type, values: .integers(rows.map { $0 < 0 ? 0 : values[Int($0)] }), nulls: gatheredNulls, count: rows.count)
        case .doubles(let values): return Vector(type: type, values: .doubles(rows.map { $0 < 0 ? 0 : values[Int($0)] }), nulls: gatheredNulls, count: rows.count)
        case .strings(let values): return Vector(type: type, values: .strings(rows.map { $0 < 0 ? "" : values[Int($0)] }), nulls: gatheredNulls, count: rows.count)
        case .entities(let values): return Vector(type: type, values: .entities(rows.map { $0 < 0 ? 0 : values[Int($0)] }), nulls: gatheredNulls, count: rows.count)
        case .constant(let value):
            return Vector(type: type, values: .constant(value), nulls: nil, count: rows.count).materialized().gather(nullable: rows)
        }
    }

    /// Vectors of the same type appended in order.
    static func concatenate(_ parts: [Vector], type: SQLType) -> Vector {
        let total = parts.reduce(0) { $0 + $1.count }
        let anyNull = parts.contains { $0.nulls != nil || ($0.isConstant && $0.isNull(0) && $0.count > 0) }
        let nulls: [Bool]? = anyNull ? parts.flatMap { part in (0..<part.count).map { part.isNull($0) } } : nil
        let materialized = parts.map { $0.materialized() }
        switch materialized.first?.values {
        case .doubles: return Vector(type: type, values: .doubles(materialized.flatMap { $0.doubleValues }), nulls: nulls, count: total)
        case .strings: return Vector(type: type, values: .strings(materialized.flatMap { $0.stringValues }), nulls: nulls, count: total)
        case .entities: return Vector(type: type, values: .entities(materialized.flatMap { $0.entityValues }), nulls: nulls, count: total)
        case .integers, .constant, nil: return Vector(type: type, values: .integers(materialized.flatMap { $0.integerValues }), nulls: nulls, count: total)
        }
    }

    /// The same rows with a constant expanded into a full array.
    func materialized() -> Vector {
        guard case .constant(let value) = values else { return self }
        let nulls: [Bool]? = value == .null ? Array(repeating: true, count: count) : nil
        switch value {
        case .null:
            switch type {
            case .double: return Vector(type: type, values: .doubles(Array(repeating: 0, count: count)), nulls: nulls, count: count)
            case .varchar: return Vector(type: type, values: .strings(Array(repeating: "", count: count)), nulls: nulls, count: count)
            default: return Vector(type: type, values: .integers(Array(repeating: 0, count: count)), nulls: nulls, count: count)
            }
        case .integer(let v): return Vector(type: type, values: .integers(Array(repeating: v, count: count)), nulls: nil, count: count)
        case .double(let v): return Vector(type: type, values: .doubles(Array(repeating: v, count: count)), nulls: nil, count: count)
        case .string(let v): return Vector(type: type, values: .strings(Array(repeating: v, count: count)), nulls: nil, count: count)
        case .entity(let v): return Vector(type: type, values: .entities(Array(repeating: v, count: count)), nulls: nil, count: count)
        }
    }

    var integerValues: [Int64] {
        if case .integers(let values) = values { return values }
        if case .entities(let values) = values { return values }
        return []
    }

    var doubleValues: [Double] {
        if case .doubles(let values) = values { return values }
        return []
    }

    var stringValues: [String] {
        if case .strings(let values) = values { return values }
        return []
    }

    var entityValues: [Int64] {
        if case .entities(let values) = values { return values }
        return []
    }
}

/// A set of rows flowing between operators: one vector per slot of the operator's input layout.
struct Batch {
    var columns: [Vector]
    var count: Int

    func gather(_ rows: [Int32]) -> Batch {
        Batch(columns: columns.map { $0.gather(rows) }, count: rows.count)
    }
}
