import Foundation
import StrataFeatures
import StrataFormat
import StrataStorage

/// Everything recorded about one training run (`runs/<id>/run.json`).
public struct RunRecord: Codable, Equatable, Sendable {
    public var id: String
    public var createdAt: String
    public var model: ModelArtifact.Kind
    public var trainingSet: String
    /// The training set's lineage: store version, feature view and version, labels.
    public var lineage: Lineage?
    /// The store version the training set was read at.
    public var storeVersion: Int
    public var parameters: [String: String]
    public var featureNames: [String]
    /// How the rows were divided (`SplitPlan`), in words.
    public var split: String
    /// The first validation cutoff (time split with early stopping) and the first test cutoff, YYYY-MM-DD.
    public var validFrom: String?
    public var testFrom: String?
    public var trainRows: Int
    /// Rows that chose the early-stopping round (0 without early stopping).
    public var validRows: Int
    public var testRows: Int
    public var durationSeconds: Double
    /// The fit alone: binning and boosting (or the Newton steps), without reading and evaluating.
    public var trainSeconds: Double?
    /// Trees kept: the round with the best validation log loss under early stopping, else every round.
    public var bestIteration: Int?
    /// Metrics on the test rows, which neither fitted the model nor chose its stopping round.
    public var test: Metrics
    /// Metrics on the validation rows (optimistic: they chose the stopping round); nil without early stopping.
    public var validation: Metrics?
    /// Test metrics of each cutoff month.
    public var perCutoff: [CutoffMetrics]
    /// Total split gain per feature (trees), or |weight| per standardised feature (logistic).
    public var importance: [FeatureImportance]
    /// An uplift model's evaluation on held-out campaigns; nil for a churn model.
    public var uplift: UpliftEvaluation?

    public init(id: String, createdAt: String, model: ModelArtifact.Kind, trainingSet: String, lineage: Lineage?, storeVersion: Int,
                parameters: [String: String], featureNames: [String], split: String, validFrom: String?, testFrom: String?, trainRows: Int,
                validRows: Int, testRows: Int, durationSeconds: Double, trainSeconds: Double?, bestIteration: Int?, test: Metrics,
                validation: Metrics?, perCutoff: [CutoffMetrics], importance: [FeatureImportance]) {
        self.id = id
        self.createdAt = createdAt
        self.model = model
        self.trainingSet = trainingSet
        self.lineage = lineage
        self.storeVersion = storeVersion
        self.parameters = parameters
        self.featureNames = featureNames
        self.split = split
        self.validFrom = validFrom
        self.testFrom = testFrom
        self.trainRows = trainRows
        self.validRows = validRows
        self.testRows = testRows
        self.durationSeconds = durationSeconds
        self.trainSeconds = trainSeconds
        self.bestIteration = bestIteration
        self.test = test
        self.validation = validation
        self.perCutoff = perCutoff
        self.importance = importance
    }

    enum CodingKeys: String, CodingKey {
        case id, createdAt, model, trainingSet, lineage, storeVersion, parameters, featureNames, split, validFrom, testFrom, trainRows, validRows,
             testRows, durationSeconds, trainSeconds, bestIteration, test, validation, perCutoff, importance, uplift
    }

    /// Reads records of every release: before the test set existed (Strata 0.10 and earlier), the
    /// held-out rows were called validation, from `validFrom`, and there was no separate test.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        createdAt = try c.decode(String.self, forKey: .createdAt)
        model = try c.decode(ModelArtifact.Kind.self, forKey: .model)
        trainingSet = try c.decode(String.self, forKey: .trainingSet)
        lineage = try c.decodeIfPresent(Lineage.self, forKey: .lineage)
        storeVersion = try c.decode(Int.self, forKey: .storeVersion)
        parameters = try c.decode([String: String].self, forKey: .parameters)
        featureNames = try c.decode([String].self, forKey: .featureNames)
        trainRows = try c.decode(Int.self, forKey: .trainRows)
        durationSeconds = try c.decode(Double.self, forKey: .durationSeconds)
        trainSeconds = try c.decodeIfPresent(Double.self, forKey: .trainSeconds)
        bestIteration = try c.decodeIfPresent(Int.self, forKey: .bestIteration)
        perCutoff = try c.decode([CutoffMetrics].self, forKey: .perCutoff)
        importance = try c.decode([FeatureImportance].self, forKey: .importance)
        uplift = try c.decodeIfPresent(UpliftEvaluation.self, forKey: .uplift)
        if let test = try c.decodeIfPresent(Metrics.self, forKey: .test) {
            self.test = test
            validation = try c.decodeIfPresent(Metrics.self, forKey: .validation)
            split = try c.decode(String.self, forKey: .split)
            validFrom = try c.decodeIfPresent(String.self, forKey: .validFrom)
            testFrom = try c.decodeIfPresent(String.self, forKey: .testFrom)
            validRows = try c.decode(Int.self, forKey: .validRows)
            testRows = try c.decode(Int.self, forKey: .testRows)
        } else {
            test = try c.decode(Metrics.self, forKey: .validation)
            validation = nil
            testFrom = RunRecord.isoDate(yyyymmdd: try c.decode(Int.self, forKey: .validFrom))
            validFrom = nil
            split = "time split: held out from \(testFrom!)"
            testRows = try c.decode(Int.self, forKey: .validRows)
            validRows = 0
        }
    }

    public struct CutoffMetrics: Codable, Equatable, Sendable {
        /// YYYY-MM-DD.
        public var cutoff: String
        public var metrics: Metrics

        public init(cutoff: String, metrics: Metrics) {
            self.cutoff = cutoff
            self.metrics = metrics
        }

        enum CodingKeys: String, CodingKey { case cutoff, metrics }

        /// Records before Strata 0.11 wrote the cutoff as the number YYYYMMDD.
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            metrics = try c.decode(Metrics.self, forKey: .metrics)
            if let text = try? c.decode(String.self, forKey: .cutoff) {
                cutoff = text
            } else {
                cutoff = RunRecord.isoDate(yyyymmdd: try c.decode(Int.self, forKey: .cutoff))
            }
        }
    }

    /// 20170301 → "2017-03-01".
    static func isoDate(yyyymmdd: Int) -> String {
        guard let day = Dates.dayNumber(yyyymmdd: yyyymmdd) else { return String(yyyymmdd) }
        return ValueText.date(Int64(day), style: .iso)
    }

    public struct FeatureImportance: Codable, Equatable, Sendable {
        public var feature: String
        public var value: Double
    }
}

/// Options of `strata train`.
public struct TrainRequest: Sendable {
    public var trainingSet: String
    public var model: ModelArtifact.Kind = .gbdt
    public var parameters = GBDTParameters()
    /// How rows divide into train, validation (early stopping) and test.
    public var split = SplitPlan()
    public var threshold = 0.5
    /// Register the model under this name (a new version, stage none).
    public var register: String?
    public var label = "is_churn"

    public init(trainingSet: String) { self.trainingSet = trainingSet }
}

public struct TrainReport: Sendable {
    public var record: RunRecord
    public var registeredVersion: Int?
    public var committedVersion: Int
}

/// Trains a model from a training set of the store and records the run, atomically.
public enum TrainingRunner {
    public static func run(storePath: String, request: TrainRequest, progress: ((String) -> Void)? = nil) throws -> TrainReport {
        let started = Date()
        if let name = request.register { try StoreNames.validate(name, what: "--register") }
        let writer = try StoreWriter(path: storePath, create: false)
        do {
            let store = try Store(path: storePath, version: writer.base.version)
            let table = try store.table(request.trainingSet)
            progress?("reading \(request.trainingSet)")
            let dataset = try Dataset.load(store: store, table: request.trainingSet, label: request.label)
            let cutoffs = Array(Set(dataset.cutoffs)).sorted()
            var plan = request.split
            plan.seed = request.parameters.seed
            let needsValidation = request.model == .gbdt && request.parameters.earlyStoppingRounds > 0
            let parts = try dataset.split(plan, needsValidation: needsValidation)
            let trainRows = parts.train
            let validRows = parts.valid
            let testRows = parts.test
            // A model cannot learn churn from rows of one class: it would predict that class for everyone.
            let trainChurners = trainRows.reduce(0) { $0 + (dataset.labels[$1] == 1 ? 1 : 0) }
            guard trainChurners > 0, trainChurners < trainRows.count else {
                throw TrainError("every one of the \(trainRows.count) training rows has \(request.label) = \(trainChurners > 0 ? 1 : 0): "
                    + "a model cannot learn churn from one class. Check the labels (strata query \"SELECT \(request.label), count(*) FROM \(request.trainingSet) GROUP BY 1\")")
            }
            progress?("training \(request.model.rawValue) on \(trainRows.count) rows (\(parts.description))")
            let fitStarted = Date()
            var artifact: ModelArtifact
            var bestIteration: Int?
            var importance: [RunRecord.FeatureImportance]
            var parameters: [String: String] = ["model": request.model.rawValue, "threshold": String(request.threshold)]
            switch request.model {
            case .gbdt:
                let (model, history) = try GBDTTrainer(parameters: request.parameters).train(dataset, trainRows: trainRows, validRows: validRows)
                artifact = ModelArtifact(kind: .gbdt, featureNames: dataset.featureNames, gbdt: model, logistic: nil)
                bestIteration = request.parameters.earlyStoppingRounds > 0 ? history.bestIteration : model.trees.count
                importance = zip(dataset.featureNames, model.gainImportance).map { .init(feature: $0, value: $1) }
                let p = request.parameters
                parameters.merge([
                    "rounds": String(p.rounds), "learning_rate": String(p.learningRate), "num_leaves": String(p.numLeaves),
                    "min_data_in_leaf": String(p.minDataInLeaf), "lambda_l2": String(p.lambdaL2), "feature_fraction": String(p.featureFraction),
                    "bagging_fraction": String(p.baggingFraction), "bagging_freq": String(p.baggingFrequency),
                    "early_stopping": String(p.earlyStoppingRounds), "seed": String(p.seed), "threads": String(p.threads),
                ]) { $1 }
            case .logistic:
                let model = LogisticModel.train(dataset, rows: trainRows)
                artifact = ModelArtifact(kind: .logistic, featureNames: dataset.featureNames, gbdt: nil, logistic: model)
                importance = zip(dataset.featureNames, model.weights.dropFirst()).map { .init(feature: $0, value: abs($1)) }
            }
            let trainSeconds = -fitStarted.timeIntervalSinceNow
            progress?("evaluating")
            let probabilities = artifact.probabilities(dataset, rows: testRows)
            let testLabels = testRows.map { dataset.labels[$0] }
            let testMetrics = Metrics.compute(labels: testLabels, probabilities: probabilities, threshold: request.threshold)
            let validation = validRows.isEmpty ? nil : Metrics.compute(
                labels: validRows.map { dataset.labels[$0] }, probabilities: artifact.probabilities(dataset, rows: validRows), threshold: request.threshold)
            var perCutoff: [RunRecord.CutoffMetrics] = []
            let testCutoffs = Set(testRows.map { dataset.cutoffs[$0] })
            for cutoff in cutoffs where testCutoffs.contains(cutoff) {
                let positions = testRows.indices.filter { dataset.cutoffs[testRows[$0]] == cutoff }
                perCutoff.append(.init(cutoff: ValueText.date(cutoff, style: .iso), metrics: Metrics.compute(
                    labels: positions.map { testLabels[$0] }, probabilities: positions.map { probabilities[$0] }, threshold: request.threshold)))
            }
            parameters["split"] = parts.kind.rawValue
            let record = RunRecord(
                id: "", createdAt: StoreWriter.timestamp(), model: request.model, trainingSet: request.trainingSet, lineage: try table.featureLineage(),
                storeVersion: store.version, parameters: parameters, featureNames: dataset.featureNames, split: parts.description,
                validFrom: parts.validFrom, testFrom: parts.testFrom, trainRows: trainRows.count, validRows: validRows.count, testRows: testRows.count,
                durationSeconds: -started.timeIntervalSinceNow, trainSeconds: trainSeconds, bestIteration: bestIteration, test: testMetrics,
                validation: validation, perCutoff: perCutoff, importance: importance.sorted { $0.value > $1.value })
            let (saved, registered) = try save(record, artifact: artifact, writer: writer, storePath: storePath, register: request.register)
            let id = saved.id
            let manifest = try writer.commit(operation: "train \(id) on \(request.trainingSet)")
            return TrainReport(record: saved, registeredVersion: registered, committedVersion: manifest.version)
        } catch {
            writer.abort()
            throw error
        }
    }

    /// Writes a run's record and model file under a new run id, lists the run, and registers the model
    /// under `register` as a new version (stage none) — all in `writer`'s pending version, for the caller
    /// to commit. Returns the record as saved (with its id) and the registered version.
    static func save(_ record: RunRecord, artifact: ModelArtifact, writer: StoreWriter, storePath: String, register: String?) throws -> (RunRecord, Int?) {
        var record = record
        var runLog = try writer.section(RunLog.self)
        let id = try newRunId(runLog, storePath: storePath)
        record.id = id
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let recordBytes = Array(try encoder.encode(record))
        let modelBytes = try ModelFile.encode(artifact)
        try writer.writeFile(recordBytes, relativePath: "runs/\(id)/run.json")
        try writer.writeFile(modelBytes, relativePath: "runs/\(id)/model.smdl")
        runLog.runs.append(RunEntry(id: id, file: "runs/\(id)/run.json", modelFile: "runs/\(id)/model.smdl", createdAt: record.createdAt,
                                    fileCRC: Checksum.crc32(recordBytes), modelFileCRC: ModelFile.storedCRC(modelBytes)))
        try writer.setSection(runLog)
        var registered: Int?
        if let name = register {
            try StoreNames.validate(name, what: "model name")
            var catalog = try writer.section(ModelCatalog.self)
            let version = (catalog.models[name]?.last?.version ?? 0) + 1
            catalog.models[name, default: []].append(ModelVersionEntry(version: version, runId: id, stage: "none", updatedAt: record.createdAt))
            try writer.setSection(catalog)
            registered = version
        }
        return (record, registered)
    }

    /// The next run id: past every id in the log, and past every run directory still on disk (a dropped
    /// run's files stay for time travel until gc, so its id is never given to another run).
    static func newRunId(_ log: RunLog, storePath: String) throws -> String {
        var number = log.runs.compactMap { Int($0.id.dropFirst(4)) }.max().map { $0 + 1 } ?? 1
        number = max(number, log.runs.count + 1)
        while FileSystem.isDirectory(storePath + "/runs/run-" + StorePaths.zeroPadded(number, 6)) { number += 1 }
        return "run-" + StorePaths.zeroPadded(number, 6)
    }

    /// Removes a run from the log in a new store version. A run that a registered model version uses is
    /// kept: drop that model version first.
    public static func dropRun(storePath: String, id: String) throws -> Int {
        let writer = try StoreWriter(path: storePath, create: false)
        do {
            var log = try writer.section(RunLog.self)
            guard log.entry(id) != nil else {
                throw TrainError("no run \(id) (runs: \(log.runs.isEmpty ? "none" : log.runs.map(\.id).suffix(10).joined(separator: ", ")))")
            }
            let users = try writer.section(ModelCatalog.self).models.sorted { $0.key < $1.key }.flatMap { name, versions in
                versions.filter { $0.runId == id }.map { "\(name)@\($0.version)" }
            }
            guard users.isEmpty else {
                throw TrainError("run \(id) is the model of \(users.joined(separator: ", ")); drop those model versions first (strata drop --model NAME@VERSION)")
            }
            log.runs.removeAll { $0.id == id }
            try writer.setSection(log)
            return try writer.commit(operation: "drop run \(id)").version
        } catch {
            writer.abort()
            throw error
        }
    }

    /// The record of a run.
    public static func record(store: Store, id: String) throws -> RunRecord {
        let runLog = try store.manifest.section(RunLog.self)
        guard let entry = runLog.entry(id) else {
            let known = runLog.runs.map(\.id)
            throw TrainError("no run \(id) (runs: \(known.isEmpty ? "none" : known.suffix(10).joined(separator: ", ")))")
        }
        let path = store.absolute(entry.file)
        let bytes = try FileSystem.readFile(path)
        if let expected = entry.fileCRC, Checksum.crc32(bytes) != expected {
            throw StorageError.corrupt(file: path, column: nil, chunk: nil, reason: "the run record's checksum differs from the manifest's")
        }
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let record: RunRecord
        do {
            record = try decoder.decode(RunRecord.self, from: Data(bytes))
        } catch {
            throw StorageError.corrupt(file: path, column: nil, chunk: nil, reason: "not a valid run record: \(describeDecodingError(error))")
        }
        guard record.id == id else {
            throw StorageError.corrupt(file: path, column: nil, chunk: nil, reason: "the record is of run \(record.id), not \(id)")
        }
        return record
    }

    /// The model of a run, checked against the checksum the manifest recorded for it (a model file
    /// copied in from elsewhere is refused) and for a structure prediction can rely on.
    public static func model(store: Store, runId: String) throws -> ModelArtifact {
        guard let entry = try store.manifest.section(RunLog.self).entry(runId) else {
            throw TrainError("no run \(runId) in store version \(store.version)")
        }
        let path = store.absolute(entry.modelFile)
        let bytes = try FileSystem.readFile(path)
        if let expected = entry.modelFileCRC, ModelFile.storedCRC(bytes) != expected {
            throw StorageError.corrupt(file: path, column: nil, chunk: nil, reason: "not the model file run \(runId) wrote (its checksum differs from the manifest's)")
        }
        return try ModelFile.decode(bytes, path: path)
    }
}

/// The model registry: named models, versions, stages.
public enum ModelRegistry {
    public static let stages = ModelStages.all

    /// Moves a version to `stage`; promoting to production archives the previous production version.
    public static func promote(storePath: String, name: String, version: Int, stage: String) throws -> [ModelVersionEntry] {
        guard stages.contains(stage) else { throw TrainError("stage must be one of \(stages.joined(separator: ", "))") }
        let writer = try StoreWriter(path: storePath, create: false)
        do {
            var catalog = try writer.section(ModelCatalog.self)
            guard var versions = catalog.models[name] else {
                throw TrainError("no model named \(name) (models: \(catalog.models.keys.sorted().joined(separator: ", ")))")
            }
            guard let index = versions.firstIndex(where: { $0.version == version }) else {
                throw TrainError("model \(name) has no version \(version) (versions: \(versions.map { String($0.version) }.joined(separator: ", ")))")
            }
            let now = StoreWriter.timestamp()
            if stage == "production" {
                for other in versions.indices where versions[other].stage == "production" && other != index {
                    versions[other].stage = "archived"
                    versions[other].updatedAt = now
                }
            }
            versions[index].stage = stage
            versions[index].updatedAt = now
            catalog.models[name] = versions
            try writer.setSection(catalog)
            try writer.commit(operation: "models promote \(name) \(version) to \(stage)")
            return versions
        } catch {
            writer.abort()
            throw error
        }
    }

    /// Removes one version of a model from the registry in a new store version (its run stays).
    public static func dropVersion(storePath: String, name: String, version: Int) throws -> Int {
        let writer = try StoreWriter(path: storePath, create: false)
        do {
            var catalog = try writer.section(ModelCatalog.self)
            guard let versions = catalog.models[name] else {
                throw TrainError("no model named \(name) (models: \(catalog.models.keys.sorted().joined(separator: ", ")))")
            }
            guard versions.contains(where: { $0.version == version }) else {
                throw TrainError("model \(name) has no version \(version) (versions: \(versions.map { String($0.version) }.joined(separator: ", ")))")
            }
            let remaining = versions.filter { $0.version != version }
            catalog.models[name] = remaining.isEmpty ? nil : remaining
            try writer.setSection(catalog)
            return try writer.commit(operation: "drop model \(name)@\(version)").version
        } catch {
            writer.abort()
            throw error
        }
    }

    /// Registered model versions whose run was trained on feature view `view` (any of `versions`, or
    /// any version when nil), as `name@version`: what dropping those view versions would break.
    public static func versionsUsing(store: Store, view: String, versions: [Int]?) throws -> [String] {
        var users: [String] = []
        for (name, entries) in try store.manifest.section(ModelCatalog.self).models.sorted(by: { $0.key < $1.key }) {
            for entry in entries {
                guard let lineage = try TrainingRunner.record(store: store, id: entry.runId).lineage, lineage.featureView == view else { continue }
                if versions.map({ $0.contains(lineage.featureViewVersion) }) ?? true { users.append("\(name)@\(entry.version)") }
            }
        }
        return users
    }

    /// The name part of a model reference (`churn` of `churn@production`).
    public static func name(of reference: String) -> String {
        String(reference.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)[0])
    }

    /// Resolves `NAME`, `NAME@production` (any stage) or `NAME@3` to a version entry.
    public static func resolve(store: Store, reference: String) throws -> ModelVersionEntry {
        let parts = reference.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let name = parts[0]
        guard StoreNames.isValid(name), parts.count == 1 || ModelStages.all.contains(parts[1]) || (Int(parts[1]).map { $0 > 0 } ?? false) else {
            throw TrainError("--model '\(reference.prefix(80))' must be NAME, NAME@STAGE (\(ModelStages.all.joined(separator: ", "))) or NAME@VERSION")
        }
        let catalog = try store.manifest.section(ModelCatalog.self)
        guard let versions = catalog.models[name], !versions.isEmpty else {
            throw TrainError("no model named \(name) (models: \(catalog.models.keys.sorted().joined(separator: ", ")))")
        }
        guard parts.count == 2 else { return versions[versions.count - 1] }
        if let number = Int(parts[1]) {
            guard let entry = versions.first(where: { $0.version == number }) else { throw TrainError("model \(name) has no version \(number)") }
            return entry
        }
        guard let entry = versions.last(where: { $0.stage == parts[1] }) else {
            throw TrainError("model \(name) has no version in stage \(parts[1]); promote one with strata models promote \(name) VERSION --stage \(parts[1])")
        }
        return entry
    }
}

extension ModelRegistry {
    /// Registers the model of an existing run under `name` as a new version (stage none); returns the version.
    public static func register(storePath: String, name: String, runId: String) throws -> Int {
        try StoreNames.validate(name, what: "model name")
        let writer = try StoreWriter(path: storePath, create: false)
        do {
            guard try writer.section(RunLog.self).entry(runId) != nil else { throw TrainError("no run \(runId) to register") }
            var catalog = try writer.section(ModelCatalog.self)
            let version = (catalog.models[name]?.last?.version ?? 0) + 1
            catalog.models[name, default: []].append(ModelVersionEntry(version: version, runId: runId, stage: "none", updatedAt: StoreWriter.timestamp()))
            try writer.setSection(catalog)
            try writer.commit(operation: "models register \(runId) as \(name) version \(version)")
            return version
        } catch {
            writer.abort()
            throw error
        }
    }
}
