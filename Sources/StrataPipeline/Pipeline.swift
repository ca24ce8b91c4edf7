import Foundation
import StrataFormat
import StrataStorage
import StrataTrain

/// Runs the steps of the pipeline for one as-of day, each recorded in the store (section `pipeline`).
///
/// Crash safety: a step's work and the record that it is done land in one commit wherever the step's
/// work is one commit (a commit hook adds the record to the version the step commits); a step of several
/// commits (train) makes its earlier ones idempotent (a training set replaced by the same one) and its last
/// one carries the record. A step killed before that commit is run again by the next `pipeline run`.
/// Only one pipeline runs on a store at a time (PIPELINE.lock).
public final class Pipeline {
    public let storePath: String
    public let config: PipelineConfig
    public let asOfDay: Int64
    public var asOfText: String { ValueText.date(asOfDay, style: .iso) }
    let progress: (String) -> Void
    private var lockFD: Int32?

    public init(storePath: String, config: PipelineConfig, asOfDay: Int64, progress: @escaping (String) -> Void = { _ in }) throws {
        if !FileSystem.isDirectory(storePath + "/manifest") {
            // A new store: the first run's ingest fills it.
            try StoreWriter(path: storePath, create: true).commit(operation: "pipeline: a new store")
        }
        self.storePath = storePath
        self.config = config
        self.asOfDay = asOfDay
        self.progress = progress
        lockFD = try FileSystem.lockExclusive(
            storePath + "/PIPELINE.lock", lockedError: .invalid("another pipeline is running on \(storePath) (PIPELINE.lock is held): wait for it to finish"))
    }

    deinit { if let lockFD { FileSystem.close(lockFD) } }

    /// The recorded run of this as-of day, if any.
    public func recorded() throws -> PipelineRun? {
        try Store(path: storePath).manifest.section(PipelineLog.self).run(asOf: asOfText)
    }

    /// Runs every step not yet done; an already finished run is returned as it is.
    @discardableResult
    public func run() throws -> PipelineRun {
        var run = try start()
        guard run.status != .succeeded else {
            progress("the run as of \(asOfText) (\(run.id)) succeeded already: nothing to do")
            return run
        }
        for step in PipelineStep.allCases where ![.done, .skipped].contains(run.step(step).status) {
            run = try execute(step)
        }
        return run
    }

    /// Runs one step (Airflow's tasks): the steps before it must be done; a done step is left as it is.
    @discardableResult
    public func runStep(_ step: PipelineStep) throws -> PipelineRun {
        let run = try start()
        if [.done, .skipped].contains(run.step(step).status) {
            progress("step \(step.rawValue) of \(run.id) is \(run.step(step).status.rawValue) already")
            return run
        }
        if let missing = PipelineStep.allCases.prefix(while: { $0 != step }).first(where: { ![.done, .skipped].contains(run.step($0).status) }) {
            throw PipelineError("step \(missing.rawValue) of \(run.id) (as of \(asOfText)) is \(run.step(missing).status.rawValue): "
                + "it must be done before \(step.rawValue) (strata pipeline step \(missing.rawValue), or strata pipeline run)")
        }
        return try execute(step)
    }

    /// The run of this day: recorded, or started now.
    func start() throws -> PipelineRun {
        if let run = try recorded() {
            guard run.configFingerprint == config.fingerprint else {
                throw PipelineError("the run as of \(asOfText) (\(run.id)) was started with another config (\(run.config), fingerprint \(run.configFingerprint)); "
                    + "this one (\(config.path)) differs: finish it with that config, or run another as-of day")
            }
            return run
        }
        return try update(operation: { "pipeline \($0.id) as of \(asOfText): started" }) { log in
            let number = (log.runs.compactMap { Int($0.id.dropFirst(5)) }.max() ?? 0) + 1
            let run = PipelineRun(
                id: "pipe-" + StorePaths.zeroPadded(number, 6), asOf: asOfText, config: config.path, configFingerprint: config.fingerprint,
                startedAt: StoreWriter.timestamp(), finishedAt: nil, status: .running, decision: nil, reason: nil,
                steps: PipelineStep.allCases.map { StepRecord(name: $0, status: .pending, outputs: [:], attempts: 0) }, ingested: [], alerts: [])
            log.runs.append(run)
            return run
        }
    }

    /// What a step's work returns.
    struct Outcome {
        var status: StepRecord.Status = .done
        var outputs: [String: String] = [:]
        var decision: String?
        var reason: String?
        var ingested: [InboxFile] = []
        var alerts: [String] = []
    }

    /// What a step started from: recorded with its outcome.
    struct Inputs {
        var startedAt: String
        var storeVersion: Int
        var productionModel: String?
        var attempt: Int
    }

    /// Does the step and records the outcome, in the step's own commit when it makes one. Nothing is
    /// committed before: a step killed half-way leaves its record as it was (pending, or failed).
    func execute(_ step: PipelineStep) throws -> PipelineRun {
        let began = Date()
        let store = try Store(path: storePath)
        guard var run = try store.manifest.section(PipelineLog.self).run(asOf: asOfText) else { throw PipelineError("no pipeline run as of \(asOfText) is recorded") }
        let inputs = Inputs(startedAt: StoreWriter.timestamp(), storeVersion: store.version,
                            productionModel: try? Self.productionVersion(store: store, model: config.model), attempt: run.step(step).attempts + 1)
        progress("\(run.id) \(step.rawValue)")
        let context = StepContext(pipeline: self, run: run, began: began, step: step, inputs: inputs)
        do {
            let outcome = try context.perform()
            if !context.recorded {
                run = try update(operation: { "pipeline \($0.id) as of \(self.asOfText): \(step.rawValue) \(outcome.status.rawValue)" }) { log in
                    try Self.modify(&log, asOf: self.asOfText) { try Self.apply(outcome, step: step, began: began, inputs: inputs, to: &$0) }
                }
            } else {
                run = try recorded()!
            }
            return run
        } catch {
            let message = (error as? CustomStringConvertible)?.description ?? "\(error)"
            _ = try? update(operation: { "pipeline \($0.id) as of \(self.asOfText): \(step.rawValue) failed" }) { log in
                try Self.modify(&log, asOf: self.asOfText) { run in
                    run.status = .failed
                    try Self.modifyStep(&run, step) { record in
                        record.status = .failed
                        record.startedAt = inputs.startedAt
                        record.storeVersion = inputs.storeVersion
                        record.productionModel = inputs.productionModel
                        record.attempts = inputs.attempt
                        record.seconds = -began.timeIntervalSinceNow
                        record.outputs = [:]
                        record.error = message
                    }
                }
            }
            throw PipelineError("step \(step.rawValue) failed: \(message)")
        }
    }

    /// Writes `outcome` into the run's record of `step`; after the last step the run is finished.
    static func apply(_ outcome: Outcome, step: PipelineStep, began: Date, inputs: Inputs, to run: inout PipelineRun) throws {
        if run.status == .failed { run.status = .running }
        try modifyStep(&run, step) { record in
            record.status = outcome.status
            record.startedAt = inputs.startedAt
            record.storeVersion = inputs.storeVersion
            record.productionModel = inputs.productionModel
            record.attempts = inputs.attempt
            record.seconds = -began.timeIntervalSinceNow
            record.outputs = outcome.outputs
            record.error = nil
        }
        if let decision = outcome.decision { run.decision = decision }
        if let reason = outcome.reason { run.reason = reason }
        run.ingested += outcome.ingested
        run.alerts += outcome.alerts
        if run.steps.allSatisfy({ $0.status == .done || $0.status == .skipped }) {
            run.status = .succeeded
            run.finishedAt = StoreWriter.timestamp()
        }
    }

    static func modify(_ log: inout PipelineLog, asOf: String, _ body: (inout PipelineRun) throws -> Void) throws {
        guard let index = log.runs.firstIndex(where: { $0.asOf == asOf }) else { throw PipelineError("no pipeline run as of \(asOf) is recorded") }
        try body(&log.runs[index])
    }

    static func modifyStep(_ run: inout PipelineRun, _ step: PipelineStep, _ body: (inout StepRecord) -> Void) throws {
        guard let index = run.steps.firstIndex(where: { $0.name == step }) else { throw PipelineError("run \(run.id) has no step \(step.rawValue)") }
        body(&run.steps[index])
    }

    /// Changes the section in a commit of its own; returns the run of this day as committed.
    @discardableResult
    func update<T>(operation: (PipelineRun) -> String, _ change: (inout PipelineLog) throws -> T) throws -> PipelineRun {
        let writer = try StoreWriter(path: storePath, create: false, lockWaitSeconds: 30)
        do {
            var log = try writer.section(PipelineLog.self)
            _ = try change(&log)
            try writer.setSection(log)
            guard let run = log.run(asOf: asOfText) else { throw PipelineError("no pipeline run as of \(asOfText) is recorded") }
            try writer.commit(operation: operation(run))
            return run
        } catch {
            writer.abort()
            throw error
        }
    }

    /// `churn@3` when a version of `model` is in production.
    static func productionVersion(store: Store, model: String) throws -> String? {
        let catalog = try store.manifest.section(ModelCatalog.self)
        return catalog.models[model]?.first { $0.stage == "production" }.map { "\(model)@\($0.version)" }
    }

    /// Every run, oldest first.
    public static func history(storePath: String) throws -> [PipelineRun] {
        try Store(path: storePath).manifest.section(PipelineLog.self).runs
    }
}
