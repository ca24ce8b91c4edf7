import StrataFormat
import StrataStorage

/// Rows of one partition collected column by column until they are flushed as a segment.
final class PartitionBuffer {
    let partition: Int
    private let types: [LogicalType]
    private let nullable: [Bool]
    private var integers: [[Int64]]
    private var floats: [[Double]]
    private var strings: [StringArray]
    private var validity: [Validity]
    private(set) var rowCount = 0

    init(partition: Int, schemas: [ColumnSchema]) {
        self.partition = partition
        types = schemas.map(\.type)
        nullable = schemas.map(\.nullable)
        integers = Array(repeating: [], count: schemas.count)
        floats = Array(repeating: [], count: schemas.count)
        strings = Array(repeating: StringArray(), count: schemas.count)
        validity = Array(repeating: Validity(), count: schemas.count)
    }

    /// Appends one parsed row (see `RowValues`).
    @inline(__always) func append(_ row: RowValues, reader: CSVReader) {
        for column in 0..<types.count {
            let isNull = row.isNull[column]
            if nullable[column] { validity[column].append(!isNull) }
            switch types[column] {
            case .float64:
                floats[column].append(isNull ? 0 : row.floats[column])
            case .string:
                if isNull {
                    strings[column].append([])
                } else {
                    strings[column].append(reader.bytes(row.stringFields[column]))
                }
            default:
                integers[column].append(isNull ? 0 : row.integers[column])
            }
        }
        rowCount += 1
    }

    /// Hands the rows over as column vectors and leaves the buffer empty.
    func takeColumns() -> [ColumnVector] {
        let columns = (0..<types.count).map { column -> ColumnVector in
            let values: ColumnValues
            switch types[column] {
            case .float64: values = .floats(floats[column])
            case .string: values = .strings(strings[column])
            default: values = .integers(integers[column])
            }
            return ColumnVector(type: types[column], values: values, validity: nullable[column] ? validity[column] : nil)
        }
        integers = Array(repeating: [], count: types.count)
        floats = Array(repeating: [], count: types.count)
        strings = Array(repeating: StringArray(), count: types.count)
        validity = Array(repeating: Validity(), count: types.count)
        rowCount = 0
        return columns
    }
}

/// One record's values after parsing, reused from row to row to avoid allocation.
struct RowValues {
    var integers: [Int64]
    var floats: [Double]
    var stringFields: [CSVField]
    var isNull: [Bool]

    init(columnCount: Int) {
        integers = Array(repeating: 0, count: columnCount)
        floats = Array(repeating: 0, count: columnCount)
        stringFields = Array(repeating: CSVField(start: 0, end: 0), count: columnCount)
        isNull = Array(repeating: false, count: columnCount)
    }
}

/// Writes flushed partitions on a background queue while parsing goes on, with at most
/// `inFlightMax` segments queued so memory stays bounded.
final class SegmentFlusher: @unchecked Sendable {
    private let writer: StoreWriter
    private let queue = DispatchQueue(label: "strata.ingest.flush")
    private let slots: DispatchSemaphore
    private let lock = NSLock()
    private var firstError: Error?

    init(writer: StoreWriter, inFlightMax: Int = 2) {
        self.writer = writer
        slots = DispatchSemaphore(value: inFlightMax)
    }

    func enqueue(table: String, partition: Int, columns: [ColumnVector], policy: CompressionPolicy) throws {
        try checkError()
        slots.wait()
        let box = UncheckedBox(columns)
        queue.async { [self] in
            defer { slots.signal() }
            guard error == nil else { return }
            do {
                try writer.writeSegment(table: table, partition: partition, columns: box.value, policy: policy)
            } catch {
                lock.withLock { if firstError == nil { firstError = error } }
            }
        }
    }

    private var error: Error? { lock.withLock { firstError } }

    private func checkError() throws {
        if let error { throw error }
    }

    /// Waits for every queued segment and rethrows the first failure.
    func drain() throws {
        queue.sync {}
        try checkError()
    }
}

/// Moves a value across a queue boundary where the sender gives up its copy.
struct UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

import Dispatch
import Foundation
