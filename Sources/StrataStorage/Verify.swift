import StrataFormat

/// A layer's deep check of the files it owns in the store at a path (every version), registered with
/// `Store.verify` by whoever assembles the layers (the CLI registers features' and training's).
public typealias StoreCheck = @Sendable (String) throws -> VerifyReport

/// The result of checking every checksum of a store.
public struct VerifyReport: Sendable {
    public var manifestsChecked = 0
    public var filesChecked = 0
    public var blocksChecked = 0
    public var bytesChecked = 0
    /// Damage, one line each, naming the file, column and block.
    public var problems: [String] = []
    /// Files in the store that no manifest references (left by an ingest killed before its commit).
    public var orphans: [String] = []
    /// Findings that are not damage (a file of an older format kept for time travel), one line each.
    public var notes: [String] = []
    /// Versions whose manifest could not be read: the files they name are unknown, so nothing may be
    /// called an orphan while there is one.
    public var unreadableVersions: [Int] = []

    public var isClean: Bool { problems.isEmpty }

    public init() {}

    /// Adds another layer's findings (the files it checked, their bytes and problems) to this report.
    public mutating func merge(_ other: VerifyReport) {
        filesChecked += other.filesChecked
        blocksChecked += other.blocksChecked
        bytesChecked += other.bytesChecked
        problems += other.problems
        notes += other.notes
    }
}

extension Store {
    /// Checks every manifest on disk and every segment any of them references: file checksums, header,
    /// footer, every block checksum, and a full decode of every block (value domains, entity ids against
    /// the dictionary, zone maps and partition keys included). Files named by the sections of the layers
    /// above (feature views, online tables, runs, models) are checked to exist here, so that they are not
    /// orphans; each layer registers a deep check of its own files in `checks`, whose findings are merged
    /// into the report.
    /// `ignoringVersions`: versions checked as if their manifests were gone (gc's dry run).
    public static func verify(path: String, checks: [StoreCheck] = [], ignoringVersions: Set<Int> = [], progress: ((String) -> Void)? = nil) throws -> VerifyReport {
        guard FileSystem.isDirectory(StorePaths.manifestDirectory(path)) else { throw StorageError.notAStore(path: path) }
        var report = VerifyReport()
        var referenced: [String: UInt32] = [:]
        var schemas: [String: [ColumnDescriptor]] = [:]
        var sectionFiles: Set<String> = []
        /// Month partition (key, partition column) and row count each segment must hold.
        var partitionOf: [String: (key: Int, column: Int)] = [:]
        var rowCountOf: [String: Int] = [:]
        /// The columns (storage indexes) each clustered segment's manifest entry says its rows are sorted by.
        var sortKeyOf: [String: [Int]] = [:]
        /// The smallest entity count of the versions that reference each table segment: its ids must be below it.
        var entityLimitOf: [String: Int] = [:]
        for version in try StorePaths.versions(path) where !ignoringVersions.contains(version) {
            report.manifestsChecked += 1
            do {
                let manifest = try StorePaths.readManifest(path, version: version)
                sectionFiles.formUnion(manifest.sectionFiles)
                // The entity dictionary: segments continue each other's ids and add up to the count.
                var nextId = 0
                for segment in manifest.entities.segments {
                    referenced[segment.file] = segment.fileCRC
                    schemas[segment.file] = [EntitySegmentSchema.descriptor]
                    rowCountOf[segment.file] = segment.count
                    if segment.firstId != nextId {
                        report.problems.append("manifest v\(version): entity segment \(segment.file) starts at id \(segment.firstId), expected \(nextId)")
                    }
                    nextId = segment.firstId + segment.count
                }
                if nextId != manifest.entities.count {
                    report.problems.append("manifest v\(version): entity segments hold \(nextId) ids, the manifest says \(manifest.entities.count)")
                }
                for (name, table) in manifest.tables.sorted(by: { $0.key < $1.key }) {
                    let partitionColumn = table.partitioning == .month ? table.partitionColumn.flatMap { column in table.columns.firstIndex { $0.name == column } } : nil
                    var seen = Set<String>()
                    for segment in table.segments {
                        if !seen.insert(segment.file).inserted {
                            report.problems.append("manifest v\(version): table \(name) lists \(segment.file) twice")
                        }
                        referenced[segment.file] = segment.fileCRC
                        schemas[segment.file] = table.descriptors
                        rowCountOf[segment.file] = segment.rowCount
                        entityLimitOf[segment.file] = min(entityLimitOf[segment.file] ?? Int.max, manifest.entities.count)
                        if let partitionColumn { partitionOf[segment.file] = (segment.partition, partitionColumn) }
                        if let keys = segment.sortedBy {
                            sortKeyOf[segment.file] = keys.compactMap { key in table.columns.firstIndex { $0.name == key } }
                        }
                    }
                }
            } catch let error as StorageError {
                report.problems.append(error.description)
                report.unreadableVersions.append(version)
            }
        }
        for (file, expectedCRC) in referenced.sorted(by: { $0.key < $1.key }) {
            progress?(file)
            report.filesChecked += 1
            let absolute = path + "/" + file
            do {
                guard try FileSystem.fileSize(absolute) != nil else {
                    report.problems.append("\(absolute): missing (referenced by a manifest)")
                    continue
                }
                let reader = try SegmentReader(path: absolute, entityCount: entityLimitOf[file])
                report.bytesChecked += Int(reader.trailer.footerOffset) + Int(reader.trailer.footerSize)
                let actualCRC = reader.computeFileCRC()
                if actualCRC != reader.trailer.fileCRC {
                    report.problems.append("\(absolute): file checksum mismatch (damage in the header, a block or padding)")
                }
                if reader.trailer.fileCRC != expectedCRC {
                    report.problems.append("\(absolute): not the file the manifest committed (checksum \(reader.trailer.fileCRC), manifest \(expectedCRC))")
                }
                if reader.columns != schemas[file] {
                    report.problems.append("\(absolute): columns differ from the table schema")
                }
                if let expected = rowCountOf[file], reader.rowCount != expected {
                    report.problems.append("\(absolute): \(reader.rowCount) rows, the manifest says \(expected)")
                }
                for column in 0..<reader.columns.count {
                    for chunk in 0..<reader.chunkCount {
                        report.blocksChecked += 1
                        do {
                            let values = try reader.read(column: column, chunk: chunk)
                            report.problems += Self.zoneMapProblems(values, reader: reader, column: column, chunk: chunk,
                                                                    partition: partitionOf[file].flatMap { $0.column == column ? $0.key : nil })
                        } catch let error as StorageError {
                            report.problems.append(error.shortDescription)
                        }
                    }
                }
                if let keys = sortKeyOf[file], let problem = Self.orderProblem(reader, keys: keys) { report.problems.append(problem) }
            } catch let error as StorageError {
                report.problems.append(error.shortDescription)
            }
        }
        // The dictionary of the latest version: its strings must be distinct (each id one user).
        if let latest = try StorePaths.versions(path).last, let store = try? Store(path: path, version: latest),
           let dictionary = try? store.loadEntities(indexed: false), let (first, second) = dictionary.firstDuplicate() {
            report.problems.append("\(path)/entities: entity ids \(first) and \(second) have the same msno '\(dictionary.string(first).prefix(60))'")
        }
        for file in sectionFiles.sorted() where try FileSystem.fileSize(path + "/" + file) == nil {
            report.problems.append("\(path)/\(file): missing (referenced by a manifest section)")
        }
        if report.unreadableVersions.isEmpty {
            report.orphans = try orphanFiles(path: path, referenced: Set(referenced.keys).union(sectionFiles))
        } else {
            report.notes.append("uncommitted files are not listed while a manifest cannot be read: its files would look uncommitted")
        }
        for check in checks { report.merge(try check(path)) }
        return report
    }

    /// The first row of a clustered segment out of the order its manifest entry claims (`sortedBy`), if any.
    /// Chunks that do not decode are reported by the block check already.
    static func orderProblem(_ reader: SegmentReader, keys: [Int]) -> String? {
        var previous: [Int64]?
        var row = 0
        for chunk in 0..<reader.chunkCount {
            guard let columns = try? keys.map({ try reader.read(column: $0, chunk: chunk) }) else { return nil }
            let values = columns.map { column -> [Int64] in
                if case .integers(let values) = column.values { return values }
                return []
            }
            guard values.allSatisfy({ $0.count == columns[0].count }) else { return nil }
            for index in 0..<columns[0].count {
                let key = values.map { $0[index] }
                if let previous, key.lexicographicallyPrecedes(previous) {
                    let names = keys.map { reader.columns[$0].name }.joined(separator: ", ")
                    return "\(reader.path): row \(row) is out of the order (\(names)) its manifest entry claims (sortedBy); strata compact rewrites it in order"
                }
                previous = key
                row += 1
            }
        }
        return nil
    }

    /// Checks a decoded chunk against what readers trust without decoding: its zone map (queries skip
    /// chunks by it) and, for a month-partitioned table's partition column, the partition key.
    static func zoneMapProblems(_ values: ColumnVector, reader: SegmentReader, column: Int, chunk: Int, partition: Int?) -> [String] {
        guard case .integers(let integers) = values.values else { return [] }
        var low = Int64.max, high = Int64.min
        for (row, value) in integers.enumerated() where !values.isNull(row) {
            low = min(low, value)
            high = max(high, value)
        }
        guard low <= high else { return [] }
        var problems: [String] = []
        let name = reader.columns[column].name
        let entry = reader.footer.chunk(column: column, chunk: chunk)
        if let zoneMin = entry.zoneMin, let zoneMax = entry.zoneMax, low < zoneMin || high > zoneMax {
            problems.append("\(reader.path): column \(name) chunk \(chunk): values [\(low), \(high)] lie outside the zone map [\(zoneMin), \(zoneMax)]")
        }
        if let partition, reader.columns[column].type == .date,
           Dates.monthKey(dayNumber: Int(low)) != partition || Dates.monthKey(dayNumber: Int(high)) != partition {
            problems.append("\(reader.path): column \(name) chunk \(chunk): dates outside partition \(partition)")
        }
        return problems
    }

    /// Files of the store's data directories that no manifest names, and temporary manifests: what a
    /// write killed before its commit leaves behind. The data directories are `tables`, `entities`, `tmp`
    /// and those holding a file some manifest names (the layers' directories: `features`, `online`, `runs`,
    /// …); anything else in the store (`rejects/`, a user's notes) is not Strata's to delete. Symbolic links
    /// are neither followed nor listed: nothing outside the store is ever a candidate.
    static func orphanFiles(path: String, referenced: Set<String>) throws -> [String] {
        var orphans: [String] = []
        func walk(_ relative: String) throws {
            for name in try FileSystem.listDirectory(path + "/" + relative) {
                let child = relative + "/" + name
                if FileSystem.isSymbolicLink(path + "/" + child) { continue }
                if FileSystem.isDirectory(path + "/" + child) {
                    try walk(child)
                } else if !referenced.contains(child) {
                    orphans.append(child)
                }
            }
        }
        var tops: Set<String> = ["tables", "entities", "tmp"]
        for file in referenced { if let top = file.split(separator: "/").first { tops.insert(String(top)) } }
        tops.remove("manifest")
        tops.remove("rejects")
        for top in tops.sorted() where !FileSystem.isSymbolicLink(path + "/" + top) && FileSystem.isDirectory(path + "/" + top) {
            try walk(top)
        }
        for name in try FileSystem.listDirectory(path + "/manifest") where name.hasPrefix(".tmp-") {
            orphans.append("manifest/" + name)
        }
        return orphans.sorted()
    }

    /// Deletes the orphans `verify` lists, holding the writer lock so no write is in flight. Committed
    /// files of every version are kept.
    /// Deletes the files no committed version uses. With `keepVersions`, first removes the manifests of
    /// all but the newest `keepVersions` versions (time travel to them ends), so that the files only they
    /// used go too. The manifests go first: a crash in between leaves files that the next gc deletes.
    public static func collectGarbage(path: String, dryRun: Bool = false, keepVersions: Int? = nil) throws -> GarbageReport {
        let fd = try FileSystem.lockExclusive(path + "/LOCK", lockedError: .locked(path: path), waitSeconds: StoreWriter.lockWaitSeconds)
        defer { FileSystem.close(fd) }
        guard FileSystem.isDirectory(StorePaths.manifestDirectory(path)) else { throw StorageError.notAStore(path: path) }
        var removedVersions: [Int] = []
        if let keepVersions {
            guard keepVersions >= 1 else { throw StorageError.invalid("--keep-versions must be at least 1 (the latest version is always kept)") }
            let versions = try StorePaths.versions(path)
            removedVersions = Array(versions.dropLast(keepVersions))
        }
        if !dryRun && !removedVersions.isEmpty {
            for version in removedVersions { try FileSystem.remove(path + "/" + StorePaths.manifestName(version)) }
            try FileSystem.fsyncDirectory(StorePaths.manifestDirectory(path))
        }
        let report = try verify(path: path, ignoringVersions: dryRun ? Set(removedVersions) : [])
        guard report.unreadableVersions.isEmpty else {
            throw StorageError.invalid("gc deletes nothing while a manifest cannot be read (version \(report.unreadableVersions.map(String.init).joined(separator: ", "))): "
                + "the files it names would look uncommitted. Run `strata verify`, and restore or remove that manifest first.")
        }
        var bytes = 0
        for file in report.orphans {
            bytes += (try FileSystem.fileSize(path + "/" + file)) ?? 0
            if !dryRun { try FileSystem.remove(path + "/" + file) }
        }
        if !dryRun {
            for directory in Set(report.orphans.map { FileSystem.directoryName(path + "/" + $0) }) { try FileSystem.fsyncDirectory(directory) }
        }
        return GarbageReport(files: report.orphans, bytes: bytes, removedVersions: removedVersions)
    }
}

/// What `collectGarbage` deleted (or, in a dry run, would delete).
public struct GarbageReport: Sendable {
    /// Store-relative paths of the deleted files.
    public var files: [String]
    public var bytes: Int
    /// Versions whose manifests were removed (`keepVersions`).
    public var removedVersions: [Int]
}

extension StorageError {
    /// The description without the advice, for lists of problems.
    public var shortDescription: String {
        if case .corrupt(let file, let column, let chunk, let reason) = self {
            var location = file
            if let column { location += ", column \(column)" }
            if let chunk { location += ", block \(chunk)" }
            return "\(location): \(reason)"
        }
        return description
    }
}
