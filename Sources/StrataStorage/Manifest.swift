import Foundation
import StrataFormat

/// One committed version of the store (format-spec §7): which tables exist and which files hold them.
public struct Manifest: Codable, Equatable, Sendable {
    public var version: Int
    public var parentVersion: Int
    public var createdAt: String
    public var operation: String
    public var entities: EntitySection
    public var tables: [String: TableManifest]
    /// Registered feature views, every version kept (absent in stores that never registered one).
    public var featureViews: [String: [FeatureViewVersion]]?
    /// The latest online materialisation of each feature view.
    public var online: [String: OnlineTableEntry]?
    /// Training runs, oldest first.
    public var runs: [RunEntry]?
    /// The model registry: versions of each named model and their stages.
    public var models: [String: [ModelVersionEntry]]?

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
        version: 0, parentVersion: 0, createdAt: "", operation: "empty store", entities: EntitySection(count: 0, segments: []), tables: [:],
        featureViews: nil, online: nil, runs: nil, models: nil)

    static let magic: [UInt8] = Array("STRATMAN".utf8)
    static let headerSizeBytes = 16

    /// The framed file bytes: magic, versions, payload size, JSON payload, CRC-32.
    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        let payload = Array(try encoder.encode(self))
        var writer = ByteWriter(capacity: payload.count + 20)
        writer.append(contentsOf: Self.magic)
        writer.append(SegmentMagic.formatVersion)
        writer.append(SegmentMagic.minReaderVersion)
        writer.append(UInt32(payload.count))
        writer.append(contentsOf: payload)
        writer.append(Checksum.crc32(writer.bytes))
        return writer.bytes
    }

    /// Decodes and checks a manifest file. `validate: false` skips the consistency rules (`problems()`),
    /// for tests that forge a lying manifest.
    public static func decode(_ bytes: [UInt8], validate: Bool = true) throws -> Manifest {
        try bytes.withUnsafeBytes { raw in
            var reader = ByteReader(raw)
            guard raw.count >= headerSizeBytes + 4, Array(try reader.slice(8, "magic")) == magic else {
                throw FormatError("not a Strata manifest (bad magic or \(raw.count) bytes)")
            }
            let storedCRC = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: raw.count - 4, as: UInt32.self))
            guard Checksum.crc32(UnsafeRawBufferPointer(rebasing: raw[0..<(raw.count - 4)])) == storedCRC else {
                throw FormatError("manifest checksum mismatch")
            }
            _ = try reader.read(UInt16.self, "format version")
            let minReader = try reader.read(UInt16.self, "min reader version")
            guard minReader <= SegmentMagic.readerVersion else {
                throw FormatError.newerFormat(what: "manifest", needs: Int(minReader), have: Int(SegmentMagic.readerVersion))
            }
            let payloadSize = Int(try reader.read(UInt32.self, "payload size"))
            guard payloadSize <= FormatLimits.manifestPayloadBytesMax, payloadSize + headerSizeBytes + 4 == raw.count else {
                throw FormatError("manifest payload size \(payloadSize) does not match a file of \(raw.count) bytes")
            }
            let payload = Data(try reader.slice(payloadSize, "payload"))
            let manifest: Manifest
            do {
                manifest = try JSONDecoder().decode(Manifest.self, from: payload)
            } catch {
                throw FormatError("manifest payload is not valid JSON of a manifest: \(describeDecodingError(error))")
            }
            let problems = validate ? manifest.problems() : []
            guard problems.isEmpty else {
                throw FormatError("the manifest does not hold together: " + problems.prefix(5).joined(separator: "; ")
                    + (problems.count > 5 ? " (and \(problems.count - 5) more)" : ""))
            }
            return manifest
        }
    }
}

/// A table in a manifest: its schema, partitioning and segments in row order.
public struct TableManifest: Codable, Equatable, Sendable {
    public var columns: [ColumnSchema]
    public var partitionColumn: String?
    public var partitioning: Partitioning
    public var sourceBytes: Int
    public var segments: [SegmentEntry]
    /// Where a derived table (a training set) came from; nil for ingested tables.
    public var lineage: Lineage?

    public init(columns: [ColumnSchema], partitionColumn: String? = nil, partitioning: Partitioning = .none, sourceBytes: Int = 0,
                segments: [SegmentEntry] = [], lineage: Lineage? = nil) {
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

    enum CodingKeys: String, CodingKey {
        case columns, partitionColumn, partitioning, sourceBytes, segments, lineage
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
    }

    public var descriptors: [ColumnDescriptor] {
        columns.map { ColumnDescriptor(name: $0.name, type: $0.type, nullable: $0.nullable) }
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
}

/// One registered version of a feature view: its definition file in the store and its content hash.
public struct FeatureViewVersion: Codable, Equatable, Sendable {
    public var version: Int
    public var hash: String
    public var file: String
    public var createdAt: String

    public init(version: Int, hash: String, file: String, createdAt: String) {
        self.version = version
        self.hash = hash
        self.file = file
        self.createdAt = createdAt
    }
}

/// How a training set was made: enough to rebuild it bit for bit.
public struct Lineage: Codable, Equatable, Sendable {
    public var kind: String
    /// The store version the inputs were read at.
    public var storeVersion: Int
    public var featureView: String
    public var featureViewVersion: Int
    public var featureViewHash: String
    public var labelsTable: String
    public var labelsRowCount: Int
    /// "strictly-before" (events with time < cutoff) or "at-or-before" (time <= cutoff).
    public var semantics: String

    public init(kind: String, storeVersion: Int, featureView: String, featureViewVersion: Int, featureViewHash: String,
                labelsTable: String, labelsRowCount: Int, semantics: String) {
        self.kind = kind
        self.storeVersion = storeVersion
        self.featureView = featureView
        self.featureViewVersion = featureViewVersion
        self.featureViewHash = featureViewHash
        self.labelsTable = labelsTable
        self.labelsRowCount = labelsRowCount
        self.semantics = semantics
    }
}

/// A materialised online table (format-spec §11): the feature vector of every entity as of one day.
public struct OnlineTableEntry: Codable, Equatable, Sendable {
    public var file: String
    public var asOf: Int
    public var featureViewVersion: Int
    public var storeVersion: Int
    public var entityCount: Int
    public var sizeBytes: Int
    public var fileCRC: UInt32

    public init(file: String, asOf: Int, featureViewVersion: Int, storeVersion: Int, entityCount: Int, sizeBytes: Int, fileCRC: UInt32) {
        self.file = file
        self.asOf = asOf
        self.featureViewVersion = featureViewVersion
        self.storeVersion = storeVersion
        self.entityCount = entityCount
        self.sizeBytes = sizeBytes
        self.fileCRC = fileCRC
    }
}

/// A training run: its record (JSON) and model file in the store.
public struct RunEntry: Codable, Equatable, Sendable {
    public var id: String
    public var file: String
    public var modelFile: String
    public var createdAt: String
    /// CRC-32 of the whole run record and model file, checked before either is used (absent in stores
    /// written before they were recorded).
    public var fileCRC: UInt32?
    public var modelFileCRC: UInt32?

    public init(id: String, file: String, modelFile: String, createdAt: String, fileCRC: UInt32? = nil, modelFileCRC: UInt32? = nil) {
        self.id = id
        self.file = file
        self.modelFile = modelFile
        self.createdAt = createdAt
        self.fileCRC = fileCRC
        self.modelFileCRC = modelFileCRC
    }
}

/// One version of a registered model. Stages: none, staging, production, archived.
public struct ModelVersionEntry: Codable, Equatable, Sendable {
    public var version: Int
    public var runId: String
    public var stage: String
    public var updatedAt: String

    public init(version: Int, runId: String, stage: String, updatedAt: String) {
        self.version = version
        self.runId = runId
        self.stage = stage
        self.updatedAt = updatedAt
    }
}
