import Foundation
import StrataFormat

/// One committed version of the store (format-spec §7): which tables exist and which files hold them.
public struct Manifest: Codable, Equatable, Sendable {
    public var version: Int
    public var parentVersion: Int
    public var createdAt: String
    public var operation: String
    /// The command line that made this version (`strata ingest --db s members.csv`), when a tool recorded it.
    public var command: String?
    public var entities: EntitySection
    public var tables: [String: TableManifest]
    /// The sections of the layers above storage, by key (`ManifestSection`): every other top-level key of
    /// the manifest JSON, kept verbatim. Storage reads only the store files they name.
    public var sections: [String: JSONValue]

    public init(version: Int, parentVersion: Int, createdAt: String, operation: String, entities: EntitySection,
                tables: [String: TableManifest], sections: [String: JSONValue] = [:]) {
        self.version = version
        self.parentVersion = parentVersion
        self.createdAt = createdAt
        self.operation = operation
        self.command = nil
        self.entities = entities
        self.tables = tables
        self.sections = sections
    }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    private static let storageKeys: Set<String> = ["version", "parentVersion", "createdAt", "operation", "command", "entities", "tables"]

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        func key(_ name: String) -> Key { Key(stringValue: name) }
        version = try container.decode(Int.self, forKey: key("version"))
        parentVersion = try container.decode(Int.self, forKey: key("parentVersion"))
        createdAt = try container.decode(String.self, forKey: key("createdAt"))
        operation = try container.decode(String.self, forKey: key("operation"))
        command = try container.decodeIfPresent(String.self, forKey: key("command"))
        entities = try container.decode(EntitySection.self, forKey: key("entities"))
        tables = try container.decode([String: TableManifest].self, forKey: key("tables"))
        sections = [:]
        for name in container.allKeys where !Self.storageKeys.contains(name.stringValue) {
            sections[name.stringValue] = try container.decode(JSONValue.self, forKey: name)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        func key(_ name: String) -> Key { Key(stringValue: name) }
        try container.encode(version, forKey: key("version"))
        try container.encode(parentVersion, forKey: key("parentVersion"))
        try container.encode(createdAt, forKey: key("createdAt"))
        try container.encode(operation, forKey: key("operation"))
        try container.encodeIfPresent(command, forKey: key("command"))
        try container.encode(entities, forKey: key("entities"))
        try container.encode(tables, forKey: key("tables"))
        for (name, value) in sections where !Self.storageKeys.contains(name) {
            try container.encode(value, forKey: key(name))
        }
    }

    public struct EntitySection: Codable, Equatable, Sendable {
        public var count: Int
        public var segments: [EntitySegment]
    }

    public struct EntitySegment: Codable, Equatable, Sendable {
        public var file: String
        public var firstId: Int
        public var count: Int
        public var sizeBytes: Int
        public var fileCRC: UInt32
    }

    public static let empty = Manifest(
        version: 0, parentVersion: 0, createdAt: "", operation: "empty store", entities: EntitySection(count: 0, segments: []), tables: [:])

    static let magic: [UInt8] = Array("STRATMAN".utf8)
    /// 2: segment entries may say how their rows are sorted (`sortedBy`, format-spec §7), a compatible
    /// extension: a reader of version 1 ignores the key and reads the same rows.
    public static let formatVersion: UInt16 = 2

    /// The file bytes: an envelope (format-spec §14) around the JSON payload.
    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return Envelope.seal(magic: Self.magic, formatVersion: Self.formatVersion, minReaderVersion: SegmentMagic.minReaderVersion,
                             payload: Array(try encoder.encode(self)))
    }

    /// Decodes and checks a manifest file. `validate: false` skips the consistency rules (`problems()` and
    /// those of the registered sections), for tests that forge a lying manifest.
    public static func decode(_ bytes: [UInt8], validate: Bool = true) throws -> Manifest {
        let payload = try bytes.withUnsafeBytes { raw in
            let opened = try Envelope.open(raw, magic: magic, readerVersion: SegmentMagic.readerVersion, what: "manifest",
                                           payloadBytesMax: FormatLimits.manifestPayloadBytesMax)
            return Data(raw[opened.payload])
        }
        let manifest: Manifest
        do {
            manifest = try JSONDecoder().decode(Manifest.self, from: payload)
        } catch {
            throw FormatError("manifest payload is not valid JSON of a manifest: \(describeDecodingError(error))")
        }
        let problems = validate ? manifest.problems() + ManifestSections.problems(of: manifest) : []
        guard problems.isEmpty else {
            throw FormatError("the manifest does not hold together: " + problems.prefix(5).joined(separator: "; ")
                + (problems.count > 5 ? " (and \(problems.count - 5) more)" : ""))
        }
        return manifest
    }
}

/// A table in a manifest: its schema, partitioning and segments in row order.
public struct TableManifest: Codable, Equatable, Sendable {
    public var columns: [ColumnSchema]
    public var partitionColumn: String?
    public var partitioning: Partitioning
    public var sourceBytes: Int
    public var segments: [SegmentEntry]
    /// Where a derived table (a training set, predictions) came from, as the layer that made it records it
    /// (storage does not interpret it); nil for ingested tables.
    public var lineage: JSONValue?
    /// Every CSV file ingested into the table, oldest first (nil for derived tables and older stores).
    public var sourceFiles: [SourceFile]?

    public init(columns: [ColumnSchema], partitionColumn: String? = nil, partitioning: Partitioning = .none, sourceBytes: Int = 0,
                segments: [SegmentEntry] = [], lineage: JSONValue? = nil) {
        self.columns = columns
        self.partitionColumn = partitionColumn
        self.partitioning = partitioning
        self.sourceBytes = sourceBytes
        self.segments = segments
        self.lineage = lineage
    }

    public var rowCount: Int { segments.reduce(0) { $0 + $1.rowCount } }
    public var sizeBytes: Int { segments.reduce(0) { $0 + $1.sizeBytes } }
    public var partitions: [Int] { Array(Set(segments.map(\.partition))).sorted() }

    /// The rows of the table's largest partition (all its rows when it has one).
    public var largestPartitionRowCount: Int {
        Dictionary(grouping: segments, by: \.partition).values.map { $0.reduce(0) { $0 + $1.rowCount } }.max() ?? 0
    }

    enum CodingKeys: String, CodingKey {
        case columns, partitionColumn, partitioning, sourceBytes, segments, lineage, sourceFiles
    }

    /// Writes `partitionColumn` as an explicit null (format-spec §7), where the synthesised encoder omits it.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(columns, forKey: .columns)
        if let partitionColumn {
            try container.encode(partitionColumn, forKey: .partitionColumn)
        } else {
            try container.encodeNil(forKey: .partitionColumn)
        }
        try container.encode(partitioning, forKey: .partitioning)
        try container.encode(sourceBytes, forKey: .sourceBytes)
        try container.encode(segments, forKey: .segments)
        try container.encodeIfPresent(lineage, forKey: .lineage)
        try container.encodeIfPresent(sourceFiles, forKey: .sourceFiles)
    }

    public var descriptors: [ColumnDescriptor] {
        columns.map { ColumnDescriptor(name: $0.name, type: $0.type, nullable: $0.nullable) }
    }
}

/// A CSV file ingested into a table: what it was called, its size and content checksum (CRC-32C) (so the same
/// content is not ingested twice by mistake), and the version that committed it.
public struct SourceFile: Codable, Equatable, Sendable {
    public var name: String
    public var sizeBytes: Int
    /// CRC-32C of the file's bytes.
    public var crc32c: UInt32
    public var version: Int
    public var rows: Int
    /// The cutoff (YYYYMMDD) given for a file without one (Kaggle's train.csv): the same bytes with
    /// another cutoff are other rows.
    public var cutoff: Int?

    public init(name: String, sizeBytes: Int, crc32c: UInt32, version: Int, rows: Int, cutoff: Int? = nil) {
        self.name = name
        self.sizeBytes = sizeBytes
        self.crc32c = crc32c
        self.version = version
        self.rows = rows
        self.cutoff = cutoff
    }
}

public enum Partitioning: String, Codable, Sendable {
    /// Key = YYYYMM of the partition column.
    case month
    /// A single partition with key 0.
    case none
}

public struct ColumnSchema: Codable, Equatable, Sendable {
    public var name: String
    public var type: LogicalType
    public var nullable: Bool

    public init(name: String, type: LogicalType, nullable: Bool) {
        self.name = name
        self.type = type
        self.nullable = nullable
    }
}

extension LogicalType: Codable {
    public init(from decoder: Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        guard let type = LogicalType(name: name) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown type \(name)"))
        }
        self = type
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(name)
    }
}

public struct SegmentEntry: Codable, Equatable, Sendable {
    public var file: String
    public var partition: Int
    public var rowCount: Int
    public var sizeBytes: Int
    public var fileCRC: UInt32
    /// The columns the segment's rows are sorted by, compared in turn, ascending; equal keys keep ingestion
    /// order (format-spec §8). Nil: ingestion order only (every segment written before entity clustering).
    public var sortedBy: [String]?
}

extension TableManifest {
    /// The order ingest writes this table's segments in and `compact` rewrites them to (format-spec §8): its
    /// first entity column, then the partition column; nil for a table without a non-nullable entity column.
    public var clusteringKey: [String]? {
        guard let entity = columns.first(where: { $0.type == .entity && !$0.nullable }) else { return nil }
        return [entity.name] + (partitioning == .month ? partitionColumn.map { [$0] } ?? [] : [])
    }
}
