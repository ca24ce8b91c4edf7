import Foundation
import StrataFeatures
import StrataFormat
import StrataIngest
import StrataMonitor
import StrataReport
import StrataStorage
import StrataTrain

/// One step's work. `finalCommit` wraps the step's last commit so that its record lands in that commit.
final class StepContext {
    let pipeline: Pipeline
    let run: PipelineRun
    let began: Date
    let step: PipelineStep
    let inputs: Pipeline.Inputs
    /// The step's record was written by its own commit (through the hook).
    private(set) var recorded = false

    init(pipeline: Pipeline, run: PipelineRun, began: Date, step: PipelineStep, inputs: Pipeline.Inputs) {
        self.pipeline = pipeline
        self.run = run
        self.began = began
        self.step = step
        self.inputs = inputs
    }

    var config: PipelineConfig { pipeline.config }
    var storePath: String { pipeline.storePath }
    var asOfDay: Int64 { pipeline.asOfDay }
    var production: String { config.model + "@production" }
    typealias Outcome = Pipeline.Outcome

    /// Runs `body`, whose one commit also records this step's outcome (computed from the pending write).
    func finalCommit<T>(_ outcome: @escaping (StoreWriter) throws -> Outcome, _ body: () throws -> T) throws -> T {
        let asOf = pipeline.asOfText, step = self.step, began = self.began, inputs = self.inputs
        return try StoreWriter.withCommitHook({ [self] writer in
            let result = try outcome(writer)
            var log = try writer.section(PipelineLog.self)
            try Pipeline.modify(&log, asOf: asOf) { try Pipeline.apply(result, step: step, began: began, inputs: inputs, to: &$0) }
            try writer.setSection(log)
            recorded = true
        }, body)
    }

    func perform() throws -> Outcome {
        switch step {
        case .ingest: return try ingest()
        case .verify: return try verify()
        case .materialize: return try materialize()
        case .monitor: return try monitor()
        case .train: return try train()
        case .evaluate: return try evaluate()
        case .stage: return try stage()
        case .uat: return try uat()
        case .promote: return try promote()
        case .predict: return try predict()
        case .report: return try report()
        case .alert: return try alert()
        }
    }

    // MARK: ingest → verify → materialize

    func ingest() throws -> Outcome {
        guard FileSystem.isDirectory(config.inbox) else {
            throw PipelineError("the inbox \(config.inbox) is not a directory (set inbox: in \(config.path))")
        }
        let seen = try Store(path: storePath).manifest.section(PipelineLog.self).ingestedFiles
        var fresh: [(path: String, file: InboxFile)] = []
        var ignored = 0
        for name in try FileSystem.listDirectory(config.inbox).sorted() where !name.hasPrefix(".") {
            let path = config.inbox + "/" + name
            guard name.lowercased().hasSuffix(".csv"), FileSystem.isRegularFile(path) else { ignored += 1; continue }
            let file = try Self.fingerprint(path, name: name)
            if !seen.contains(file) { fresh.append((path, file)) }
        }
        guard !fresh.isEmpty else {
            if config.inboxMayBeEmpty { return Outcome(status: .skipped, outputs: ["files": "0", "note": "no new file in the inbox"]) }
            throw PipelineError("the inbox \(config.inbox) holds no new CSV file (\(seen.count) ingested by earlier runs\(ignored > 0 ? ", \(ignored) other files ignored" : "")): "
                + "put the week's files there, or set inbox_may_be_empty: true to go on with the data the store has")
        }
        pipeline.progress("ingesting \(fresh.map(\.file.name).joined(separator: ", "))")
        let files = fresh.map(\.file)
        let report = try finalCommit({ writer in
            var added: [String] = []
            for name in writer.tableNames.sorted() {
                let before = writer.base.tables[name]?.segments.reduce(0) { $0 + $1.rowCount } ?? 0
                let after = writer.table(name)?.segments.reduce(0) { $0 + $1.rowCount } ?? 0
                if after != before { added.append("\(name) +\(after - before)") }
            }
            return Outcome(outputs: ["files": files.map(\.name).joined(separator: " "), "rows": added.joined(separator: ", ")], ingested: files)
        }) {
            try Ingester.ingest(store: storePath, files: fresh.map(\.path))
        }
        if report.rejectedCount > 0 { pipeline.progress("ingest rejected \(report.rejectedCount) lines (see \(report.rejectsFiles.joined(separator: ", ")))") }
        return Outcome()
    }

    /// Name, size and CRC-32C of a file, read in 8 MiB pieces.
    static func fingerprint(_ path: String, name: String) throws -> InboxFile {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw PipelineError("cannot read \(path)") }
        defer { try? handle.close() }
        var crc: UInt32 = 0
        var bytes = 0
        while true {
            let data = try handle.read(upToCount: 8 << 20) ?? Data()
            if data.isEmpty { break }
            bytes += data.count
            crc = data.withUnsafeBytes { Checksum.crc32c($0, seed: crc) }
        }
        return InboxFile(name: name, bytes: bytes, crc32c: crc)
    }

    func verify() throws -> Outcome {
        // The version the next steps read, and every file it names (`strata verify` checks every version: a
        // weekly loop that did so would take longer each week; the past versions were verified when they were new).
        let versions = try StorePaths.versions(storePath)
        let report = try Store.verify(path: storePath, checks: [FeatureStoreVerifier.check, RunVerifier.check, DriftVerifier.check], ignoringVersions: Set(versions.dropLast()))
        guard report.problems.isEmpty else {
            throw PipelineError("strata verify found \(report.problems.count) problem(s): " + report.problems.prefix(5).joined(separator: "; "))
        }
        return Outcome(outputs: ["version": String(versions.last ?? 0), "files": String(report.filesChecked), "blocks": String(report.blocksChecked)])
    }

    func materialize() throws -> Outcome {
        // The hook runs inside the materialiser's commit: the figures come from the pending write.
        try finalCommit({ writer in
            let online = try writer.section(OnlineCatalog.self).tables.filter { $0.value.storeVersion == writer.base.version }
            return Outcome(outputs: online.map { ["view": $0.key, "vectors": String($0.value.entityCount), "version": String($0.value.featureViewVersion)] }.first ?? [:])
        }) {
            _ = try OnlineMaterializer.materialize(storePath: storePath, featuresFile: config.features, viewName: nil, asOfDay: Int(asOfDay))
            return Outcome()
        }
    }

    // MARK: monitor → train

    func monitor() throws -> Outcome {
        let store = try Store(path: storePath)
        // Stale data would read as drift (no listening in the last week for anyone) and retrain on it.
        let latest = try Population(store: store, asOfDay: asOfDay).latestTransactionDay
        guard let latest, asOfDay - latest <= Int64(config.maxDataAgeDays) else {
            throw PipelineError((latest.map { "the newest transaction before \(pipeline.asOfText) is from \(ValueText.date($0, style: .iso)), \(asOfDay - $0) days earlier" }
                ?? "the store holds no transaction before \(pipeline.asOfText)")
                + " (monitor.max_data_age_days: \(config.maxDataAgeDays)): the latest files seem to be missing. Put them in the inbox and run again, or raise the limit")
        }
        guard try Pipeline.productionVersion(store: store, model: config.model) != nil else {
            return Outcome(outputs: ["deviation": "none: no model in production"], decision: TriggerPolicy.Decision.retrain.rawValue,
                           reason: "no \(config.model) model is in production: the first one is trained")
        }
        let report = try Monitor.run(store: store, model: production, asOfDay: asOfDay, referenceTable: nil, policy: config.policy, labels: config.labels)
        let outcome = Outcome(outputs: [
            "model": report.model, "deviation": "\(report.deviationMetric) \(String(format: "%.4f", report.deviation))",
            "drifted_share": String(format: "%.4f", report.driftedShare), "score_psi": String(format: "%.4f", report.prediction.psi),
            "newest_labelled_auc": report.performance?.last?.auc.map { String(format: "%.4f", $0) } ?? "n/a",
        ], decision: report.decision.rawValue, reason: report.reason)
        return try finalCommit({ _ in outcome }) {
            _ = try Monitor.record(report, storePath: storePath)
            return outcome
        }
    }

    /// The newest labelled cutoff months before the as-of day (first days), oldest first.
    func labelledMonths(store: Store) throws -> [Int64] {
        guard store.manifest.tables[config.labels] != nil else {
            throw PipelineError("the store has no label table \(config.labels): ingest labels before training (set labels: in \(config.path))")
        }
        let rows = try LabelledRows(store: store, table: config.labels, range: Int64.min...(asOfDay - 1))
        return Array(Set(rows.cutoffs.map { Int64(Dates.firstDayOfMonth(dayNumber: Int($0))) })).sorted()
    }

    var trainingSetName: String { "pipeline_\(run.id.dropFirst(5))_training" }

    func train() throws -> Outcome {
        guard let decision = run.decision.flatMap(TriggerPolicy.Decision.init(rawValue:)) else {
            throw PipelineError("the monitor step recorded no decision")
        }
        guard decision == .retrain || decision == .reExperiment else {
            return Outcome(status: .skipped, outputs: ["why": "decision \(decision.rawValue)"])
        }
        let months = try labelledMonths(store: try Store(path: storePath))
        let needed = decision == .reExperiment ? 3 : 2
        guard months.count >= needed else {
            throw PipelineError("only \(months.count) labelled month(s) before \(pipeline.asOfText): \(decision == .reExperiment ? "a search needs 3 (train, validate, test)" : "training needs 2 (train, and the newest to test)")")
        }
        let used = Array(months.suffix(config.trainingMonths))
        let newest = used.last!
        let (year, month, _) = Dates.civil(dayNumber: Int(newest))
        let lastDay = newest + Int64(Dates.daysInMonth(year: year, month: month)) - 1
        var request = TrainingSetRequest(featuresFile: config.features, labelsTable: config.labels, outputTable: trainingSetName)
        request.replace = true
        request.cutoffRange = used.first!...min(lastDay, asOfDay - 1)
        pipeline.progress("training set \(trainingSetName): \(used.count) labelled months, \(ValueText.date(used.first!, style: .iso)) to \(ValueText.date(newest, style: .iso))")
        let built = try TrainingSetBuilder.build(storePath: storePath, request: request)
        let name = config.model
        func registered(_ writer: StoreWriter, _ extra: [String: String]) throws -> Outcome {
            let catalog = try writer.section(ModelCatalog.self)
            guard let entry = catalog.models[name]?.last else { throw PipelineError("the challenger was not registered") }
            var outputs = extra
            outputs["challenger"] = "\(name)@\(entry.version)"
            outputs["run"] = entry.runId
            outputs["training_set"] = "\(trainingSetName) (\(built.rowCount) rows)"
            return Outcome(outputs: outputs)
        }
        if decision == .retrain {
            var train = TrainRequest(trainingSet: trainingSetName)
            train.parameters = config.parameters
            train.split.kind = .time
            train.split.testFrom = newest
            train.register = name
            pipeline.progress("retraining with the same hyperparameters")
            return try finalCommit({ writer in
                // The run's record is written (not yet committed) when the hook runs.
                let entry = try writer.section(RunLog.self).runs.last
                let decoder = JSONDecoder()
                decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
                let record = try entry.map { try decoder.decode(RunRecord.self, from: Data(try FileSystem.readFile(self.storePath + "/" + $0.file))) }
                return try registered(writer, ["mode": "retrain", "test_auc": record?.test.auc.map { String(format: "%.4f", $0) } ?? "n/a"])
            }) {
                _ = try TrainingRunner.run(storePath: storePath, request: train)
                return Outcome()
            }
        }
        // Re-experiment: a random search, the current hyperparameters first; every trial is a run.
        let valid = used[used.count - 2]
        var random = SplitMix(seed: config.search.seed)
        func pick<T>(_ values: [T]) -> T { values[random.below(values.count)] }
        var best: (run: String, auc: Double, logLoss: Double, description: String)?
        var tried = 0
        let started = Date()
        for trial in 0..<config.search.trials {
            if trial > 0 && -started.timeIntervalSinceNow > config.search.budgetSeconds { break }
            var p = config.parameters
            if trial > 0 {
                p.numLeaves = pick([7, 15, 31, 63, 127])
                p.learningRate = pick([0.02, 0.03, 0.05, 0.08, 0.1])
                p.minDataInLeaf = pick([10, 20, 50, 100, 200])
                p.featureFraction = pick([0.5, 0.7, 0.85, 1.0])
                p.lambdaL2 = pick([0, 1, 10])
            }
            p.rounds = config.search.maxRounds
            p.earlyStoppingRounds = config.search.earlyStopping
            var train = TrainRequest(trainingSet: trainingSetName)
            train.parameters = p
            train.split.kind = .time
            train.split.validFrom = valid
            train.split.testFrom = newest
            let report = try TrainingRunner.run(storePath: storePath, request: train)
            tried += 1
            let auc = report.record.validation?.auc ?? 0, logLoss = report.record.validation?.logLoss ?? .infinity
            let description = "leaves \(p.numLeaves), lr \(p.learningRate), min data \(p.minDataInLeaf), feature fraction \(p.featureFraction), λ \(p.lambdaL2), \(report.record.bestIteration ?? p.rounds) rounds"
            pipeline.progress("trial \(trial + 1)/\(config.search.trials) \(report.record.id): validation AUC \(String(format: "%.4f", auc)) (\(description))")
            if best == nil || auc > best!.auc || (auc == best!.auc && logLoss < best!.logLoss) {
                best = (report.record.id, auc, logLoss, description)
            }
        }
        let chosen = best!
        return try finalCommit({ writer in
            try registered(writer, ["mode": "re-experiment", "trials": String(tried), "best": chosen.description,
                                    "validation_auc": String(format: "%.4f", chosen.auc)])
        }) {
            _ = try ModelRegistry.register(storePath: storePath, name: name, runId: chosen.run)
            return Outcome()
        }
    }

    // MARK: evaluate → stage → uat → promote

    var challenger: String? { run.outputs(.train)["challenger"] }
    var gatesPassed: Bool { run.outputs(.evaluate)["gates"] == "passed" }
    var uatPassed: Bool { run.outputs(.uat)["uat"] == "passed" }

    /// The challenger's held-out rows: the newest labelled month of its training set.
    func heldOut(_ scorer: ModelScorer, store: Store) throws -> (data: Dataset, rows: [Int]) {
        let data = try Dataset.load(store: store, table: scorer.run.trainingSet, categoryEncoding: scorer.categoryEncoding)
            .aligned(to: scorer.featureNames, categoryNames: scorer.categoryNames)
        guard let newest = data.cutoffs.max() else { throw PipelineError("the training set \(scorer.run.trainingSet) is empty") }
        let month = Dates.firstDayOfMonth(dayNumber: Int(newest))
        return (data, data.cutoffs.indices.filter { Dates.firstDayOfMonth(dayNumber: Int(data.cutoffs[$0])) == month })
    }

    func evaluate() throws -> Outcome {
        guard let challenger else { return Outcome(status: .skipped, outputs: ["why": "no challenger (decision \(run.decision ?? "?"))"]) }
        let store = try Store(path: storePath)
        let scorer = try ModelScorer(store: store, reference: challenger)
        let (data, rows) = try heldOut(scorer, store: store)
        let labels = rows.map { data.labels[$0] }
        let mine = Metrics.compute(labels: labels, probabilities: scorer.artifact.probabilities(data, rows: rows))
        var outputs = ["month": ValueText.date(data.cutoffs[rows[0]], style: .iso), "rows": String(rows.count),
                       "challenger_auc": mine.auc.map { String(format: "%.4f", $0) } ?? "n/a",
                       "challenger_calibration_error": String(format: "%.4f", mine.calibrationError)]
        var failed: [String] = []
        let gates = config.gates
        let challengerAUC = mine.auc ?? 0
        var championCalibration: Double?
        if let champion = try Pipeline.productionVersion(store: store, model: config.model) {
            let other = try ModelScorer(store: store, reference: champion)
            guard let lineage = other.lineage else { throw PipelineError("the champion \(champion) has no feature view lineage") }
            let theirs = try Predictor.features(store: store, lineage: lineage, entities: rows.map { data.entities[$0] }, cutoffs: rows.map { data.cutoffs[$0] },
                                                encoding: other.categoryEncoding).aligned(to: other.featureNames, categoryNames: other.categoryNames)
            let championMetrics = Metrics.compute(labels: labels, probabilities: other.probabilities(theirs))
            let championAUC = championMetrics.auc ?? 0
            outputs["champion"] = champion
            outputs["champion_auc"] = String(format: "%.4f", championAUC)
            outputs["champion_calibration_error"] = String(format: "%.4f", championMetrics.calibrationError)
            championCalibration = championMetrics.calibrationError
            if challengerAUC < championAUC - gates.aucEpsilon {
                failed.append("AUC \(String(format: "%.4f", challengerAUC)) < champion's \(String(format: "%.4f", championAUC)) − \(gates.aucEpsilon)")
            }
        } else if challengerAUC < gates.minAUC {
            failed.append("AUC \(String(format: "%.4f", challengerAUC)) < min_auc \(gates.minAUC) (no champion to compare with)")
        }
        // Calibration: under the bound, or no worse than the champion's on the same rows, within ε (after a
        // change of behaviour neither is calibrated on the newest month; the challenger must not make it worse).
        if mine.calibrationError > max(gates.maxCalibrationError, (championCalibration ?? -1) + gates.calibrationEpsilon) {
            failed.append("calibration error \(String(format: "%.4f", mine.calibrationError)) > \(gates.maxCalibrationError)"
                + (championCalibration.map { " and > the champion's \(String(format: "%.4f", $0)) + \(gates.calibrationEpsilon)" } ?? ""))
        }
        let empty = scorer.featureNames.indices.filter { feature in rows.allSatisfy { data.features[feature][$0].isNaN } }
        if !empty.isEmpty { failed.append("features missing on every held-out row: \(empty.map { scorer.featureNames[$0] }.joined(separator: ", "))") }
        // The users it will score now: the report's population as of the day.
        let population = try Population(store: store, asOfDay: asOfDay)
        if population.count > 0, let lineage = scorer.lineage {
            let current = try Predictor.features(store: store, lineage: lineage, entities: population.entities,
                                                 cutoffs: Array(repeating: asOfDay, count: population.count), encoding: scorer.categoryEncoding)
                .aligned(to: scorer.featureNames, categoryNames: scorer.categoryNames)
            let scores = scorer.probabilities(current)
            let mean = scores.reduce(0, +) / Double(scores.count)
            let shareA = Double(scores.filter { $0 >= BucketThresholds.standard.a }.count) / Double(scores.count)
            outputs["mean_score"] = String(format: "%.4f", mean)
            outputs["share_a"] = String(format: "%.4f", shareA)
            if !gates.meanScore.contains(mean) { failed.append("mean churn probability \(String(format: "%.4f", mean)) outside \(gates.meanScore.lowerBound)...\(gates.meanScore.upperBound)") }
            if shareA > gates.maxShareA { failed.append("share in bucket A \(String(format: "%.4f", shareA)) > \(gates.maxShareA)") }
            if Set(scores).count == 1 && scores.count > 1 { failed.append("every user gets the same score") }
        }
        outputs["gates"] = failed.isEmpty ? "passed" : "failed"
        if !failed.isEmpty { outputs["failed_gates"] = failed.joined(separator: "; ") }
        return Outcome(outputs: outputs)
    }

    func stage() throws -> Outcome {
        guard let challenger, gatesPassed else { return Outcome(status: .skipped, outputs: ["why": challenger == nil ? "no challenger" : "a gate failed"]) }
        let version = Int(challenger.split(separator: "@").last!)!
        // An earlier challenger left in staging (its acceptance check failed) makes way: staging holds one.
        let catalog = try Store(path: storePath).manifest.section(ModelCatalog.self)
        var archived: [String] = []
        for entry in catalog.models[config.model] ?? [] where entry.stage == "staging" && entry.version != version {
            _ = try ModelRegistry.promote(storePath: storePath, name: config.model, version: entry.version, stage: "archived")
            archived.append("\(config.model)@\(entry.version)")
        }
        let outputs = ["staging": challenger, "archived": archived.isEmpty ? "none" : archived.joined(separator: ", ")]
        return try finalCommit({ _ in Outcome(outputs: outputs) }) {
            _ = try ModelRegistry.promote(storePath: storePath, name: config.model, version: version, stage: "staging")
            return Outcome()
        }
    }

    /// The staged model, end to end on held-out users: the features the serving path computes equal the
    /// training set's, the scores equal, every score a probability, and reasons for each user.
    func uat() throws -> Outcome {
        guard challenger != nil, gatesPassed else { return Outcome(status: .skipped, outputs: ["why": challenger == nil ? "no challenger" : "a gate failed"]) }
        let store = try Store(path: storePath)
        let scorer = try ModelScorer(store: store, reference: challenger!)
        guard scorer.entry.stage == "staging" else { throw PipelineError("the challenger \(challenger!) is \(scorer.entry.stage), not in staging") }
        guard let lineage = scorer.lineage else { throw PipelineError("the challenger has no feature view lineage") }
        let (data, rows) = try heldOut(scorer, store: store)
        // A sample fixed by the run: the same users on a resumed run.
        let seed = PipelineConfig.fingerprint(Array(run.id.utf8))
        func key(_ row: Int) -> UInt64 { var draw = SplitMix(seed: UInt64(bitPattern: data.entities[row]) ^ seed); return draw.next() }
        let sample = Array(rows.sorted { key($0) < key($1) }.prefix(config.uatRows))
        let served = try Predictor.features(store: store, lineage: lineage, entities: sample.map { data.entities[$0] }, cutoffs: sample.map { data.cutoffs[$0] },
                                            encoding: scorer.categoryEncoding).aligned(to: scorer.featureNames, categoryNames: scorer.categoryNames)
        var problems: [String] = []
        var mismatches = 0
        for feature in scorer.featureNames.indices {
            for (position, row) in sample.enumerated() {
                let a = data.features[feature][row], b = served.features[feature][position]
                if !(a == b || (a.isNaN && b.isNaN)) { mismatches += 1 }
            }
        }
        if mismatches > 0 { problems.append("\(mismatches) feature values differ between the training set and the serving path") }
        let offline = scorer.artifact.probabilities(data, rows: sample)
        let online = scorer.probabilities(served)
        let gap = zip(offline, online).map { abs($0 - $1) }.max() ?? 0
        if gap > 1e-12 { problems.append("scores differ by up to \(gap) between the training set and the serving path") }
        if online.contains(where: { !$0.isFinite || $0 < 0 || $0 > 1 }) { problems.append("a score is not a probability") }
        let reasons = scorer.reasons(served, rows: Array(0..<served.rowCount))
        if reasons.contains(where: \.isEmpty) { problems.append("a user got no reason") }
        return Outcome(outputs: ["uat": problems.isEmpty ? "passed" : "failed", "users": String(sample.count), "max_score_gap": String(gap),
                                 "problems": problems.isEmpty ? "none" : problems.joined(separator: "; ")])
    }

    func promote() throws -> Outcome {
        guard let challenger, gatesPassed, uatPassed else {
            return Outcome(status: .skipped, outputs: ["why": challenger == nil ? "no challenger" : gatesPassed ? "the acceptance check failed" : "a gate failed"])
        }
        let version = Int(challenger.split(separator: "@").last!)!
        let previous = try Pipeline.productionVersion(store: try Store(path: storePath), model: config.model)
        return try finalCommit({ _ in Outcome(outputs: ["production": challenger, "archived": previous ?? "none"]) }) {
            _ = try ModelRegistry.promote(storePath: storePath, name: config.model, version: version, stage: "production")
            return Outcome()
        }
    }

    // MARK: predict → report → alert

    func predict() throws -> Outcome {
        guard try Pipeline.productionVersion(store: try Store(path: storePath), model: config.model) != nil else {
            return Outcome(status: .skipped, outputs: ["why": "no \(config.model) model in production"])
        }
        var request = PredictRequest(model: production, outputTable: config.predictions)
        request.asOfDay = Int(asOfDay)
        request.replace = true
        let model = try Pipeline.productionVersion(store: try Store(path: storePath), model: config.model) ?? "?"
        let table = config.predictions
        return try finalCommit({ writer in
            Outcome(outputs: ["table": table, "model": model, "rows": String(writer.table(table)?.segments.reduce(0) { $0 + $1.rowCount } ?? 0)])
        }) {
            _ = try Predictor.predict(storePath: storePath, request: request)
            return Outcome()
        }
    }

    func report() throws -> Outcome {
        guard let directory = config.reportDirectory else { return Outcome(status: .skipped, outputs: ["why": "no report: in the config"]) }
        guard try Pipeline.productionVersion(store: try Store(path: storePath), model: config.model) != nil else {
            return Outcome(status: .skipped, outputs: ["why": "no \(config.model) model in production"])
        }
        let email = try config.reportEmail.map { try EmailConfig.load($0) }
        let report = try ReportBuilder.build(ReportRequest(storePath: storePath, asOfDay: asOfDay))
        let stem = try report.writeFiles(to: directory)
        if let email { try SMTPSender.send(try report.message(config: email), config: email) }
        let outputs = ["html": stem + ".html", "users": String(report.rows.count), "emailed": email.map { $0.to.joined(separator: ", ") } ?? "no"]
        return try finalCommit({ _ in Outcome(outputs: outputs) }) {
            _ = try ReportStore.record(report, storePath: storePath)
            return Outcome(outputs: outputs)
        }
    }

    func alert() throws -> Outcome {
        var reasons: [String] = []
        if let decision = run.decision, decision != TriggerPolicy.Decision.none.rawValue { reasons.append("decision \(decision): \(run.reason ?? "")") }
        if run.step(.evaluate).status == .done && !gatesPassed {
            reasons.append("the challenger \(challenger ?? "?") failed the gates (\(run.outputs(.evaluate)["failed_gates"] ?? "")): \(run.outputs(.evaluate)["champion"] ?? "no model") stays in production")
        }
        if run.step(.uat).status == .done && !uatPassed {
            reasons.append("the challenger failed the acceptance check (\(run.outputs(.uat)["problems"] ?? "")): it stays in staging")
        }
        guard !reasons.isEmpty else { return Outcome(outputs: ["alert": "none needed"]) }
        if run.step(.promote).status == .done, let promoted = run.outputs(.promote)["production"] { reasons.append("\(promoted) is now in production") }
        let message = "Strata pipeline \(run.id) as of \(pipeline.asOfText): " + reasons.joined(separator: " | ")
        var sent: [String] = []
        if let webhook = config.alertWebhook {
            struct Body: Encodable { var run, asOf, message: String; var decision: String?; var gates: String?; var production: String? }
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            encoder.outputFormatting = [.sortedKeys]
            let body = Body(run: run.id, asOf: pipeline.asOfText, message: message, decision: run.decision, gates: run.outputs(.evaluate)["gates"],
                            production: run.outputs(.promote)["production"] ?? run.step(.evaluate).productionModel)
            try WebhookSender.post(Array(try encoder.encode(body)), to: webhook)
            sent.append("webhook")
        }
        if let path = config.alertEmail {
            let email = try EmailConfig.load(path)
            try SMTPSender.send(ReportMessage.plain(subject: "Strata pipeline \(run.id) as of \(pipeline.asOfText): action taken", text: message,
                                                    from: email.from, to: email.to, messageID: "alert-\(run.id)"), config: email)
            sent.append("email")
        }
        pipeline.progress("alert: " + message)
        return Outcome(outputs: ["alert": "raised", "sent": sent.isEmpty ? "recorded only (no alert: channel in the config)" : sent.joined(separator: ", ")], alerts: [message])
    }
}
