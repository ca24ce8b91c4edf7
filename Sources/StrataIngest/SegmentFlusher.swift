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
        let box = UncheckedBox(columns)
        queue.async { [self] in
            defer { slots.signal() }
            guard error == nil else { return }
            do {
                // Clustered by user and time (format-spec §8), off the parsing threads.
                let clustered = writer.table(table)!.clustered(box.value)
                try writer.writeSegment(table: table, partition: partition, columns: clustered.columns, policy: policy, sortedBy: clustered.sortedBy)
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
