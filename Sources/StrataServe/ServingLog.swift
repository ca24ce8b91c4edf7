import Foundation
import ServiceLifecycle
import StrataFeatures
import StrataFormat
import StrataStorage
import Synchronization

/// One scored user, as the serving log keeps it for monitoring.
public struct ServingLogRecord: Sendable {
    /// Milliseconds since 1970-01-01 UTC.
    public var timeMs: Int64
    public var msno: String
    /// `churn@4`.
    public var model: String
    public var probability: Double
    public var bucket: String
    /// The feature vector the model saw, as a JSON object (feature name → value).
    public var features: String
}

/// Scored requests waiting to be committed: bounded, so a store that cannot take them (locked, full disk)
/// costs dropped log records — counted — never memory or request latency.
public final class ServingLogQueue: Sendable {
    public let capacity: Int
    private let pending = Mutex<[ServingLogRecord]>([])
    private let counters = Mutex<(logged: Int, dropped: Int, committed: Int)>((0, 0, 0))

    public init(capacity: Int) { self.capacity = capacity }

    /// Adds `record` unless the queue is full (then it is counted as dropped).
    public func offer(_ record: ServingLogRecord) {
        let accepted = pending.withLock { queue -> Bool in
            guard queue.count < capacity else { return false }
            queue.append(record)
            return true
        }
        counters.withLock { accepted ? ($0.logged += 1) : ($0.dropped += 1) }
    }

    func takeAll() -> [ServingLogRecord] { pending.withLock { queue in defer { queue = [] }; return queue } }

    /// Puts back a batch that could not be committed, ahead of newer records; what no longer fits is dropped.
    func putBack(_ batch: [ServingLogRecord]) {
        let lost = pending.withLock { queue -> Int in
            let merged = batch + queue
            queue = Array(merged.prefix(capacity))
            return merged.count - queue.count
        }
        if lost > 0 { counters.withLock { $0.dropped += lost } }
    }

    func markCommitted(_ count: Int) { counters.withLock { $0.committed += count } }

    public var depth: Int { pending.withLock { $0.count } }
    public var dropped: Int { counters.withLock { $0.dropped } }
    public var committed: Int { counters.withLock { $0.committed } }
    public var logged: Int { counters.withLock { $0.logged } }
}

/// Commits the queue to the `serving_log` table every `interval`, off the request path; on graceful
/// shutdown (SIGTERM) it commits what is left before returning.
struct ServingLogService: Service {
    static let table = "serving_log"
    static let columns = [
        ColumnSchema(name: "day", type: .date, nullable: false),
        ColumnSchema(name: "time_ms", type: .int64, nullable: false),
        ColumnSchema(name: "msno", type: .entity, nullable: false),
        ColumnSchema(name: "model", type: .string, nullable: false),
        ColumnSchema(name: "churn_probability", type: .float64, nullable: false),
        ColumnSchema(name: "bucket", type: .string, nullable: false),
        ColumnSchema(name: "features", type: .string, nullable: false),
    ]

    let queue: ServingLogQueue
    let path: String
    let interval: Duration
    let log: @Sendable (String) -> Void
    /// Serialises commits and keeps them off the cooperative threads (a commit fsyncs).
    let worker = DispatchQueue(label: "strata.serving-log")

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                await flush(finalAttempt: false)
            }
        }
        // Shutting down: the server has stopped taking requests; commit every record still queued.
        await flush(finalAttempt: true)
    }

    /// Commits the queued records; a failure puts them back for the next attempt (the final attempt waits
    /// for the store's lock up to 10 s, then reports what it could not commit).
    func flush(finalAttempt: Bool) async {
        let batch = queue.takeAll()
        guard !batch.isEmpty else { return }
        let result: Result<Int, Error> = await withCheckedContinuation { continuation in
            worker.async { continuation.resume(returning: Result { try Self.commit(batch, path: path, lockWaitSeconds: finalAttempt ? 10 : 0) }) }
        }
        switch result {
        case .success(let version):
            queue.markCommitted(batch.count)
            if finalAttempt { log("serving log: committed \(batch.count) records at shutdown (store version \(version))") }
        case .failure(let error):
            if finalAttempt {
                log("serving log: \(batch.count) records could not be committed at shutdown: \(error)")
            } else {
                queue.putBack(batch)
            }
        }
    }

    /// Appends `batch` to `serving_log`, one segment per month, in one commit.
    static func commit(_ batch: [ServingLogRecord], path: String, lockWaitSeconds: Double) throws -> Int {
        let writer = try StoreWriter(path: path, create: false, lockWaitSeconds: lockWaitSeconds)
        do {
            try writer.ensureTable(table, columns: columns, partitionColumn: "day", partitioning: .month)
            if writer.base.tables[table] == nil {
                var lineage = Lineage(kind: "serving-log", storeVersion: writer.base.version, featureView: "", featureViewVersion: 0,
                                      featureViewHash: "", labelsTable: "", labelsRowCount: 0, semantics: "strictly-before")
                lineage.model = batch.first?.model
                try writer.setLineage(lineage, of: table)
            }
            var byMonth: [Int: [Int]] = [:]
            for (index, record) in batch.enumerated() {
                byMonth[Dates.monthKey(dayNumber: Int(record.timeMs / 86_400_000)), default: []].append(index)
            }
            for (month, rows) in byMonth.sorted(by: { $0.key < $1.key }) {
                var ids: [Int64] = []
                var kept: [Int] = []
                for row in rows {
                    // Scored users come from the online table, so the store knows them.
                    guard let id = writer.entities.lookup(batch[row].msno) else { continue }
                    ids.append(Int64(id))
                    kept.append(row)
                }
                guard !kept.isEmpty else { continue }
                try writer.writeSegment(table: table, partition: month, columns: [
                    ColumnVector(type: .date, values: .integers(kept.map { batch[$0].timeMs / 86_400_000 })),
                    ColumnVector(type: .int64, values: .integers(kept.map { batch[$0].timeMs })),
                    ColumnVector(type: .entity, values: .integers(ids)),
                    ColumnVector(type: .string, values: .strings(StringArray(kept.map { batch[$0].model }))),
                    ColumnVector(type: .float64, values: .floats(kept.map { batch[$0].probability })),
                    ColumnVector(type: .string, values: .strings(StringArray(kept.map { batch[$0].bucket }))),
                    ColumnVector(type: .string, values: .strings(StringArray(kept.map { batch[$0].features }))),
                ], policy: .auto)
            }
            return try writer.commit(operation: "serving log: \(batch.count) scored requests").version
        } catch {
            writer.abort()
            throw error
        }
    }
}
