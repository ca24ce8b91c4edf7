import StrataFormat
import StrataStorage

/// One record's values after parsing, reused from row to row so parsing allocates nothing per row.
final class RowValues {
    let integers: UnsafeMutablePointer<Int64>
    let floats: UnsafeMutablePointer<Double>
    let isNull: UnsafeMutablePointer<Bool>
    /// Bytes of string columns (copied: a field may live in a reader's scratch space).
    var strings: [[UInt8]]

    init(columnCount: Int) {
        integers = .allocate(capacity: columnCount)
        integers.initialize(repeating: 0, count: columnCount)
        floats = .allocate(capacity: columnCount)
        floats.initialize(repeating: 0, count: columnCount)
        isNull = .allocate(capacity: columnCount)
        isNull.initialize(repeating: false, count: columnCount)
        strings = Array(repeating: [], count: columnCount)
    }

    deinit {
        integers.deallocate()
        floats.deallocate()
        isNull.deallocate()
    }
}

/// Rows of one partition collected column by column until they are flushed as a segment.
///
/// Every column has `rowCount` values, so all columns grow together and each is a raw buffer: a
/// per-row append is a few stores, with no reference counting or copy-on-write checks.
final class PartitionBuffer: @unchecked Sendable {
    let partition: Int
    private let types: [LogicalType]
    private let nullable: [Bool]
    private let integerColumns: UnsafeMutablePointer<UnsafeMutablePointer<Int64>?>
    private let floatColumns: UnsafeMutablePointer<UnsafeMutablePointer<Double>?>
    private var strings: [StringArray]
    private var validity: [Validity]
    private let hasStrings: Bool
    private let hasNullable: Bool
    private var capacity: Int
    private(set) var rowCount = 0

    init(partition: Int, schemas: [ColumnSchema], capacity: Int = 1024) {
        self.partition = partition
        types = schemas.map(\.type)
        nullable = schemas.map(\.nullable)
        hasStrings = schemas.contains { $0.type == .string }
        hasNullable = schemas.contains(where: \.nullable)
        self.capacity = max(16, capacity)
        integerColumns = .allocate(capacity: schemas.count)
        floatColumns = .allocate(capacity: schemas.count)
        for (column, schema) in schemas.enumerated() {
            integerColumns[column] = schema.type.isIntegerLike ? .allocate(capacity: self.capacity) : nil
            floatColumns[column] = schema.type == .float64 ? .allocate(capacity: self.capacity) : nil
        }
        strings = Array(repeating: StringArray(), count: schemas.count)
        validity = Array(repeating: Validity(), count: schemas.count)
    }

    deinit {
        for column in 0..<types.count {
            integerColumns[column]?.deallocate()
            floatColumns[column]?.deallocate()
        }
        integerColumns.deallocate()
        floatColumns.deallocate()
    }

    private func reserve(_ needed: Int) {
        guard needed > capacity else { return }
        let grown = max(capacity * 2, needed)
        for column in 0..<types.count {
            if let old = integerColumns[column] {
                let new = UnsafeMutablePointer<Int64>.allocate(capacity: grown)
                new.update(from: old, count: rowCount)
                old.deallocate()
                integerColumns[column] = new
            }
            if let old = floatColumns[column] {
                let new = UnsafeMutablePointer<Double>.allocate(capacity: grown)
                new.update(from: old, count: rowCount)
                old.deallocate()
                floatColumns[column] = new
            }
        }
        capacity = grown
    }

    /// Appends one parsed row.
    @inline(__always) func append(_ row: RowValues) {
        if rowCount == capacity { reserve(rowCount + 1) }
        for column in 0..<types.count {
            let isNull = row.isNull[column]
            if let integers = integerColumns[column] {
                integers[rowCount] = isNull ? 0 : row.integers[column]
            } else if let floats = floatColumns[column] {
                floats[rowCount] = isNull ? 0 : row.floats[column]
            }
        }
        if hasStrings {
            for column in 0..<types.count where types[column] == .string {
                strings[column].append(row.isNull[column] ? [] : row.strings[column])
            }
        }
        if hasNullable {
            for column in 0..<types.count where nullable[column] { validity[column].append(!row.isNull[column]) }
        }
        rowCount += 1
    }

    /// Appends every row of `other` (same schema) after the rows already here.
    func append(contentsOf other: PartitionBuffer) {
        reserve(rowCount + other.rowCount)
        for column in 0..<types.count {
            if let integers = integerColumns[column] {
                (integers + rowCount).update(from: other.integerColumns[column]!, count: other.rowCount)
            } else if let floats = floatColumns[column] {
                (floats + rowCount).update(from: other.floatColumns[column]!, count: other.rowCount)
            } else {
                let source = other.strings[column]
                for row in 0..<source.count { strings[column].append(Array(source[row])) }
            }
            if nullable[column] {
                for row in 0..<other.rowCount { validity[column].append(other.validity[column].isValid(row)) }
            }
        }
        rowCount += other.rowCount
    }

    @inline(__always) func integer(column: Int, row: Int) -> Int64 { integerColumns[column]![row] }

    @inline(__always) func setInteger(column: Int, row: Int, _ value: Int64) { integerColumns[column]![row] = value }

    @inline(__always) func isNull(column: Int, row: Int) -> Bool { nullable[column] && !validity[column].isValid(row) }

    /// Hands the rows over as column vectors and leaves the buffer empty.
    func takeColumns() -> [ColumnVector] {
        let columns = (0..<types.count).map { column -> ColumnVector in
            let values: ColumnValues
            if let integers = integerColumns[column] {
                values = .integers(Array(UnsafeBufferPointer(start: integers, count: rowCount)))
            } else if let floats = floatColumns[column] {
                values = .floats(Array(UnsafeBufferPointer(start: floats, count: rowCount)))
            } else {
                values = .strings(strings[column])
            }
            return ColumnVector(type: types[column], values: values, validity: nullable[column] ? validity[column] : nil)
        }
        strings = Array(repeating: StringArray(), count: types.count)
        validity = Array(repeating: Validity(), count: types.count)
        rowCount = 0
        return columns
    }
}
