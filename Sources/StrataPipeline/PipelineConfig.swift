import Foundation
import StrataFeatures
import StrataFormat
import StrataMonitor
import StrataReport
import StrataStorage
import StrataTrain

/// `pipeline.yaml`: where the week's files arrive, what the model is trained on and with, and the rules
/// that turn drift into an action and a challenger into the production model. Relative paths are read
/// from the config file's directory. Every key is optional but `inbox` and `features`.
///
/// ```yaml
/// inbox: inbox                    # new CSV files; each is ingested once (by name and content)
/// inbox_may_be_empty: false       # an inbox with no new file fails the ingest step unless true
/// features: churn.features        # the feature view (file) trained on, materialised and served
/// labels: labels                  # the label table
/// model: churn                    # the registry name of the churn model
/// predictions: predictions        # the table predict writes (replaced each run)
/// training:                       # retrain: these hyperparameters on the newest labelled months
///   months: 6                     # labelled cutoff months in a training set; the newest one tests
///   rounds: 200
///   learning_rate: 0.05
///   num_leaves: 31
///   min_data_in_leaf: 20
///   lambda_l2: 0
///   feature_fraction: 1.0
///   seed: 42
/// search:                         # re-experiment: random search, every trial a run
///   trials: 8
///   budget_seconds: 600           # no trial starts after this
///   max_rounds: 600               # with early stopping on the second-newest month
///   early_stopping: 30
///   seed: 7
/// monitor:
///   policy: policy.yaml           # the trigger policy (default: the seed's bands on the drifted share)
///   max_data_age_days: 7          # the newest transaction must be at most this old on the as-of day
/// gates:                          # a challenger goes to production only if every gate passes
///   auc_epsilon: 0.005            # its AUC on the newest labelled month >= the champion's − this
///   min_auc: 0.6                  # without a champion: its AUC >= this
///   max_calibration_error: 0.05  # or no worse than the champion's + calibration_epsilon
///   calibration_epsilon: 0.01
///   mean_score: [0.01, 0.9]       # its mean churn probability on the users it will score
///   max_share_a: 0.8              # the share of them in bucket A
/// uat:
///   rows: 500                     # held-out users checked end to end through the serving path
/// report:                         # the weekly report (omit to skip)
///   out: reports
///   email: email.yaml             # optional
/// alert:                          # when the decision is not none or a gate fails (omit: recorded only)
///   webhook: http://127.0.0.1:9000/hook
///   email: alert-email.yaml
/// ```
public struct PipelineConfig: Sendable {
    public var path: String
    /// FNV-1a of the file's bytes: a run is resumed only with the config it started with.
    public var fingerprint: String
    public var inbox: String
    public var inboxMayBeEmpty = false
    public var features: String
    public var labels = "labels"
    public var model = "churn"
    public var predictions = "predictions"
    public var trainingMonths = 6
    public var parameters = GBDTParameters()
    public var search = Search()
    public var policy = TriggerPolicy()
    public var maxDataAgeDays = 7
    public var gates = Gates()
    public var uatRows = 500
    public var reportDirectory: String?
    public var reportEmail: String?
    public var alertWebhook: String?
    public var alertEmail: String?

    public struct Search: Sendable, Equatable {
        public var trials = 8
        public var budgetSeconds = 600.0
        public var maxRounds = 600
        public var earlyStopping = 30
        public var seed: UInt64 = 7
    }

    public struct Gates: Sendable, Equatable {
        public var aucEpsilon = 0.005
        public var minAUC = 0.6
        public var maxCalibrationError = 0.05
        public var calibrationEpsilon = 0.01
        public var meanScore = 0.01...0.9
        public var maxShareA = 0.8
    }

    public static func load(_ path: String) throws -> PipelineConfig {
        func bad(_ message: String) -> PipelineError { PipelineError("pipeline config \(path): \(message)") }
        let root = try ConfigFile.mapping(path, what: "pipeline config", known: [
            "inbox", "inbox_may_be_empty", "features", "labels", "model", "predictions", "training", "search", "monitor", "gates", "uat", "report", "alert",
        ]) { PipelineError($0) }
        let bytes = try FileSystem.readFile(path)
        let directory = (path as NSString).deletingLastPathComponent
        func resolve(_ relative: String) -> String { relative.hasPrefix("/") || directory.isEmpty ? relative : directory + "/" + relative }

        func section(_ key: String, _ keys: Set<String>) throws -> [String: Any] {
            guard let value = root[key] else { return [:] }
            guard let table = value as? [String: Any] else { throw bad("\(key) must be a mapping") }
            if let unknown = table.keys.sorted().first(where: { !keys.contains($0) }) {
                throw bad("unknown key \(key).\(unknown) (known: \(keys.sorted().joined(separator: ", ")))")
            }
            return table
        }
        func text(_ value: Any?, _ name: String) throws -> String? {
            guard let value else { return nil }
            guard let text = value as? String, !text.isEmpty, !text.contains("\0") else { throw bad("\(name) must be a non-empty text") }
            return text
        }
        func number(_ value: Any?, _ name: String, _ range: ClosedRange<Double>) throws -> Double? {
            guard let value else { return nil }
            guard let number = (value as? Double) ?? (value as? Int).map(Double.init), number.isFinite, range.contains(number) else {
                throw bad("\(name) must be a number in \(range.lowerBound)...\(range.upperBound)")
            }
            return number
        }
        func integer(_ value: Any?, _ name: String, _ range: ClosedRange<Int>) throws -> Int? {
            guard let value else { return nil }
            guard let number = value as? Int, range.contains(number) else { throw bad("\(name) must be a whole number in \(range.lowerBound)...\(range.upperBound)") }
            return number
        }
        func name(_ value: Any?, _ key: String) throws -> String? {
            guard let text = try text(value, key) else { return nil }
            do { try StoreNames.validate(text, what: key) } catch { throw bad("\(error)") }
            return text
        }

        guard let inbox = try text(root["inbox"], "inbox") else { throw bad("inbox is missing: the directory the new CSV files arrive in") }
        guard let features = try text(root["features"], "features") else { throw bad("features is missing: the feature view file the model is trained on") }
        var config = PipelineConfig(path: path, fingerprint: String(Self.fingerprint(bytes), radix: 16), inbox: resolve(inbox), features: resolve(features))
        guard FileSystem.isDirectory(config.inbox) else { throw bad("inbox \(config.inbox) is not a directory: create it, or point inbox: at the directory the files arrive in") }
        // The view is parsed now: a mistake in it stops the run before anything is ingested.
        do { _ = try FeatureViewParser.parse(file: config.features) } catch { throw bad("features \(config.features): \(error)") }
        if let flag = root["inbox_may_be_empty"] {
            guard let value = flag as? Bool else { throw bad("inbox_may_be_empty must be true or false") }
            config.inboxMayBeEmpty = value
        }
        config.labels = try name(root["labels"], "labels") ?? config.labels
        config.model = try name(root["model"], "model") ?? config.model
        config.predictions = try name(root["predictions"], "predictions") ?? config.predictions
        guard config.predictions != config.labels else { throw bad("predictions must not be the label table") }

        let training = try section("training", ["months", "rounds", "learning_rate", "num_leaves", "min_data_in_leaf", "lambda_l2", "feature_fraction", "seed"])
        config.trainingMonths = try integer(training["months"], "training.months", 2...120) ?? config.trainingMonths
        var p = GBDTParameters()
        p.rounds = try integer(training["rounds"], "training.rounds", 1...100_000) ?? p.rounds
        p.learningRate = try number(training["learning_rate"], "training.learning_rate", 1e-6...1) ?? p.learningRate
        p.numLeaves = try integer(training["num_leaves"], "training.num_leaves", 2...4096) ?? p.numLeaves
        p.minDataInLeaf = try integer(training["min_data_in_leaf"], "training.min_data_in_leaf", 1...100_000_000) ?? p.minDataInLeaf
        p.lambdaL2 = try number(training["lambda_l2"], "training.lambda_l2", 0...1e12) ?? p.lambdaL2
        p.featureFraction = try number(training["feature_fraction"], "training.feature_fraction", 1e-6...1) ?? p.featureFraction
        p.seed = UInt64(try integer(training["seed"], "training.seed", 0...Int.max) ?? Int(p.seed))
        config.parameters = p

        let search = try section("search", ["trials", "budget_seconds", "max_rounds", "early_stopping", "seed"])
        config.search.trials = try integer(search["trials"], "search.trials", 1...1000) ?? config.search.trials
        config.search.budgetSeconds = try number(search["budget_seconds"], "search.budget_seconds", 0...1e7) ?? config.search.budgetSeconds
        config.search.maxRounds = try integer(search["max_rounds"], "search.max_rounds", 1...100_000) ?? config.search.maxRounds
        config.search.earlyStopping = try integer(search["early_stopping"], "search.early_stopping", 1...10_000) ?? config.search.earlyStopping
        config.search.seed = UInt64(try integer(search["seed"], "search.seed", 0...Int.max) ?? Int(config.search.seed))

        let monitor = try section("monitor", ["policy", "max_data_age_days"])
        if let policy = try text(monitor["policy"], "monitor.policy") { config.policy = try TriggerPolicy.load(resolve(policy)) }
        config.maxDataAgeDays = try integer(monitor["max_data_age_days"], "monitor.max_data_age_days", 1...3650) ?? config.maxDataAgeDays

        let gates = try section("gates", ["auc_epsilon", "min_auc", "max_calibration_error", "calibration_epsilon", "mean_score", "max_share_a"])
        config.gates.calibrationEpsilon = try number(gates["calibration_epsilon"], "gates.calibration_epsilon", 0...1) ?? config.gates.calibrationEpsilon
        config.gates.aucEpsilon = try number(gates["auc_epsilon"], "gates.auc_epsilon", 0...1) ?? config.gates.aucEpsilon
        config.gates.minAUC = try number(gates["min_auc"], "gates.min_auc", 0...1) ?? config.gates.minAUC
        config.gates.maxCalibrationError = try number(gates["max_calibration_error"], "gates.max_calibration_error", 0...1) ?? config.gates.maxCalibrationError
        config.gates.maxShareA = try number(gates["max_share_a"], "gates.max_share_a", 0...1) ?? config.gates.maxShareA
        if let bounds = gates["mean_score"] {
            guard let pair = bounds as? [Any], pair.count == 2, let low = try number(pair[0], "gates.mean_score[0]", 0...1),
                  let high = try number(pair[1], "gates.mean_score[1]", 0...1), low <= high else {
                throw bad("gates.mean_score must be [low, high] with 0 <= low <= high <= 1")
            }
            config.gates.meanScore = low...high
        }

        let uat = try section("uat", ["rows"])
        config.uatRows = try integer(uat["rows"], "uat.rows", 1...1_000_000) ?? config.uatRows

        let report = try section("report", ["out", "email"])
        config.reportDirectory = try text(report["out"], "report.out").map(resolve)
        if !report.isEmpty && config.reportDirectory == nil { throw bad("report needs out: the directory the weekly report is written to") }
        config.reportEmail = try text(report["email"], "report.email").map(resolve)
        if let email = config.reportEmail { _ = try EmailConfig.load(email) }

        let alert = try section("alert", ["webhook", "email"])
        if let webhook = try text(alert["webhook"], "alert.webhook") {
            guard let url = URL(string: webhook), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil,
                  !webhook.contains(where: { $0.isWhitespace || $0.asciiValue.map { $0 < 0x20 } ?? false }) else {
                throw bad("alert.webhook must be an http:// or https:// URL")
            }
            config.alertWebhook = webhook
        }
        config.alertEmail = try text(alert["email"], "alert.email").map(resolve)
        if let email = config.alertEmail { _ = try EmailConfig.load(email) }
        return config
    }

    /// FNV-1a: stable across processes and machines (unlike `hashValue`).
    static func fingerprint(_ bytes: [UInt8]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }
}

public struct PipelineError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
