import Foundation
#if canImport(Glibc)
import Glibc
#endif
import StrataFormat

/// One write transaction: new segments and entities become visible together at `commit()`, or never.
/// Holds the store's writer lock from creation until commit, abort or deinit.
///
/// `writeSegment` may run on a background queue while the caller goes on declaring tables (ingest does
/// that): the table list, the file list and the sequence number are guarded by `state`.
public final class StoreWriter: @unchecked Sendable {
    public let path: String
    public let base: Manifest
    /// The version `commit()` will create.
    public let newVersion: Int
    public let entities: EntityDictionary
    private var tables: [String: TableManifest]
    /// The next version's sections of the layers above (`ManifestSection`), starting from the base's.
    private var sections: [String: JSONValue]
    private var writtenFiles: [String] = []
    private var sequence = 0
    private let state = NSLock()
    private var lockFD: Int32?
    /// This writer created the store's directory: an abort before the first commit removes it again, so
    /// a failed first ingest leaves no empty store behind.
    private var createdDirectory = false

    /// The command line recorded in every manifest this process commits (`strata versions` shows it).
    nonisolated(unsafe) public static var commandLine: String?

    /// Ids per entity segment a commit writes (format-spec §6); tests lower it.
    public var entitySegmentIdsMax = 1 << 20

    /// Rows per chunk of a clustered segment (`sortedBy`): a point query (`msno = '…'`) decodes the one chunk
    /// per segment that holds the user, so smaller chunks answer it faster. At scale M, 16 Ki rows against 64 Ki
    /// took it from 14 to 4 ms in process, for 0.7% more bytes and full scans at the same speed (8 Ki: 2 ms,
    /// full scans 25% slower); figures in tools/bench/README.md.
    public static let clusteredChunkRowCount = 16_384

    /// How long a writer waits for another one to finish before giving up (the CLI's `--wait`).
    nonisolated(unsafe) public static var lockWaitSeconds = 0.0

    /// Opens `path` for writing, creating the store when `create` is true and it does not exist.
    /// - Parameter lockWaitSeconds: how long to wait for another writer's lock (default `lockWaitSeconds`).
    public init(path: String, create: Bool = true, lockWaitSeconds: Double? = nil) throws {
        if !FileSystem.isDirectory(StorePaths.manifestDirectory(path)) {
            guard create else { throw StorageError.notAStore(path: path) }
            createdDirectory = !FileSystem.isDirectory(path) && !FileSystem.isSymbolicLink(path)
            try FileSystem.createDirectories(StorePaths.manifestDirectory(path))
        }
        self.path = path
        let fd = try FileSystem.lockExclusive(path + "/LOCK", lockedError: .locked(path: path), waitSeconds: lockWaitSeconds ?? Self.lockWaitSeconds)
        lockFD = fd
        do {
            let store = try Store(path: path)
            base = store.manifest
            entities = try store.loadEntities()
        } catch {
            FileSystem.close(fd)
            throw error
        }
        newVersion = base.version + 1
        tables = base.tables
        sections = base.sections
    }

    deinit {
        if lockFD != nil { abort() }
    }

    /// Declares `table` with its schema; an existing table must have exactly this schema.
    public func ensureTable(_ name: String, columns: [ColumnSchema], partitionColumn: String?, partitioning: Partitioning) throws {
        try state.withLock { try declareTable(name, columns: columns, partitionColumn: partitionColumn, partitioning: partitioning) }
    }

    private func declareTable(_ name: String, columns: [ColumnSchema], partitionColumn: String?, partitioning: Partitioning) throws {
        try StoreNames.validate(name, what: "table name")
        // What a reader would refuse is refused before anything is written (format-spec §9).
        let candidate = TableManifest(columns: columns, partitionColumn: partitionColumn, partitioning: partitioning, sourceBytes: 0, segments: [], lineage: nil)
        let problems = candidate.problems(name: name)
        guard problems.isEmpty else { throw StorageError.invalid(problems.joined(separator: "; ")) }
        if let existing = tables[name] {
            guard existing.columns == columns, existing.partitionColumn == partitionColumn, existing.partitioning == partitioning else {
                throw StorageError.invalid("table \(name) already exists with a different schema (\(existing.columns.map(\.name).joined(separator: ",")))")
            }
            return
        }
        // SQL resolves names without case: two tables that differ only in case would shadow each other.
        if let clash = tables.keys.first(where: { $0.lowercased() == name.lowercased() }) {
            throw StorageError.invalid("table \(name) would differ from table \(clash) only in case, which SQL does not tell apart; choose another name")
        }
        tables[name] = TableManifest(columns: columns, partitionColumn: partitionColumn, partitioning: partitioning, sourceBytes: 0, segments: [], lineage: nil)
    }

    /// Removes `partition`'s segments from `table` in the next version (a compaction writes them again as
    /// one); their files stay for older versions until gc.
    public func dropPartition(table name: String, partition: Int) {
        state.withLock { tables[name]?.segments.removeAll { $0.partition == partition } }
    }

    /// Removes a table from the next version (its files stay for older versions).
    public func dropTable(_ name: String) {
        state.withLock { tables[name] = nil }
    }

    /// Checks that a derived output may be written to `name`: a new name, or with `replace` an existing
    /// derived table (one with lineage). Ingested source tables are replaced only with `force`.
    public func checkOutputTable(_ name: String, replace: Bool, force: Bool, flag: String = "--out") throws {
        try StoreNames.validate(name, what: flag)
        guard let existing = table(name) else { return }
        guard replace else { throw StorageError.invalid("table \(name) already exists; choose another \(flag) or pass --replace") }
        if existing.lineage == nil && !force {
            throw StorageError.invalid("table \(name) holds ingested source data; --replace only replaces derived tables (training sets, predictions). Pass --force as well to replace it anyway")
        }
    }

    /// Replaces `name` with an empty table of this schema, after `checkOutputTable`.
    public func replaceOutputTable(_ name: String, columns: [ColumnSchema], replace: Bool, force: Bool, flag: String = "--out") throws {
        try checkOutputTable(name, replace: replace, force: force, flag: flag)
        dropTable(name)
        try ensureTable(name, columns: columns, partitionColumn: nil, partitioning: .none)
    }

    /// Records where derived table `table` came from (the deriving layer's record, kept verbatim).
    public func setLineage<L: Encodable>(_ lineage: L, of table: String) throws {
        let json = try JSONValue(encoding: lineage)
        state.withLock { tables[table]!.lineage = json }
    }

    /// The tables of the version this write commits.
    public var tableNames: [String] { state.withLock { Array(tables.keys) } }

    /// Section `S` as this write will commit it (the base's, or what was set since), decoded and checked.
    public func section<S: ManifestSection>(_ type: S.Type) throws -> S {
        var manifest = base
        manifest.tables = state.withLock { tables }
        manifest.sections = state.withLock { sections }
        return try manifest.section(S.self)
    }

    /// Replaces section `S` in the version this write commits.
    public func setSection<S: ManifestSection>(_ value: S) throws {
        let json = value.isEmpty ? nil : try JSONValue(encoding: value)
        state.withLock { sections[S.key] = json }
    }

    /// Path of a new file of this write, made durable now and made visible by the commit.
    public func newFilePath(_ relativePath: String) throws -> String {
        let absolute = path + "/" + relativePath
        try FileSystem.createDirectories(FileSystem.directoryName(absolute))
        try FileSystem.remove(absolute)
        state.withLock { writtenFiles.append(absolute) }
        return absolute
    }

    /// Writes a small file of this write (fsynced; visible once the manifest names it).
    public func writeFile(_ bytes: [UInt8], relativePath: String) throws {
        let absolute = try newFilePath(relativePath)
        let fd = try FileSystem.open(absolute, O_WRONLY | O_CREAT | O_TRUNC)
        defer { FileSystem.close(fd) }
        try bytes.withUnsafeBytes { try FileSystem.writeAll(fd, $0, path: absolute) }
        try FileSystem.fsync(fd, path: absolute)
    }

    public func table(_ name: String) -> TableManifest? { state.withLock { tables[name] } }

    public func addSourceBytes(_ count: Int, to table: String) {
        state.withLock { tables[table]!.sourceBytes += count }
    }

    /// Records a CSV file ingested into `table` by this commit.
    public func addSourceFile(name: String, sizeBytes: Int, crc32c: UInt32, rows: Int, cutoff: Int? = nil, to table: String) {
        state.withLock {
            tables[table]!.sourceFiles = (tables[table]!.sourceFiles ?? [])
                + [SourceFile(name: name, sizeBytes: sizeBytes, crc32c: crc32c, version: newVersion, rows: rows, cutoff: cutoff)]
        }
    }

    /// Writes one segment of `table` for `partition`; it joins the table at commit, after the partition's
    /// existing segments (so ingestion order is kept, format-spec §8).
    /// `sortedBy`: the columns the rows are sorted by (`SegmentEntry.sortedBy`); the caller sorted them.
    public func writeSegment(table name: String, partition: Int, columns: [ColumnVector], policy: CompressionPolicy, sortedBy: [String]? = nil) throws {
        guard let rowCount = columns.first?.count, rowCount > 0 else { return }
        let (table, relative) = state.withLock { () -> (TableManifest?, String) in
            defer { sequence += 1 }
            return (tables[name], StorePaths.segmentName(table: name, partition: partition, version: newVersion, sequence: sequence))
        }
        guard let table else { preconditionFailure("ensureTable(\(name)) first") }
        let absolute = path + "/" + relative
        try FileSystem.createDirectories(FileSystem.directoryName(absolute))
        // A file of this uncommitted version can only be an orphan of a writer that died: replace it.
        try FileSystem.remove(absolute)
        state.withLock { writtenFiles.append(absolute) }
        let written = try SegmentWriter.write(columns: columns, descriptors: table.descriptors, to: absolute, relativePath: relative, policy: policy,
                                              chunkRowCount: sortedBy == nil ? FormatLimits.defaultChunkRowCount : Self.clusteredChunkRowCount)
        state.withLock {
            tables[name]!.segments.append(
                SegmentEntry(file: relative, partition: partition, rowCount: written.rowCount, sizeBytes: written.sizeBytes, fileCRC: written.fileCRC,
                             sortedBy: sortedBy))
        }
    }

    /// Makes everything written visible as `newVersion` (format-spec §2, commit protocol).
    @discardableResult
    public func commit(operation: String) throws -> Manifest {
        if let hook = Self.hookLock.withLock({ Self.hook }) { try hook(self) }
        return try state.withLock { try commitLocked(operation: operation) }
    }

    nonisolated(unsafe) private static var hook: ((StoreWriter) throws -> Void)?
    private static let hookLock = NSLock()

    /// Runs `body` with `hook` called on every writer of this process just before it commits, so that a
    /// caller can add its own record to the version another layer commits: the pipeline marks a step done
    /// in the very commit that does the step's work (both land, or neither). Hooks do not nest.
    public static func withCommitHook<T>(_ hook: @escaping (StoreWriter) throws -> Void, _ body: () throws -> T) throws -> T {
        try hookLock.withLock {
            guard Self.hook == nil else { throw StorageError.invalid("a commit hook is already set") }
            Self.hook = hook
        }
        defer { hookLock.withLock { Self.hook = nil } }
        return try body()
    }

    private func commitLocked(operation: String) throws -> Manifest {
        precondition(lockFD != nil, "commit after abort")
        var entitySection = base.entities
        // New msno strings, in segments of at most `entitySegmentIdsMax`: each is copied out of the dictionary
        // and encoded whole, so a first ingest of 6.8 M users does not hold 300 MB twice.
        var firstId = entities.committedCount
        var part = 0
        while firstId < entities.count {
            let ids = firstId..<min(entities.count, firstId + max(1, entitySegmentIdsMax))
            let relative = StorePaths.entitySegmentName(version: newVersion, part: part)
            let absolute = path + "/" + relative
            try FileSystem.createDirectories(path + "/entities")
            try FileSystem.remove(absolute)
            writtenFiles.append(absolute)
            let written = try SegmentWriter.write(
                columns: [ColumnVector(type: .string, values: .strings(entities.strings(ids: ids)))], descriptors: [EntitySegmentSchema.descriptor],
                to: absolute, relativePath: relative, policy: .auto)
            entitySection.segments.append(
                Manifest.EntitySegment(file: relative, firstId: ids.lowerBound, count: ids.count, sizeBytes: written.sizeBytes, fileCRC: written.fileCRC))
            entitySection.count = ids.upperBound
            firstId = ids.upperBound
            part += 1
        }
        for name in tables.keys {
            // Stable: within a partition, older segments first, then this commit's in write order.
            tables[name]!.segments = tables[name]!.segments.enumerated().sorted {
                ($0.element.partition, $0.offset) < ($1.element.partition, $1.offset)
            }.map(\.element)
        }
        // Segment files are fsynced as written; their directory entries must be durable before the manifest.
        for directory in Set(writtenFiles.map(FileSystem.directoryName)) { try FileSystem.fsyncDirectory(directory) }
        var manifest = Manifest(
            version: newVersion, parentVersion: base.version, createdAt: Self.timestamp(), operation: operation,
            entities: entitySection, tables: tables, sections: sections)
        manifest.command = Self.commandLine
        let final = path + "/" + StorePaths.manifestName(newVersion)
        let temporary = path + "/manifest/.tmp-\(newVersion).manifest"
        try FileSystem.writeAtomically(try manifest.encoded(), to: final, temporaryPath: temporary)
        entities.markCommitted()
        writtenFiles.removeAll()
        releaseLock()
        return manifest
    }

    /// Drops everything written in this transaction; the store stays at `base`.
    public func abort() {
        state.withLock {
            for file in writtenFiles { try? FileSystem.remove(file) }
            writtenFiles.removeAll()
        }
        if createdDirectory && base.version == 0 && lockFD != nil {
            // Only directories and the lock are left of a store this writer created; nothing committed.
            try? FileManager.default.removeItem(atPath: path)
        }
        releaseLock()
    }

    private func releaseLock() {
        if let fd = lockFD { FileSystem.close(fd) }
        lockFD = nil
    }

    public static func timestamp() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date())
    }
}
