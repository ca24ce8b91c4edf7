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

    /// Segments a month of the log may hold before the next commit compacts them into one.
    static let segmentsPerMonthMax = 32

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
            let base = try Store(path: path, version: writer.base.version)
            for (month, rows) in byMonth.sorted(by: { $0.key < $1.key }) {
                var part = LogColumns()
                // A month of many small commits is rewritten as one segment with the new records, so the
                // manifest and the scans of the log do not grow with the number of commits.
                let existing = writer.base.tables[table]?.segments.filter { $0.partition == month }.count ?? 0
                if existing >= segmentsPerMonthMax {
                    try part.read(store: base, month: month)
                    writer.dropPartition(table: table, partition: month)
                }
                for row in rows {
                    // Scored users come from the online table, so the store knows them.
                    guard let id = writer.entities.lookup(batch[row].msno) else { continue }
                    part.append(batch[row], entity: Int64(id))
                }
                try writer.writeSegment(table: table, partition: month, columns: part.columns, policy: .auto)
            }
            return try writer.commit(operation: "serving log: \(batch.count) scored requests").version
        } catch {
            writer.abort()
            throw error
        }
    }
}

/// The serving log's columns, gathered for one segment.
private struct LogColumns {
    var days: [Int64] = []
    var times: [Int64] = []
    var entities: [Int64] = []
    var models = StringArray()
    var probabilities: [Double] = []
    var buckets = StringArray()
    var features = StringArray()

    mutating func append(_ record: ServingLogRecord, entity: Int64) {
        days.append(record.timeMs / 86_400_000)
        times.append(record.timeMs)
        entities.append(entity)
        models.append(Array(record.model.utf8))
        probabilities.append(record.probability)
        buckets.append(Array(record.bucket.utf8))
        features.append(Array(record.features.utf8))
    }

    /// Appends the rows the log already holds for `month` (its columns are never NULL).
    mutating func read(store: Store, month: Int) throws {
        let first = Int64(Dates.dayNumber(yyyymmdd: month * 100 + 1)!)
        let last = Int64(Dates.firstDayOfMonth(dayNumber: Int(first) + 31)) - 1
        let scan = try TableScan(store: store, table: ServingLogService.table, dayRange: first...last)
        while let batch = try scan.next() {
            let columns = batch.columns
            guard case .integers(let day) = columns[0].values, case .integers(let time) = columns[1].values,
                  case .integers(let entity) = columns[2].values, case .strings(let model) = columns[3].values,
                  case .floats(let probability) = columns[4].values, case .strings(let bucket) = columns[5].values,
                  case .strings(let feature) = columns[6].values else {
                throw StorageError.invalid("table \(ServingLogService.table) does not have the serving log's columns")
            }
            days += day
            times += time
            entities += entity
            probabilities += probability
            for row in 0..<columns[0].count {
                models.append(Array(model.string(at: row).utf8))
                buckets.append(Array(bucket.string(at: row).utf8))
                features.append(Array(feature.string(at: row).utf8))
            }
        }
    }

    var columns: [ColumnVector] {
        [
            ColumnVector(type: .date, values: .integers(days)), ColumnVector(type: .int64, values: .integers(times)),
            ColumnVector(type: .entity, values: .integers(entities)), ColumnVector(type: .string, values: .strings(models)),
            ColumnVector(type: .float64, values: .floats(probabilities)), ColumnVector(type: .string, values: .strings(buckets)),
            ColumnVector(type: .string, values: .strings(features)),
        ]
    }
}
