import Foundation
import StrataMonitor
import StrataStorage

/// The steps of a pipeline run, in order.
public enum PipelineStep: String, CaseIterable, Codable, Sendable {
    case ingest, verify, materialize, monitor, train, evaluate, stage, uat, promote, predict, report, alert

    public static func named(_ text: String) throws -> PipelineStep {
        guard let step = PipelineStep(rawValue: text) else {
            throw PipelineError("no pipeline step \(text) (steps: \(allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return step
    }
}

/// One step of one run, as recorded.
public struct StepRecord: Codable, Equatable, Sendable {
    public enum Status: String, Codable, Sendable { case pending, running, done, skipped, failed }
    public var name: PipelineStep
    public var status: Status
    public var startedAt: String?
    public var seconds: Double?
    /// Inputs: the store version the step started from and the production model then.
    public var storeVersion: Int?
    public var productionModel: String?
    /// What the step made or decided, as short texts (shown by `pipeline status`).
    public var outputs: [String: String]
    public var error: String?
    /// How many times the step started (a resumed step starts again).
    public var attempts: Int
}

/// A CSV file taken from the inbox: by name, size and checksum, so that it is never ingested twice.
public struct InboxFile: Codable, Equatable, Sendable, Hashable {
    public var name: String
    public var bytes: Int
    public var crc32c: UInt32
}

/// One run of the pipeline for an as-of day.
public struct PipelineRun: Codable, Equatable, Sendable {
    public enum Status: String, Codable, Sendable { case running, succeeded, failed }
    public var id: String
    public var asOf: String
    public var config: String
    public var configFingerprint: String
    public var startedAt: String
    public var finishedAt: String?
    public var status: Status
    /// The monitor's decision (none, watch, retrain, re-experiment) and why.
    public var decision: String?
    public var reason: String?
    public var steps: [StepRecord]
    public var ingested: [InboxFile]
    /// Alerts raised (also sent to the configured channels).
    public var alerts: [String]

    public func step(_ name: PipelineStep) -> StepRecord { steps.first { $0.name == name }! }
    public func outputs(_ name: PipelineStep) -> [String: String] { step(name).outputs }
}

/// The manifest section `pipeline` (format-spec §13): every run, oldest first.
public struct PipelineLog: CollectionSection, Equatable {
    public static let key = "pipeline"
    public var runs: [PipelineRun]

    public init(value: [PipelineRun]) { runs = value }
    public var value: [PipelineRun] { runs }

    public func problems(in manifest: Manifest) -> [String] {
        var problems: [String] = []
        var ids = Set<String>(), days = Set<String>()
        for run in runs {
            if !ids.insert(run.id).inserted { problems.append("pipeline run \(run.id) is listed twice") }
            if !days.insert(run.asOf).inserted { problems.append("two pipeline runs are as of \(run.asOf)") }
            if run.steps.map(\.name) != PipelineStep.allCases { problems.append("pipeline run \(run.id) does not list the steps in order") }
            if run.status == .succeeded && run.steps.contains(where: { $0.status != .done && $0.status != .skipped }) {
                problems.append("pipeline run \(run.id) is marked succeeded with a step not done")
            }
        }
        return problems
    }

    public func run(asOf: String) -> PipelineRun? { runs.first { $0.asOf == asOf } }
    public var ingestedFiles: Set<InboxFile> { Set(runs.flatMap(\.ingested)) }
}

public func registerManifestSections() {
    StrataMonitor.registerManifestSections()
    ManifestSections.register(PipelineLog.self)
}
