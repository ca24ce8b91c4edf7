import Foundation
import StrataFeatures
import StrataFormat
import StrataReport
import StrataStorage
import StrataTrain
import Yams

/// The trigger policy: what "deviation" means, when a feature counts as drifted, and the bands that turn
/// a deviation into a decision. Defaults are the seed's: ≤ 2% none, up to 5% watch, up to 10% retrain
/// (the seed's 5–8%, and the gap to 10% with it), 10% and more re-experiment.
public struct TriggerPolicy: Sendable, Equatable {
    public enum Deviation: String, Sendable, CaseIterable {
        /// The weighted share of features whose PSI reaches their threshold.
        case driftedShare = "drifted_share"
        /// The largest PSI of any feature.
        case maxPSI = "max_psi"
        /// The PSI of the model's scores.
        case predictionPSI = "prediction_psi"
    }

    public var deviation = Deviation.driftedShare
    public var psiThreshold = 0.2
    public var watch = 0.02
    public var retrain = 0.05
    public var reExperiment = 0.10
    /// Per feature: its own PSI threshold and weight in the drifted share.
    public var featureThresholds: [String: Double] = [:]
    public var featureWeights: [String: Double] = [:]
    public var source = "the default policy"

    public init() {}

    public enum Decision: String, Sendable, Codable { case none, watch, retrain, reExperiment = "re-experiment" }

    public func decide(_ value: Double) -> Decision {
        value <= watch ? .none : value <= retrain ? .watch : value < reExperiment ? .retrain : .reExperiment
    }

    /// Reads a policy file:
    /// ```yaml
    /// deviation: drifted_share        # drifted_share | max_psi | prediction_psi
    /// psi_threshold: 0.2              # a feature drifts when its PSI reaches this
    /// bands: {watch: 0.02, retrain: 0.05, re_experiment: 0.10}
    /// features:
    ///   w30_total_secs: {psi_threshold: 0.3, weight: 2}
    /// ```
    public static func load(_ path: String) throws -> TriggerPolicy {
        func bad(_ message: String) -> MonitorError { MonitorError("policy file \(path): \(message)") }
        let root = try ConfigFile.mapping(path, what: "policy file", known: ["deviation", "psi_threshold", "bands", "features"]) { MonitorError($0) }
        func number(_ value: Any?, _ name: String) throws -> Double? {
            guard let value else { return nil }
            guard let number = (value as? Double) ?? (value as? Int).map(Double.init), number.isFinite, number >= 0 else { throw bad("\(name) must be a number >= 0") }
            return number
        }
        var policy = TriggerPolicy()
        policy.source = path
        if let deviation = root["deviation"] {
            guard let text = deviation as? String, let value = Deviation(rawValue: text) else {
                throw bad("deviation must be one of \(Deviation.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            policy.deviation = value
        }
        if let threshold = try number(root["psi_threshold"], "psi_threshold") { policy.psiThreshold = threshold }
        if let bands = root["bands"] {
            guard let table = bands as? [String: Any], Set(table.keys).isSubset(of: ["watch", "retrain", "re_experiment"]) else {
                throw bad("bands must map watch, retrain and re_experiment to numbers")
            }
            policy.watch = try number(table["watch"], "bands.watch") ?? policy.watch
            policy.retrain = try number(table["retrain"], "bands.retrain") ?? policy.retrain
            policy.reExperiment = try number(table["re_experiment"], "bands.re_experiment") ?? policy.reExperiment
            guard policy.watch <= policy.retrain, policy.retrain <= policy.reExperiment else {
                throw bad("bands must rise: watch <= retrain <= re_experiment")
            }
        }
        if let features = root["features"] {
            guard let table = features as? [String: Any] else { throw bad("features must map feature names to {psi_threshold, weight}") }
            for (name, value) in table {
                guard let entry = value as? [String: Any], Set(entry.keys).isSubset(of: ["psi_threshold", "weight"]) else {
                    throw bad("features.\(name) must be a mapping with psi_threshold and/or weight")
                }
                if let threshold = try number(entry["psi_threshold"], "features.\(name).psi_threshold") { policy.featureThresholds[name] = threshold }
                if let weight = try number(entry["weight"], "features.\(name).weight") { policy.featureWeights[name] = weight }
            }
        }
        return policy
    }
}

public struct MonitorError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// One feature's drift between the reference and the current sample.
public struct FeatureDrift: Codable, Equatable, Sendable {
    public var feature: String
    /// numeric or categorical.
    public var kind: String
    public var psi: Double
    public var jensenShannon: Double
    public var ksStatistic: Double?
    public var ksPValue: Double?
    public var wassersteinNormed: Double?
    public var chiSquare: Double?
    public var chiSquarePValue: Double?
    public var missingReference: Double
    public var missingCurrent: Double
    public var drifted: Bool
}

public struct DriftReport: Codable, Equatable, Sendable {
    public var asOf: String
    public var model: String
    public var reference: String
    public var referenceRows: Int
    public var current: String
    public var currentRows: Int
    public var features: [FeatureDrift]
    public var prediction: FeatureDrift
    public var driftedShare: Double
    public var maxPSI: Double
    public var deviationMetric: String
    public var deviation: Double
    public var decision: TriggerPolicy.Decision
    public var reason: String
    public var policy: String
}

public enum Monitor {
    /// Data and prediction drift between the production model's training set (the reference: users at
    /// their expiry month) and the users whose membership expires in the 30 days from `asOfDay` (the
    /// report's population, as of that day), and the policy's decision.
    public static func run(store: Store, model reference: String, asOfDay: Int64, referenceTable: String?, policy: TriggerPolicy) throws -> DriftReport {
        let scorer = try ModelScorer(store: store, reference: reference)
        guard let lineage = scorer.lineage else { throw MonitorError("model \(scorer.reference) has no feature view lineage: nothing to compare its inputs with") }
        let table = referenceTable ?? scorer.run.trainingSet
        let referenceData = try Dataset.load(store: store, table: table, requireLabel: false, categoryEncoding: scorer.categoryEncoding)
            .aligned(to: scorer.featureNames, categoryNames: scorer.categoryNames)
        let population = try Population(store: store, asOfDay: asOfDay)
        guard population.count > 0 else {
            throw MonitorError("no membership expires in the 30 days from \(ValueText.date(asOfDay, style: .iso)): there is no current population to compare")
        }
        let current = try Predictor.features(store: store, lineage: lineage, entities: population.entities,
                                             cutoffs: Array(repeating: asOfDay, count: population.count), encoding: scorer.categoryEncoding)
            .aligned(to: scorer.featureNames, categoryNames: scorer.categoryNames)
        var features: [FeatureDrift] = []
        for (index, name) in scorer.featureNames.enumerated() {
            let categorical = referenceData.categorical[index]
            let threshold = policy.featureThresholds[name] ?? policy.psiThreshold
            features.append(drift(name: name, reference: referenceData.features[index], current: current.features[index],
                                  categorical: categorical, threshold: threshold))
        }
        let prediction = drift(name: "churn_probability", reference: scorer.probabilities(referenceData), current: scorer.probabilities(current),
                               categorical: false, threshold: policy.psiThreshold)
        let totalWeight = features.reduce(0) { $0 + (policy.featureWeights[$1.feature] ?? 1) }
        let driftedWeight = features.filter(\.drifted).reduce(0) { $0 + (policy.featureWeights[$1.feature] ?? 1) }
        let driftedShare = totalWeight > 0 ? driftedWeight / totalWeight : 0
        let maxPSI = features.map(\.psi).max() ?? 0
        let deviation: Double = switch policy.deviation {
        case .driftedShare: driftedShare
        case .maxPSI: maxPSI
        case .predictionPSI: prediction.psi
        }
        let decision = policy.decide(deviation)
        let drifted = features.filter(\.drifted).sorted { $0.psi > $1.psi }
        let reason = "\(policy.deviation.rawValue) = \(String(format: "%.4f", deviation)) "
            + (decision == .none ? "<= \(policy.watch) (watch)" : decision == .watch ? "in (\(policy.watch), \(policy.retrain)]"
               : decision == .retrain ? "in (\(policy.retrain), \(policy.reExperiment))" : ">= \(policy.reExperiment) (re-experiment)")
            + "; \(drifted.count) of \(features.count) features drifted (PSI >= threshold)"
            + (drifted.isEmpty ? "" : ": " + drifted.prefix(5).map { "\($0.feature) \(String(format: "%.3f", $0.psi))" }.joined(separator: ", "))
            + "; score PSI \(String(format: "%.4f", prediction.psi))"
        return DriftReport(
            asOf: ValueText.date(asOfDay, style: .iso), model: scorer.reference, reference: table, referenceRows: referenceData.rowCount,
            current: "users expiring in the 30 days from \(ValueText.date(asOfDay, style: .iso))", currentRows: current.rowCount,
            features: features, prediction: prediction, driftedShare: driftedShare, maxPSI: maxPSI, deviationMetric: policy.deviation.rawValue,
            deviation: deviation, decision: decision, reason: reason, policy: policy.source)
    }

    /// The statistics of one pair of samples (the threshold of the default policy).
    public static func driftStatistics(reference: [Double], current: [Double], categorical: Bool) -> FeatureDrift {
        drift(name: "sample", reference: reference, current: current, categorical: categorical, threshold: TriggerPolicy().psiThreshold)
    }

    static func drift(name: String, reference: [Double], current: [Double], categorical: Bool, threshold: Double) -> FeatureDrift {
        func missing(_ values: [Double]) -> Double { values.isEmpty ? 0 : Double(values.filter(\.isNaN).count) / Double(values.count) }
        if categorical {
            func counts(_ values: [Double]) -> [String: Double] {
                var counts: [String: Double] = [:]
                for value in values where !value.isNaN { counts[String(value), default: 0] += 1 }
                return counts
            }
            let (r, c) = (counts(reference), counts(current))
            let keys = Set(r.keys).union(c.keys).sorted()
            let (rt, ct) = (max(1, r.values.reduce(0, +)), max(1, c.values.reduce(0, +)))
            let rs = keys.map { (r[$0] ?? 0) / rt }, cs = keys.map { (c[$0] ?? 0) / ct }
            let psi = DriftStatistics.psi(reference: rs, current: cs)
            let chi = DriftStatistics.chiSquare(reference: r, current: c)
            return FeatureDrift(feature: name, kind: "categorical", psi: psi, jensenShannon: DriftStatistics.jensenShannon(rs, cs), ksStatistic: nil,
                                ksPValue: nil, wassersteinNormed: nil, chiSquare: chi.statistic.isFinite ? chi.statistic : nil, chiSquarePValue: chi.pValue,
                                missingReference: missing(reference), missingCurrent: missing(current), drifted: psi >= threshold)
        }
        let edges = DriftStatistics.quantileEdges(reference)
        let rs = DriftStatistics.shares(reference, edges: edges), cs = DriftStatistics.shares(current, edges: edges)
        let psi = DriftStatistics.psi(reference: rs, current: cs)
        let ks = DriftStatistics.kolmogorovSmirnov(reference, current)
        return FeatureDrift(feature: name, kind: "numeric", psi: psi, jensenShannon: DriftStatistics.jensenShannon(rs, cs), ksStatistic: ks.statistic,
                            ksPValue: ks.pValue, wassersteinNormed: DriftStatistics.wassersteinNormed(reference, current), chiSquare: nil, chiSquarePValue: nil,
                            missingReference: missing(reference), missingCurrent: missing(current), drifted: psi >= threshold)
    }
}
