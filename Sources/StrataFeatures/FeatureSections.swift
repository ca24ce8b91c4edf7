import StrataFormat
import StrataStorage

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

/// The manifest section `featureViews` (format-spec §12): every registered version of every view.
public struct FeatureCatalog: CollectionSection, Equatable {
    public static let key = "featureViews"
    public var views: [String: [FeatureViewVersion]]

    public init(views: [String: [FeatureViewVersion]]) { self.views = views }
    public init(value: [String: [FeatureViewVersion]]) { views = value }
    public var value: [String: [FeatureViewVersion]] { views }

    public func problems(in manifest: Manifest) -> [String] {
        var problems: [String] = []
        for (name, versions) in views.sorted(by: { $0.key < $1.key }) {
            if !StoreNames.isValid(name) { problems.append("feature view name '\(name)' is not a valid name") }
            var numbers = Set<Int>()
            for entry in versions where !numbers.insert(entry.version).inserted {
                problems.append("feature view \(name) lists version \(entry.version) twice")
            }
        }
        return problems
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

/// The manifest section `online` (format-spec §12): the latest online table of each feature view.
public struct OnlineCatalog: CollectionSection, Equatable {
    public static let key = "online"
    public var tables: [String: OnlineTableEntry]

    public init(tables: [String: OnlineTableEntry]) { self.tables = tables }
    public init(value: [String: OnlineTableEntry]) { tables = value }
    public var value: [String: OnlineTableEntry] { tables }

    public func problems(in manifest: Manifest) -> [String] {
        var problems: [String] = []
        let views = (try? manifest.section(FeatureCatalog.self).views) ?? [:]
        for (name, entry) in tables.sorted(by: { $0.key < $1.key }) {
            if !StoreNames.isValid(name) { problems.append("online table name '\(name)' is not a valid name") }
            if !Dates.dayRange.contains(entry.asOf) {
                problems.append("online table \(name) is as of day \(entry.asOf), outside the years 0001–9999")
            }
            if entry.entityCount < 0 || entry.entityCount > manifest.entities.count {
                problems.append("online table \(name) has \(entry.entityCount) entities, the store \(manifest.entities.count)")
            }
            if !(views[name] ?? []).contains(where: { $0.version == entry.featureViewVersion }) {
                problems.append("online table \(name) names feature view version \(entry.featureViewVersion), which is not registered")
            }
        }
        return problems
    }
}

/// How a derived table (training set, predictions) was made: enough to rebuild it bit for bit. Kept in
/// the table's manifest entry as its lineage.
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
    /// Predictions only: the model reference, its run, and the day every entity was scored as of (when
    /// not a training set's rows; YYYY-MM-DD).
    public var model: String?
    public var runId: String?
    public var asOf: String?

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

extension TableManifest {
    /// The table's lineage as the feature layer records it; nil for ingested tables, an error when the
    /// record is not a lineage.
    public func featureLineage() throws -> Lineage? {
        guard let lineage else { return nil }
        do {
            return try lineage.decoded(as: Lineage.self)
        } catch {
            throw FeaturePlanError(message: "the lineage of this table is not a feature-view lineage: \(describeDecodingError(error))")
        }
    }
}

/// Registers this layer's manifest sections, so that every manifest decode checks them (see
/// `ManifestSections`).
public func registerManifestSections() {
    ManifestSections.register(FeatureCatalog.self)
    ManifestSections.register(OnlineCatalog.self)
}
