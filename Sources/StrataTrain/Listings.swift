import Foundation
import StrataStorage

/// One line of `strata runs list` (and of `GET /v1/runs`).
public struct RunListing: Codable, Equatable, Sendable {
    public var run: String
    public var createdAt: String
    public var model: String
    public var trainingSet: String
    public var trainRows: Int
    public var testAuc: Double?
    public var testLogLoss: Double
    public var seconds: Double
}

/// One line of `strata models list` (and of `GET /v1/models`).
public struct ModelListing: Codable, Equatable, Sendable {
    public var model: String
    public var version: Int
    public var stage: String
    public var run: String
    public var testAuc: Double?
    public var updatedAt: String
}

extension TrainingRunner {
    /// Every run of this store version, oldest first.
    public static func listing(store: Store) throws -> [RunListing] {
        try store.manifest.section(RunLog.self).runs.map { entry in
            let record = try record(store: store, id: entry.id)
            return RunListing(run: record.id, createdAt: record.createdAt, model: record.model.rawValue, trainingSet: record.trainingSet,
                              trainRows: record.trainRows, testAuc: record.test.auc, testLogLoss: record.test.logLoss, seconds: record.durationSeconds)
        }
    }
}

extension ModelRegistry {
    /// Every registered version, by model name then version.
    public static func listing(store: Store) throws -> [ModelListing] {
        var result: [ModelListing] = []
        for (name, versions) in try store.manifest.section(ModelCatalog.self).models.sorted(by: { $0.key < $1.key }) {
            for version in versions {
                let record = try TrainingRunner.record(store: store, id: version.runId)
                result.append(ModelListing(model: name, version: version.version, stage: version.stage, run: version.runId,
                                           testAuc: record.test.auc, updatedAt: version.updatedAt))
            }
        }
        return result
    }
}
