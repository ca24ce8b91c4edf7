import Dispatch
import Foundation
import StrataFormat
import StrataStorage

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
        let box = ColumnsBox(columns)
        queue.async { [self] in
            defer { slots.signal() }
            guard error == nil else { return }
            do {
                // Clustered by user and time (format-spec §8), off the parsing threads; the box gives up its
                // columns so that each is freed as its sorted copy replaces it.
                var columns = box.take()
                let sortedBy = writer.table(table)!.cluster(&columns)
                try writer.writeSegment(table: table, partition: partition, columns: columns, policy: policy, sortedBy: sortedBy)
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

/// Moves columns across a queue boundary where the sender gives up its copy; `take` leaves the box empty,
/// so the receiver holds the only reference.
final class ColumnsBox: @unchecked Sendable {
    private var columns: [ColumnVector]
    init(_ columns: [ColumnVector]) { self.columns = columns }

    func take() -> [ColumnVector] {
        defer { columns = [] }
        return columns
    }
}
