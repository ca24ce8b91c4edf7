import StrataFormat

/// What `Store.compact` did to one partition.
public struct PartitionCompaction: Codable, Sendable, Equatable {
    public var partition: Int
    public var segmentsBefore: Int
    public var rows: Int
    public var bytesBefore: Int
    public var bytesAfter: Int
}

/// What `Store.compact` did: the partitions rewritten and the version that made it visible.
public struct CompactionReport: Codable, Sendable {
    public var table: String
    public var partitions: [PartitionCompaction]
    /// The version committed; nil when every partition asked for was one clustered segment already.
    public var committedVersion: Int?
    /// Partitions asked for that needed nothing.
    public var alreadyCompact: Int
}

extension Store {
    /// `strata compact`: rewrites each partition of an ingested table (or those in `partitions`) that holds
    /// several segments, or a segment not in the table's clustering order, as one segment sorted by
    /// `TableManifest.clusteringKey` (format-spec §8). The sort is stable over storage order, so each user's
    /// rows keep their ingestion order among equal keys and every tie rule reads the same rows; the table's
    /// rows and their values are unchanged. One commit, under the writer lock: a reader sees the partitions
    /// before or after, never a mix; the old segments stay for earlier versions until `gc`. Memory holds one
    /// partition at a time.
    public static func compact(path: String, table name: String, partitions requested: [Int]? = nil,
                               progress: ((Int, Int) -> Void)? = nil) throws -> CompactionReport {
        let writer = try StoreWriter(path: path, create: false)
        do {
            guard let table = writer.table(name) else {
                throw StorageError.unknownTable(name: name, available: writer.base.tables.keys.sorted())
            }
            guard table.lineage == nil else {
                throw StorageError.invalid("table \(name) is derived (a training set, predictions or a log): its row order is its own; rebuild it instead of compacting it")
            }
            let existing = Array(Set(table.segments.map(\.partition))).sorted()
            var keys = existing
            if let requested {
                let missing = requested.filter { !existing.contains($0) }
                guard missing.isEmpty else {
                    let known = existing.map(String.init)
                    throw StorageError.invalid("table \(name) has no partition \(missing.map(String.init).joined(separator: ", ")); "
                        + "its partitions: \(known.count > 12 ? known.prefix(12).joined(separator: ", ") + ", …" : known.joined(separator: ", "))")
                }
                keys = Array(Set(requested)).sorted()
            }
            let key = table.clusteringKey
            let keyColumns = (key ?? []).compactMap { name in table.columns.firstIndex { $0.name == name } }
            let store = try Store(path: path, version: writer.base.version)
            var report = CompactionReport(table: name, partitions: [], committedVersion: nil, alreadyCompact: 0)
            for (index, partition) in keys.enumerated() {
                let segments = table.segments.filter { $0.partition == partition }
                // One segment that says it is clustered is checked, not trusted: one whose rows lie is rewritten.
                var lying = false
                if segments.count == 1, key != nil, segments[0].sortedBy == key {
                    lying = Store.orderProblem(try store.openSegment(segments[0], of: table), keys: keyColumns) != nil
                }
                guard segments.count > 1 || segments.contains(where: { $0.sortedBy != key }) || lying else {
                    report.alreadyCompact += 1
                    progress?(index + 1, keys.count)
                    continue
                }
                var part = table
                part.segments = segments
                var columns = try TableScan(store: store, manifest: part, name: name).load()
                let sortedBy = table.cluster(&columns)
                writer.dropPartition(table: name, partition: partition)
                try writer.writeSegment(table: name, partition: partition, columns: columns, policy: .auto, sortedBy: sortedBy)
                let written = writer.table(name)!.segments.last { $0.partition == partition }
                report.partitions.append(PartitionCompaction(
                    partition: partition, segmentsBefore: segments.count, rows: written?.rowCount ?? 0,
                    bytesBefore: segments.reduce(0) { $0 + $1.sizeBytes }, bytesAfter: written?.sizeBytes ?? 0))
                progress?(index + 1, keys.count)
            }
            guard !report.partitions.isEmpty else {
                writer.abort()
                return report
            }
            let count = report.partitions.count
            report.committedVersion = try writer.commit(operation: "compact \(name) (\(count) partition\(count == 1 ? "" : "s"))").version
            return report
        } catch {
            writer.abort()
            throw error
        }
    }
}
