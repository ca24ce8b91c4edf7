import ArgumentParser
import Foundation
import StrataFormat
import StrataStorage
import StrataTrain

extension ModelArtifact.Kind: ExpressibleByArgument {}

/// What `strata train --model` builds: a churn model (trees or the logistic baseline), or the uplift model
/// of the retention offers.
enum ModelChoice: String, ExpressibleByArgument, CaseIterable {
    case gbdt, logistic, uplift
}
extension SplitPlan.Kind: ExpressibleByArgument {}
extension PredictRequest.ExplainScope: ExpressibleByArgument {}

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a churn model (gradient-boosted trees or the logistic baseline) on a training set, or the uplift model of retention offers; the run is recorded.",
        discussion: """
            --model uplift learns from a campaign table (--campaigns, default campaigns: msno, offer_date, discount_pct, \
            renewed) how each discount changes a user's chance to renew. An offer acts only on users who would otherwise \
            churn: p(renew | d) = 1 − c·(1 − s(d)), c from the churn model --features-of (default churn@production), s the \
            share of would-be churners discount d saves, learnt by gradient-boosted trees on the offered rows (features of \
            the churn model's view as of each offer day, plus the discount). The last month of offers is held out \
            (--test-from moves it): the run records the Qini coefficient and uplift AUC per discount on it, then the model \
            is refitted on every offer. Registered as --register (default uplift). strata report picks discounts with it.
            """)

    @OptionGroup var store: StoreOption
    @Option(name: .customLong("training-set"), help: "Training set table (from strata training-set); not with --model uplift.") var trainingSet: String?
    @Option(help: "gbdt, logistic or uplift.") var model: ModelChoice = .gbdt
    @Option(help: "--model uplift: the campaign table.") var campaigns: String?
    @Option(name: .customLong("features-of"), help: "--model uplift: the model whose feature view describes users (default churn@production).")
    var featuresOf: String?
    @Option(help: "time (by cutoff; default with two or more cutoffs) or random (by user, stratified; default with one cutoff).")
    var split: SplitPlan.Kind?
    @Option(name: .customLong("test-from"), help: "Time split: first cutoff (YYYYMMDD or YYYY-MM-DD) of the test rows (default: the last cutoff month).")
    var testFrom: String?
    @Option(name: .customLong("valid-from"), help: "Time split with --early-stopping: first cutoff of the validation rows (default: the month before the test rows). Without early stopping: the first held-out cutoff, as --test-from.")
    var validFrom: String?
    @Option(name: .customLong("test-fraction"), parsing: .unconditional, help: "Random split: share of the users that test (default 0.2).") var testFraction: Double?
    @Option(name: .customLong("valid-fraction"), parsing: .unconditional, help: "Share of the remaining users that validate, for --early-stopping when no month is left to validate with.")
    var validFraction: Double?
    @Option(name: .customLong("rounds"), parsing: .unconditional, help: "Boosting rounds (default 200; uplift 400).") var roundsGiven: Int?
    @Option(name: .customLong("learning-rate")) var learningRate = 0.05
    @Option(name: .customLong("num-leaves"), help: "(default 31; uplift 3)") var numLeavesGiven: Int?
    @Option(name: .customLong("min-data-in-leaf"), help: "(default 20; uplift 200)") var minDataInLeafGiven: Int?
    @Option(name: .customLong("lambda-l2"), help: "(default 0; uplift 10)") var lambdaL2Given: Double?

    // The uplift model learns a small effect from few would-be churners: shallow, strongly regularised trees
    // (measured on generated campaigns: deeper trees rank the held-out offers a little better by Qini but
    // choose worse offers, their saved shares overstated).
    var rounds: Int { roundsGiven ?? (model == .uplift ? 400 : 200) }
    var numLeaves: Int { numLeavesGiven ?? (model == .uplift ? 3 : 31) }
    var minDataInLeaf: Int { minDataInLeafGiven ?? (model == .uplift ? 200 : 20) }
    var lambdaL2: Double { lambdaL2Given ?? (model == .uplift ? 10 : 0) }
    @Option(name: .customLong("feature-fraction")) var featureFraction = 1.0
    @Option(name: .customLong("bagging-fraction")) var baggingFraction = 1.0
    @Option(name: .customLong("bagging-freq")) var baggingFrequency = 0
    @Option(name: .customLong("early-stopping"), parsing: .unconditional, help: "Stop after this many rounds without a better validation log loss (0: off).") var earlyStopping = 0
    @Option(parsing: .unconditional, help: "Random seed (bagging, feature sampling).") var seed: UInt64 = 42
    @Option(parsing: .unconditional, help: "Threads (default: all cores).") var threads: Int?
    @Option(parsing: .unconditional, help: "Probability threshold of the confusion matrix.") var threshold = 0.5
    @Option(help: "Register the model under this name as a new version.") var register: String?
    @Option(help: "Output: table, csv or json.") var format: OutputFormat = .table

    func validate() throws {
        if model == .uplift {
            guard trainingSet == nil else { throw ValidationError("--model uplift learns from --campaigns TABLE, not from --training-set") }
            guard split == nil, validFrom == nil, testFraction == nil, validFraction == nil, earlyStopping == 0 else {
                throw ValidationError("--model uplift holds out the last month of offers (--test-from moves it); --split, --valid-from, the fractions and --early-stopping do not apply")
            }
            if let campaigns { try validateName(campaigns, flag: "--campaigns") }
        } else {
            guard trainingSet != nil else { throw ValidationError("Missing expected argument '--training-set <training-set>'") }
            guard campaigns == nil, featuresOf == nil else { throw ValidationError("--campaigns and --features-of go with --model uplift") }
        }
        guard (testFraction ?? 0.2) > 0, (testFraction ?? 0.2) < 1, (validFraction ?? 0.2) > 0, (validFraction ?? 0.2) < 1 else {
            throw ValidationError("--test-fraction and --valid-fraction must be between 0 and 1 (exclusive)")
        }
        if let testFrom { _ = try dayNumber(testFrom, flag: "--test-from") }
        if split == .random && (testFrom != nil || validFrom != nil) { throw ValidationError("--test-from and --valid-from go with --split time") }
        if let register { try validateName(register, flag: "--register") }
        if let validFrom, let testFrom {
            guard earlyStopping > 0 else {
                throw ValidationError("--valid-from with --test-from chooses the early-stopping rows: add --early-stopping N, or give only --test-from")
            }
            guard try dayNumber(validFrom, flag: "--valid-from") < dayNumber(testFrom, flag: "--test-from") else {
                throw ValidationError("--valid-from must come before --test-from (validation rows precede the test rows)")
            }
        }
        guard earlyStopping >= 0 else { throw ValidationError("--early-stopping must be 0 (off) or a number of rounds") }
        guard threshold >= 0, threshold <= 1 else { throw ValidationError("--threshold must be between 0 and 1") }
        guard rounds > 0, rounds <= 100_000 else { throw ValidationError("--rounds must be in 1...100000") }
        guard learningRate > 0, learningRate <= 1 else { throw ValidationError("--learning-rate must be in (0, 1]") }
        guard numLeaves >= 2, numLeaves <= 4096 else { throw ValidationError("--num-leaves must be in 2...4096") }
        guard minDataInLeaf >= 1 else { throw ValidationError("--min-data-in-leaf must be at least 1") }
        guard lambdaL2 >= 0 else { throw ValidationError("--lambda-l2 must be >= 0") }
        guard featureFraction > 0, featureFraction <= 1, baggingFraction > 0, baggingFraction <= 1 else {
            throw ValidationError("--feature-fraction and --bagging-fraction must be in (0, 1]")
        }
        if let validFrom { _ = try dayNumber(validFrom, flag: "--valid-from") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        if model == .uplift { return try runUplift() }
        var request = TrainRequest(trainingSet: trainingSet!)
        request.model = model == .logistic ? .logistic : .gbdt
        request.split.kind = split
        request.split.validFrom = try validFrom.map { try dayNumber($0, flag: "--valid-from") }
        request.split.testFrom = try testFrom.map { try dayNumber($0, flag: "--test-from") }
        request.split.testFraction = testFraction ?? 0.2
        request.split.validFraction = validFraction ?? 0.2
        request.split.fractionsGiven = (test: testFraction != nil, valid: validFraction != nil)
        request.threshold = threshold
        request.register = register
        request.parameters = parameters
        let started = Date()
        let progress = stepReporter(since: started)
        let report = try TrainingRunner.run(storePath: store.path, request: request, progress: progress)
        try RunPrinter.print(report.record, format: format) {
            RunPrinter.summary(report.record)
            if let version = report.registeredVersion { print("registered as \(register!) version \(version) (stage none); committed version \(report.committedVersion)") }
        }
    }

    func runUplift() throws {
        var request = UpliftRequest()
        request.campaignsTable = campaigns ?? "campaigns"
        request.featuresOf = featuresOf ?? "churn@production"
        request.testFrom = try testFrom.map { Int(try dayNumber($0, flag: "--test-from")) }
        request.register = register ?? "uplift"
        request.parameters = parameters
        let report = try UpliftTrainer.run(storePath: store.path, request: request, progress: stepReporter(since: Date()))
        try RunPrinter.print(report.record, format: format) {
            RunPrinter.upliftSummary(report.record)
            if let version = report.registeredVersion { print("registered as \(request.register!) version \(version) (stage none); committed version \(report.committedVersion)") }
        }
    }

    var parameters: GBDTParameters {
        var parameters = GBDTParameters()
        parameters.rounds = rounds
        parameters.learningRate = learningRate
        parameters.numLeaves = numLeaves
        parameters.minDataInLeaf = minDataInLeaf
        parameters.lambdaL2 = lambdaL2
        parameters.featureFraction = featureFraction
        parameters.baggingFraction = baggingFraction
        parameters.baggingFrequency = baggingFrequency
        parameters.earlyStoppingRounds = earlyStopping
        parameters.seed = seed
        if let threads { parameters.threads = threads }
        return parameters
    }
}

enum RunPrinter {
    static func number(_ value: Double?) -> String { value.map { String(format: "%.4f", $0) } ?? "n/a" }

    /// A run as JSON (the whole record), CSV (one row of its main figures) or text.
    static func print(_ record: RunRecord, format: OutputFormat, text: () -> Void) throws {
        try RecordPrinter(format: format).print(record, fields: [
            ("run", record.id), ("model", record.model.rawValue), ("training_set", record.trainingSet), ("split", record.split),
            ("train_rows", String(record.trainRows)), ("valid_rows", String(record.validRows)), ("test_rows", String(record.testRows)),
            ("best_iteration", record.bestIteration.map(String.init)), ("auc", record.test.auc.map { String($0) }),
            ("log_loss", String(record.test.logLoss)), ("seconds", String(format: "%.3f", record.durationSeconds)),
        ], text: text)
    }

    static func upliftSummary(_ record: RunRecord) {
        Swift.print("\(record.id): uplift (saved share, gbdt) on \(record.trainingSet) — \(grouped(record.trainRows)) offers to train, "
            + "\(grouped(record.testRows)) held out, \(String(format: "%.2f", record.durationSeconds)) s")
        Swift.print("  split: \(record.split)")
        if let lineage = record.lineage {
            Swift.print("  features: view \(lineage.featureView) v\(lineage.featureViewVersion) as of each offer day; churn without an offer from \(record.parameters["churn_model"] ?? "?")")
        }
        Swift.print("  renewal on held-out offers: AUC \(number(record.test.auc))  log loss \(number(record.test.logLoss))")
        guard let uplift = record.uplift else { return }
        Swift.print("  uplift on held-out offers: Qini \(number(uplift.qini))  uplift AUC \(number(uplift.upliftAUC)) (1 = perfect ranking, 0 = random)")
        Swift.print("")
        RowPrinter.print(header: ["discount", "offers", "control", "observed_uplift", "predicted_uplift", "qini", "uplift_auc"], rows: uplift.arms.map {
            ["\($0.discountPct)%", String($0.treatedRows), String($0.controlRows), String(format: "%+.4f", $0.observedUplift),
             String(format: "%+.4f", $0.predictedUplift), number($0.qini), number($0.upliftAUC)]
        }, format: .table)
    }

    static func summary(_ record: RunRecord) {
        let metrics = record.test
        Swift.print("\(record.id): \(record.model.rawValue) on \(record.trainingSet) — \(grouped(record.trainRows)) training rows, "
            + (record.validRows > 0 ? "\(grouped(record.validRows)) validation rows, " : "")
            + "\(grouped(record.testRows)) test rows, \(String(format: "%.2f", record.durationSeconds)) s"
            + (record.trainSeconds.map { String(format: " (fit %.2f s)", $0) } ?? ""))
        Swift.print("  split: \(record.split)")
        if let lineage = record.lineage {
            Swift.print("  lineage: store version \(lineage.storeVersion), feature view \(lineage.featureView) v\(lineage.featureViewVersion), labels \(lineage.labelsTable)")
        }
        if let validation = record.validation, let best = record.bestIteration {
            Swift.print("  early stopping: best iteration \(best) of \(record.parameters["rounds"] ?? "?") rounds, validation log loss \(number(validation.logLoss)), "
                + "AUC \(number(validation.auc)) (optimistic: these rows chose the round)")
        } else if let best = record.bestIteration {
            Swift.print("  trees: \(best)")
        }
        Swift.print("  test: AUC \(number(metrics.auc))  log loss \(number(metrics.logLoss))  top decile: precision \(number(metrics.precisionTopDecile)) "
            + "recall \(number(metrics.recallTopDecile))  (\(grouped(metrics.positives)) churners of \(grouped(metrics.rows)))")
        Swift.print("  confusion at \(metrics.threshold): TP \(metrics.truePositives)  FP \(metrics.falsePositives)  FN \(metrics.falseNegatives)  TN \(metrics.trueNegatives)")
        Swift.print("")
        RowPrinter.print(header: ["predicted", "rows", "mean_predicted", "observed_churn"], rows: metrics.calibration.filter { $0.rows > 0 }.map {
            [String(format: "%.1f-%.1f", $0.low, $0.high), String($0.rows), number($0.meanPrediction), number($0.observedRate)]
        }, format: .table)
        if record.perCutoff.count > 1 {
            Swift.print("")
            RowPrinter.print(header: ["cutoff", "rows", "auc", "log_loss"], rows: record.perCutoff.map {
                [$0.cutoff, String($0.metrics.rows), number($0.metrics.auc), number($0.metrics.logLoss)]
            }, format: .table)
        }
    }
}

struct Runs: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Training runs recorded in the store.", subcommands: [List.self, Show.self, Compare.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List runs with their test metrics.")
        @OptionGroup var store: StoreOption
        @Option(help: "Output: table, csv or json.") var format: OutputFormat = .table
        @Option(parsing: .unconditional, help: "Open this committed store version instead of the latest.") var version: Int?

        func validate() throws { try validateStoreVersion(version) }

        func run() throws {
            let opened = try Store(path: store.path, version: version)
            let rows: [[String?]] = try TrainingRunner.listing(store: opened).map { run in
                [run.run, run.createdAt, run.model, run.trainingSet, String(run.trainRows),
                 run.testAuc.map { String(format: "%.4f", $0) }, String(format: "%.4f", run.testLogLoss), String(format: "%.2f", run.seconds)]
            }
            RowPrinter.print(header: ["run", "created_at", "model", "training_set", "train_rows", "test_auc", "test_log_loss", "seconds"], rows: rows, format: format)
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Everything about one run, with feature importance.")
        @OptionGroup var store: StoreOption
        @Argument(help: "Run id (run-000001).") var id: String
        @Option(help: "Output: table, csv or json.") var format: OutputFormat = .table
        @Option(parsing: .unconditional, help: "Open this committed store version instead of the latest.") var version: Int?

        func validate() throws { try validateStoreVersion(version) }

        func run() throws {
            let record = try TrainingRunner.record(store: try Store(path: store.path, version: version), id: id)
            try RunPrinter.print(record, format: format) {
                RunPrinter.summary(record)
                print("\nparameters: " + record.parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
                print("")
                let total = record.importance.reduce(0) { $0 + $1.value }
                RowPrinter.print(header: ["feature", record.model == .gbdt ? "gain" : "|weight|", "share"], rows: record.importance.map {
                    [$0.feature, String(format: "%.2f", $0.value), total > 0 ? String(format: "%.1f%%", 100 * $0.value / total) : nil]
                }, format: .table)
            }
        }
    }

    struct Compare: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Two runs side by side.")
        @OptionGroup var store: StoreOption
        @Argument(help: "First run id.") var first: String
        @Argument(help: "Second run id.") var second: String
        @Option(help: "Output: table, csv or json.") var format: OutputFormat = .table
        @Option(parsing: .unconditional, help: "Open this committed store version instead of the latest.") var version: Int?

        func validate() throws { try validateStoreVersion(version) }

        func run() throws {
            let opened = try Store(path: store.path, version: version)
            let a = try TrainingRunner.record(store: opened, id: first)
            let b = try TrainingRunner.record(store: opened, id: second)
            func row(_ name: String, _ x: Double?, _ y: Double?) -> [String?] {
                [name, RunPrinter.number(x), RunPrinter.number(y), x.flatMap { x in y.map { String(format: "%+.4f", $0 - x) } } ?? ""]
            }
            var rows: [[String?]] = [
                ["model", a.model.rawValue, b.model.rawValue, ""], ["training set", a.trainingSet, b.trainingSet, ""],
                ["split", a.split, b.split, ""],
                row("test auc", a.test.auc, b.test.auc), row("test log loss", a.test.logLoss, b.test.logLoss),
                row("precision top 10%", a.test.precisionTopDecile, b.test.precisionTopDecile),
                row("recall top 10%", a.test.recallTopDecile, b.test.recallTopDecile),
                row("seconds", a.durationSeconds, b.durationSeconds),
            ]
            for key in Set(a.parameters.keys).union(b.parameters.keys).sorted() where a.parameters[key] != b.parameters[key] {
                rows.append(["param \(key)", a.parameters[key] ?? "-", b.parameters[key] ?? "-", ""])
            }
            RowPrinter.print(header: format == .table ? ["run", a.id, b.id, "difference"] : ["field", "first", "second", "difference"], rows: rows, format: format)
        }
    }
}

struct Models: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The model registry: versions and stages.", subcommands: [List.self, Promote.self, Export.self])

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a model version in another tool's format: lightgbm (its text model, which lightgbm.Booster(model_file=...) loads).")
        @OptionGroup var store: StoreOption
        @Argument(help: "NAME, NAME@production (a stage) or NAME@3 (a version).") var model: String
        @Option(name: .customLong("to"), help: "The format to write: lightgbm.") var target = "lightgbm"
        @Option(help: "File to write (a new file or a regular file to replace; - for standard output).") var out: String

        func validate() throws {
            guard target == "lightgbm" else { throw ValidationError("--to must be lightgbm (the only format models export to)") }
        }

        func run() throws {
            let opened = try Store(path: store.path)
            let entry = try ModelRegistry.resolve(store: opened, reference: model)
            let artifact = try TrainingRunner.model(store: opened, runId: entry.runId)
            guard let gbdt = artifact.gbdt, artifact.kind == .gbdt else {
                throw TrainError("\(model) is a \(artifact.kind.rawValue) model; only gradient-boosted trees export to LightGBM")
            }
            let text = try LightGBMExport.text(gbdt)
            if out == "-" {
                writeStandardOutput(Array(text.utf8))
                return
            }
            try writeExportFile(Array(text.utf8), to: out)
            print("wrote \(out): \(model) (v\(entry.version), \(entry.runId)) as a LightGBM text model, \(gbdt.trees.count) trees, \(gbdt.featureNames.count) features")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List registered models.")
        @OptionGroup var store: StoreOption
        @Option(help: "Output: table, csv or json.") var format: OutputFormat = .table
        @Option(parsing: .unconditional, help: "Open this committed store version instead of the latest.") var version: Int?

        func validate() throws { try validateStoreVersion(version) }

        func run() throws {
            let opened = try Store(path: store.path, version: version)
            let rows: [[String?]] = try ModelRegistry.listing(store: opened).map { model in
                [model.model, String(model.version), model.stage, model.run, model.testAuc.map { String(format: "%.4f", $0) }, model.updatedAt]
            }
            RowPrinter.print(header: ["model", "version", "stage", "run", "test_auc", "updated_at"], rows: rows, format: format)
        }
    }

    struct Promote: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Move a model version to a stage; one production version at a time.")
        @OptionGroup var store: StoreOption
        @Argument(help: "Model name.") var name: String
        @Argument(help: "Version.") var version: Int
        @Option(help: "none, staging, production or archived.") var stage: String
        @Option(help: "Output: table, csv or json.") var format: OutputFormat = .table

        func validate() throws {
            guard ModelStages.all.contains(stage) else { throw ValidationError("--stage must be one of \(ModelStages.all.joined(separator: ", "))") }
        }

        func run() throws {
            let versions = try ModelRegistry.promote(storePath: store.path, name: name, version: version, stage: stage)
            if format != .table {
                RowPrinter.print(header: ["model", "version", "stage", "run", "updated_at"], rows: versions.map {
                    [name, String($0.version), $0.stage, $0.runId, $0.updatedAt]
                }, format: format)
                return
            }
            for entry in versions { print("\(name) v\(entry.version): \(entry.stage) (\(entry.runId))") }
        }
    }
}

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score churn risk: probability, bucket A/B/C and the top three reasons per user, written as a table.")

    @OptionGroup var store: StoreOption
    @Option(help: "NAME, NAME@production (a stage) or NAME@3 (a version).") var model: String
    @Option(name: .customLong("training-set"), help: "Score the rows of this training set.") var trainingSet: String?
    @Option(name: .customLong("as-of"), help: "Score every user as of this day (YYYYMMDD or YYYY-MM-DD).") var asOf: String?
    @Option(help: "Table to write.") var out: String
    @Option(name: .customLong("bucket-a"), parsing: .unconditional, help: "A (will churn anyway) from this probability.") var bucketA = 0.5
    @Option(name: .customLong("bucket-b"), parsing: .unconditional, help: "B (on the fence) from this probability; below is C (safe).") var bucketB = 0.15
    @Flag(help: "Replace the table if it exists and is derived (a training set, predictions).") var replace = false
    @Flag(help: "With --replace, replace even an ingested source table.") var force = false
    @Option(help: "Whose reasons to compute with exact TreeSHAP: all (the default), risky (buckets A and B), or none.") var explain: PredictRequest.ExplainScope = .all
    @Option(help: "Output: table, csv or json.") var format: OutputFormat = .table

    func validate() throws {
        guard (trainingSet == nil) != (asOf == nil) else { throw ValidationError("give exactly one of --training-set and --as-of") }
        try validateName(out, flag: "--out")
        guard bucketA.isFinite, bucketB.isFinite, (0...1).contains(bucketA), (0...1).contains(bucketB), bucketB < bucketA else {
            throw ValidationError("bucket thresholds need 0 <= --bucket-b < --bucket-a <= 1")
        }
        if let asOf { _ = try dayNumber(asOf, flag: "--as-of") }
    }

    func run() throws {
        var request = PredictRequest(model: model, outputTable: out)
        request.trainingSet = trainingSet
        request.asOfDay = try asOf.map { Int(try dayNumber($0, flag: "--as-of")) }
        request.bucketA = bucketA
        request.bucketB = bucketB
        request.replace = replace
        request.force = force
        request.explain = explain
        let started = Date()
        let progress = stepReporter(since: started)
        let report = try Predictor.predict(storePath: store.path, request: request, progress: progress)
        let counts = report.bucketCounts
        if format != .table {
            struct Output: Encodable {
                var table: String; var rows: Int; var model: String; var modelVersion: Int; var run: String; var asOf: String?; var trainingSet: String?
                var bucketA, bucketB, bucketC: Int; var seconds: Double; var committedVersion: Int
            }
            let output = Output(table: out, rows: report.rowCount, model: model, modelVersion: report.modelVersion.version, run: report.modelVersion.runId,
                                asOf: try asOf.map { ValueText.date(try dayNumber($0, flag: "--as-of"), style: .iso) }, trainingSet: trainingSet,
                                bucketA: counts["A"] ?? 0, bucketB: counts["B"] ?? 0, bucketC: counts["C"] ?? 0, seconds: report.seconds,
                                committedVersion: report.committedVersion)
            try RecordPrinter(format: format).print(output, fields: [
                ("table", out), ("rows", String(report.rowCount)), ("model", model), ("model_version", String(report.modelVersion.version)),
                ("run", report.modelVersion.runId), ("bucket_a", String(output.bucketA)), ("bucket_b", String(output.bucketB)), ("bucket_c", String(output.bucketC)),
                ("seconds", String(format: "%.3f", report.seconds)), ("committed_version", String(report.committedVersion)),
            ]) {}
            return
        }
        print("\(out): \(grouped(report.rowCount)) users scored with \(model) (v\(report.modelVersion.version), \(report.modelVersion.runId)) in "
            + "\(String(format: "%.2f", report.seconds)) s; committed version \(report.committedVersion)")
        print("  buckets: A (will churn anyway, p >= \(bucketA)) \(grouped(counts["A"] ?? 0)), B (on the fence) \(grouped(counts["B"] ?? 0)), C (safe) \(grouped(counts["C"] ?? 0))")
        print("  reasons: columns reason_1_feature, reason_1_value, reason_1_contribution ... reason_3_*; the riskiest users:")
        print("")
        RowPrinter.print(header: ["msno", "churn_probability", "bucket", "reason_1", "reason_2", "reason_3"], rows: report.top.map { prediction in
            [prediction.msno, String(format: "%.3f", prediction.probability), prediction.bucket]
                + (0..<3).map { $0 < prediction.reasons.count ? prediction.reasons[$0].text : nil }
        }, format: .table)
        if report.rowCount > report.top.count {
            print("(the \(report.top.count) riskiest of \(grouped(report.rowCount)) users; strata scan --db \(shellQuoted(store.path)) \(out) for all)")
        }
    }
}

/// Writes an exported file: to a temporary name beside it, then renamed over it, so a reader never sees
/// half a file. Only a new path or a regular file is replaced: a symbolic link, a device or a pipe is
/// refused (write to standard output with `--out -`), and a missing directory is said plainly.
func writeExportFile(_ bytes: [UInt8], to path: String) throws {
    var status = stat()
    if lstat(path, &status) == 0 && (status.st_mode & S_IFMT) != S_IFREG {
        let kind = (status.st_mode & S_IFMT) == S_IFDIR ? "a directory" : (status.st_mode & S_IFMT) == S_IFLNK ? "a symbolic link" : "not a regular file"
        throw TrainError("--out \(path) is \(kind); give the path of a file to write, or --out - for standard output")
    }
    let directory = (path as NSString).deletingLastPathComponent
    guard directory.isEmpty || FileSystem.isDirectory(directory) else { throw TrainError("--out \(path): the directory \(directory) does not exist") }
    let temporary = (directory.isEmpty ? "" : directory + "/") + ".\((path as NSString).lastPathComponent).tmp-\(getpid())"
    do {
        try FileSystem.writeAtomically(bytes, to: path, temporaryPath: temporary)
    } catch {
        try? FileSystem.remove(temporary)
        throw TrainError("cannot write \(path): \(error)")
    }
}
