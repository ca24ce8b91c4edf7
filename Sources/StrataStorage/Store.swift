import Foundation
import StrataFormat

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A store pinned at one committed version: every read sees exactly that version's files (snapshot
/// isolation), however many commits happen meanwhile.
public final class Store: @unchecked Sendable {
    public let path: String
    public let manifest: Manifest
    /// The indexed dictionary, shared by the readers of this pinned version (`sharedEntities`). Segments
    /// are not kept open: a mapping held for the Store's life would keep every page a scan touched resident.
    private let cacheLock = NSLock()
    private var dictionary: EntityDictionary?

    public var version: Int { manifest.version }

    /// Opens the store at `path`, at its latest committed version or at `version` (time travel).
    public init(path: String, version requested: Int? = nil) throws {
        guard FileSystem.isDirectory(StorePaths.manifestDirectory(path)) else { throw StorageError.notAStore(path: path) }
        self.path = path
        let latest = try StorePaths.latestVersion(path)
        let version = requested ?? latest
        // Version 0 is the empty store before the first commit: the default of a new store, never a version to ask for.
        guard version <= latest, version > 0 || (requested == nil && latest == 0) else { throw StorageError.unknownVersion(requested: version, latest: latest) }
        if version > 0, requested != nil, let oldest = try StorePaths.versions(path).first, version < oldest {
            throw StorageError.invalid("version \(version) was removed by `strata gc --keep-versions`: the store keeps versions \(oldest)...\(latest)")
        }
        manifest = version == 0 ? .empty : try StorePaths.readManifest(path, version: version)
    }

    public var tableNames: [String] { manifest.tables.keys.sorted() }

    /// The latest committed version of the store at `path` (0 before the first commit), without opening
    /// it: one directory listing, cheap enough to poll.
    public static func latestVersion(path: String) throws -> Int { try StorePaths.latestVersion(path) }

    /// Every committed version of the store that opens (a version whose manifest is damaged is skipped:
    /// the storage layer's `verify` reports it), oldest first. The layers above check their own files with it.
    public static func openableVersions(path: String) throws -> [Store] {
        try StorePaths.versions(path).compactMap { try? Store(path: path, version: $0) }
    }

    public func table(_ name: String) throws -> TableManifest {
        guard let table = manifest.tables[name] else { throw StorageError.unknownTable(name: name, available: tableNames) }
        return table
    }

    /// Opens a segment of `table`, checking it is the file the manifest committed and has the table's schema.
    public func openSegment(_ entry: SegmentEntry, of table: TableManifest) throws -> SegmentReader {
        let reader = try SegmentReader(path: absolute(entry.file), entityCount: manifest.entities.count)
        guard reader.trailer.fileCRC == entry.fileCRC, reader.rowCount == entry.rowCount else {
            throw StorageError.corrupt(file: reader.path, column: nil, chunk: nil, reason: "file does not match its manifest entry (checksum or row count differ)")
        }
        guard reader.columns == table.descriptors else {
            throw StorageError.corrupt(file: reader.path, column: nil, chunk: nil, reason: "segment columns differ from the table schema")
        }
        return reader
    }

    /// The version's entity dictionary with its msno → id index, loaded once and shared by every reader of
    /// this `Store` (a query's `msno = '…'`). Read-only: a writer extends its own (`loadEntities`).
    public func sharedEntities() throws -> EntityDictionary {
        if let dictionary = cacheLock.withLock({ dictionary }) { return dictionary }
        let loaded = try loadEntities(indexed: true)
        return cacheLock.withLock {
            if dictionary == nil { dictionary = loaded }
            return dictionary!
        }
    }

    public func absolute(_ relativePath: String) -> String { path + "/" + relativePath }

    /// Loads every committed msno string (to print entity ids, or to extend the dictionary in a write).
    /// - Parameter indexed: build the msno → id hash table now (safe for concurrent lookups); false
    ///   leaves it to the first lookup, for readers that mostly turn ids into text.
    public func loadEntities(indexed: Bool = true) throws -> EntityDictionary {
        let dictionary = EntityDictionary(capacity: manifest.entities.count)
        for segment in manifest.entities.segments {
            let reader = try SegmentReader(path: absolute(segment.file))
            guard reader.trailer.fileCRC == segment.fileCRC, reader.rowCount == segment.count, dictionary.count == segment.firstId,
                reader.columns == [EntitySegmentSchema.descriptor]
            else {
                throw StorageError.corrupt(file: reader.path, column: nil, chunk: nil, reason: "entity segment does not match its manifest entry")
            }
            for chunk in 0..<reader.chunkCount {
                guard case .strings(let strings) = try reader.read(column: 0, chunk: chunk).values else {
                    preconditionFailure("entity column decoded as non-strings")
                }
                // Offsets into the dictionary's arena are u32.
                guard dictionary.stringBytes + strings.bytes.count <= Int(UInt32.max) else {
                    throw StorageError.corrupt(file: reader.path, column: "msno", chunk: chunk, reason: "the entity strings exceed 4 GiB")
                }
                if dictionary.count == 0 && strings.count > 0 {
                    // Room for every string at the first chunk's length, so that 6.8 M msno (300 MB) are not
                    // copied from array to twice-larger array as they arrive (a peak of 1.5 times the bytes).
                    // Bounded by the bytes really on disk: a manifest that lies about the count is caught
                    // after the load, and must not get a huge allocation first.
                    let fileBytes = manifest.entities.segments.reduce(0) { total, segment in
                        total + ((try? FileSystem.fileSize(absolute(segment.file))) ?? 0)
                    }
                    let total = min(manifest.entities.count, 64 * fileBytes)
                    let bytes = min(Int(UInt32.max), 16 * fileBytes, strings.bytes.count / strings.count * total + total / 64)
                    dictionary.reserve(count: total, bytes: bytes)
                }
                dictionary.appendCommitted(strings)
                reader.release(column: 0, chunk: chunk)
            }
        }
        guard dictionary.count == manifest.entities.count else {
            throw StorageError.corrupt(file: path + "/entities", column: nil, chunk: nil, reason: "entity dictionary has \(dictionary.count) ids, manifest says \(manifest.entities.count)")
        }
        if indexed { dictionary.buildIndex() }
        return dictionary
    }
}

enum EntitySegmentSchema {
    static let descriptor = ColumnDescriptor(name: "msno", type: .string, nullable: false)
}

/// File names inside a store (format-spec §2).
public enum StorePaths {
    static func manifestDirectory(_ store: String) -> String { store + "/manifest" }

    static func manifestName(_ version: Int) -> String { "manifest/" + zeroPadded(version, 12) + ".manifest" }

    static func segmentName(table: String, partition: Int, version: Int, sequence: Int) -> String {
        "tables/\(table)/\(partition)/v\(zeroPadded(version, 12))-\(zeroPadded(sequence, 5)).seg"
    }

    /// The entity segment `part` (0, 1, …) written by commit `version`: `eNNNNNNNNNNNN.seg`, then `-1`, `-2`, ….
    static func entitySegmentName(version: Int, part: Int = 0) -> String {
        "entities/e" + zeroPadded(version, 12) + (part == 0 ? "" : "-\(part)") + ".seg"
    }

    public static func rejectsName(table: String, version: Int) -> String { "rejects/\(table)-v\(zeroPadded(version, 12)).csv" }

    public static func zeroPadded(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// Committed versions present on disk, ascending (names that are not NNNNNNNNNNNN.manifest are ignored).
    public static func versions(_ store: String) throws -> [Int] {
        try FileSystem.listDirectory(manifestDirectory(store)).compactMap { name -> Int? in
            guard name.count == 21, name.hasSuffix(".manifest"), let version = Int(name.prefix(12)), name.prefix(12).allSatisfy(\.isNumber) else { return nil }
            return version
        }.sorted()
    }

    static func latestVersion(_ store: String) throws -> Int { try versions(store).last ?? 0 }

    static func readManifest(_ store: String, version: Int) throws -> Manifest {
        let file = store + "/" + manifestName(version)
        do {
            let manifest = try Manifest.decode(try FileSystem.readFile(file))
            guard manifest.version == version else { throw FormatError("manifest says version \(manifest.version), its name \(version)") }
            return manifest
        } catch var error as FormatError {
            if !error.needsNewerReader && version > 1 { error.message += " (open the previous version with --version \(version - 1))" }
            throw StorageError.from(error, file: file)
        }
    }
}

extension Store {
    /// A version whose manifest cannot be read, and why.
    public struct UnreadableVersion: Error, Sendable {
        public var version: Int
        public var reason: String
    }

    /// Every committed version still on disk, oldest first: its manifest, or why it cannot be read.
    public static func history(path: String) throws -> [Result<Manifest, UnreadableVersion>] {
        guard FileSystem.isDirectory(StorePaths.manifestDirectory(path)) else { throw StorageError.notAStore(path: path) }
        return try StorePaths.versions(path).map { version in
            do {
                return .success(try StorePaths.readManifest(path, version: version))
            } catch let error as StorageError {
                return .failure(UnreadableVersion(version: version, reason: error.shortDescription))
            }
        }
    }

    /// Removes table `name` in a new version; earlier versions keep it (time travel) until gc.
    public static func dropTable(path: String, name: String) throws -> Int {
        let writer = try StoreWriter(path: path, create: false)
        do {
            guard writer.table(name) != nil else {
                throw StorageError.unknownTable(name: name, available: writer.base.tables.keys.sorted())
            }
            writer.dropTable(name)
            return try writer.commit(operation: "drop table \(name)").version
        } catch {
            writer.abort()
            throw error
        }
    }
}
