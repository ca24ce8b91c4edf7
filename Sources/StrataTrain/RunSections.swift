import StrataFeatures
import StrataFormat
import StrataStorage

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

/// The manifest section `runs` (format-spec §13): every training run, oldest first.
public struct RunLog: CollectionSection, Equatable {
    public static let key = "runs"
    public var runs: [RunEntry]

    public init(runs: [RunEntry]) { self.runs = runs }
    public init(value: [RunEntry]) { runs = value }
    public var value: [RunEntry] { runs }

    public func problems(in manifest: Manifest) -> [String] {
        var problems: [String] = []
        var ids = Set<String>()
        for run in runs where !ids.insert(run.id).inserted { problems.append("run \(run.id) is listed twice") }
        return problems
    }

    public func entry(_ id: String) -> RunEntry? { runs.first { $0.id == id } }
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

/// Stages of a model version (format-spec §13).
public enum ModelStages {
    public static let production = "production"
    public static let all = ["none", "staging", production, "archived"]
}

/// The manifest section `models` (format-spec §13): the model registry, versions of each named model
/// and their stages; at most one production version per model.
public struct ModelCatalog: CollectionSection, Equatable {
    public static let key = "models"
    public var models: [String: [ModelVersionEntry]]

    public init(models: [String: [ModelVersionEntry]]) { self.models = models }
    public init(value: [String: [ModelVersionEntry]]) { models = value }
    public var value: [String: [ModelVersionEntry]] { models }

    public func problems(in manifest: Manifest) -> [String] {
        var problems: [String] = []
        let runIds = Set(((try? manifest.section(RunLog.self).runs) ?? []).map(\.id))
        for (name, versions) in models.sorted(by: { $0.key < $1.key }) {
            if !StoreNames.isValid(name) { problems.append("model name '\(name)' is not a valid name") }
            var numbers = Set<Int>()
            for entry in versions {
                if !numbers.insert(entry.version).inserted { problems.append("model \(name) lists version \(entry.version) twice") }
                if !runIds.contains(entry.runId) { problems.append("model \(name) v\(entry.version) names run \(entry.runId), which is not listed") }
                if !ModelStages.all.contains(entry.stage) { problems.append("model \(name) v\(entry.version) has an unknown stage '\(entry.stage)'") }
            }
            let production = versions.filter { $0.stage == ModelStages.production }
            if production.count > 1 {
                problems.append("model \(name) has \(production.count) production versions (\(production.map { "v\($0.version)" }.joined(separator: ", "))); at most one is allowed")
            }
        }
        return problems
    }
}

/// Registers this layer's manifest sections and those of the layers below it, so that every manifest
/// decode checks them (see `ManifestSections`).
public func registerManifestSections() {
    StrataFeatures.registerManifestSections()
    ManifestSections.register(RunLog.self)
    ManifestSections.register(ModelCatalog.self)
}
