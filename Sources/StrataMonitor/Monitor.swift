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
        /// How far the production model's AUC on the newest labelled month fell below its test AUC, as a
        /// share of it: max(0, (test − newest) / test). 0 until a month after its training set is labelled.
        case aucDrop = "auc_drop"
    }

    /// The measures of deviation; the decision is the most severe any of them gives.
    public var deviations = [Deviation.driftedShare]
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

    /// Bands of one measure (`bands_by_measure`), where the shared ones would not suit it: an AUC drop of a
    /// few points is noise on a month of labels, a drifted share of a few points is not.
    public var measureBands: [Deviation: (watch: Double, retrain: Double, reExperiment: Double)] = [:]

    public static func == (a: TriggerPolicy, b: TriggerPolicy) -> Bool {
        a.deviations == b.deviations && a.psiThreshold == b.psiThreshold && a.watch == b.watch && a.retrain == b.retrain
            && a.reExperiment == b.reExperiment && a.featureThresholds == b.featureThresholds && a.featureWeights == b.featureWeights
            && a.source == b.source && a.measureBands.mapValues { [$0.watch, $0.retrain, $0.reExperiment] } == b.measureBands.mapValues { [$0.watch, $0.retrain, $0.reExperiment] }
    }

    public func bands(_ measure: Deviation?) -> (watch: Double, retrain: Double, reExperiment: Double) {
        measure.flatMap { measureBands[$0] } ?? (watch, retrain, reExperiment)
    }

    public func decide(_ value: Double, measure: Deviation? = nil) -> Decision {
        let b = bands(measure)
        return value <= b.watch ? .none : value <= b.retrain ? .watch : value < b.reExperiment ? .retrain : .reExperiment
    }

    /// Reads a policy file:
    /// ```yaml
    /// deviation: drifted_share        # drifted_share | max_psi | prediction_psi | auc_drop, or a list of them
    /// psi_threshold: 0.2              # a feature drifts when its PSI reaches this
    /// bands: {watch: 0.02, retrain: 0.05, re_experiment: 0.10}
    /// bands_by_measure:               # bands of one measure, instead of the shared ones
    ///   auc_drop: {watch: 0.05, retrain: 0.08, re_experiment: 0.15}
    /// features:
    ///   w30_total_secs: {psi_threshold: 0.3, weight: 2}
    /// ```
    public static func load(_ path: String) throws -> TriggerPolicy {
        func bad(_ message: String) -> MonitorError { MonitorError("policy file \(path): \(message)") }
        let root = try ConfigFile.mapping(path, what: "policy file", known: ["deviation", "psi_threshold", "bands", "bands_by_measure", "features"]) { MonitorError($0) }
        func number(_ value: Any?, _ name: String) throws -> Double? {
            guard let value else { return nil }
            guard let number = (value as? Double) ?? (value as? Int).map(Double.init), number.isFinite, number >= 0 else { throw bad("\(name) must be a number >= 0") }
            return number
        }
        var policy = TriggerPolicy()
        policy.source = path
        if let deviation = root["deviation"] {
            let texts = (deviation as? [Any]) ?? [deviation]
            let values = texts.compactMap { ($0 as? String).flatMap(Deviation.init(rawValue:)) }
            guard !texts.isEmpty, values.count == texts.count, Set(values).count == values.count else {
                throw bad("deviation must be one of \(Deviation.allCases.map(\.rawValue).joined(separator: ", ")), or a list of them without repeats")
            }
            policy.deviations = values
        }
        if let threshold = try number(root["psi_threshold"], "psi_threshold") { policy.psiThreshold = threshold }
        func readBands(_ value: Any, _ name: String, defaults: (watch: Double, retrain: Double, reExperiment: Double)) throws -> (watch: Double, retrain: Double, reExperiment: Double) {
            guard let table = value as? [String: Any], Set(table.keys).isSubset(of: ["watch", "retrain", "re_experiment"]) else {
                throw bad("\(name) must map watch, retrain and re_experiment to numbers")
            }
            let bands = (watch: try number(table["watch"], "\(name).watch") ?? defaults.watch,
                         retrain: try number(table["retrain"], "\(name).retrain") ?? defaults.retrain,
                         reExperiment: try number(table["re_experiment"], "\(name).re_experiment") ?? defaults.reExperiment)
            guard bands.watch <= bands.retrain, bands.retrain <= bands.reExperiment else {
                throw bad("\(name) must rise: watch <= retrain <= re_experiment")
            }
            return bands
        }
        if let bands = root["bands"] {
            (policy.watch, policy.retrain, policy.reExperiment) = try readBands(bands, "bands", defaults: policy.bands(nil))
        }
        if let byMeasure = root["bands_by_measure"] {
            guard let table = byMeasure as? [String: Any] else { throw bad("bands_by_measure must map measures to {watch, retrain, re_experiment}") }
            for (name, value) in table {
                guard let measure = Deviation(rawValue: name) else {
                    throw bad("bands_by_measure: \(name) is not a measure (\(Deviation.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                policy.measureBands[measure] = try readBands(value, "bands_by_measure.\(name)", defaults: policy.bands(nil))
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
    /// The bins the shares were counted in (quantile bins of the reference, or categories) and the share of
    /// each sample in each: the histograms of the dashboard.
    public var bins: [String]?
    public var referenceShares: [Double]?
    public var currentShares: [Double]?
}

/// The production model's performance on one newly labelled month (concept drift).
public struct MonthPerformance: Codable, Equatable, Sendable {
    public var cutoff: String
    public var rows: Int
    public var positives: Int
    public var auc: Double?
    public var logLoss: Double
    /// Expected calibration error over ten probability bins.
    public var calibrationError: Double
    /// max(0, (the model's test AUC − this month's) / test AUC).
    public var aucDrop: Double?
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
    /// The measure that decided (the most severe), and its value.
    public var deviationMetric: String
    public var deviation: Double
    public var decision: TriggerPolicy.Decision
    public var reason: String
    public var policy: String
    /// Every measure of the policy and its value.
    public var deviations: [String: Double]?
    /// The model's AUC and log loss on its test rows, what newly labelled months are held against.
    public var testAUC: Double?
    public var testLogLoss: Double?
    /// Per labelled month after the model's training set (before the as-of day), oldest first.
    public var performance: [MonthPerformance]?
}

public enum Monitor {
    /// What the reference is compared with.
    public enum Current: Sendable {
        /// The users whose membership expires in the 30 days from the day (the report's population), with
        /// their features as of that day.
        case population
        /// The feature vectors `strata serve` logged (table serving_log) from `since` to the as-of day
        /// (inclusive), scored by the model's name.
        case servingLog(since: Int64)
    }

    /// Data and prediction drift between the model's training set (the reference: users at their expiry
    /// month) and the current sample; the model's performance on each month labelled since its training
    /// set; and the policy's decision.
    public static func run(store: Store, model reference: String, asOfDay: Int64, referenceTable: String?, policy: TriggerPolicy,
                           current source: Current = .population, labels labelsTable: String? = nil) throws -> DriftReport {
        let scorer = try ModelScorer(store: store, reference: reference)
        guard let lineage = scorer.lineage else { throw MonitorError("model \(scorer.reference) has no feature view lineage: nothing to compare its inputs with") }
        let table = referenceTable ?? scorer.run.trainingSet
        let loaded = try Dataset.load(store: store, table: table, requireLabel: false, categoryEncoding: scorer.categoryEncoding)
        let referenceData = try loaded.aligned(to: scorer.featureNames, categoryNames: scorer.categoryNames)
        let day = ValueText.date(asOfDay, style: .iso)
        let current: Dataset
        let currentText: String
        switch source {
        case .population:
            let population = try Population(store: store, asOfDay: asOfDay)
            guard population.count > 0 else {
                throw MonitorError("no membership expires in the 30 days from \(day): there is no current population to compare")
            }
            current = try Predictor.features(store: store, lineage: lineage, entities: population.entities,
                                             cutoffs: Array(repeating: asOfDay, count: population.count), encoding: scorer.categoryEncoding)
                .aligned(to: scorer.featureNames, categoryNames: scorer.categoryNames)
            currentText = "users expiring in the 30 days from \(day)"
        case .servingLog(let since):
            current = try servingLog(store: store, scorer: scorer, days: since...asOfDay)
            currentText = "serving_log from \(ValueText.date(since, style: .iso)) to \(day)"
        }
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

        // Concept drift: the months labelled after the newest cutoff the model was trained or tested on.
        var performance: [MonthPerformance] = []
        let labelName = labelsTable ?? lineage.labelsTable
        if store.manifest.tables[labelName] != nil, let newest = loaded.cutoffs.max(), newest + 1 <= asOfDay - 1 {
            let rows = try LabelledRows(store: store, table: labelName, range: (newest + 1)...(asOfDay - 1))
            if !rows.labels.isEmpty {
                let data = try Predictor.features(store: store, lineage: lineage, entities: rows.entities, cutoffs: rows.cutoffs, encoding: scorer.categoryEncoding)
                    .aligned(to: scorer.featureNames, categoryNames: scorer.categoryNames)
                let probabilities = scorer.probabilities(data)
                for cutoff in Set(rows.cutoffs).sorted() {
                    let positions = rows.cutoffs.indices.filter { rows.cutoffs[$0] == cutoff }
                    let metrics = Metrics.compute(labels: positions.map { rows.labels[$0] }, probabilities: positions.map { probabilities[$0] })
                    var drop: Double?
                    if let test = scorer.run.test.auc, let month = metrics.auc, test > 0 { drop = max(0, (test - month) / test) }
                    performance.append(MonthPerformance(cutoff: ValueText.date(cutoff, style: .iso), rows: metrics.rows, positives: metrics.positives,
                                                        auc: metrics.auc, logLoss: metrics.logLoss, calibrationError: metrics.calibrationError, aucDrop: drop))
                }
            }
        }
        let aucDrop = performance.last?.aucDrop ?? 0

        var values: [String: Double] = [:]
        for measure in policy.deviations {
            values[measure.rawValue] = switch measure {
            case .driftedShare: driftedShare
            case .maxPSI: maxPSI
            case .predictionPSI: prediction.psi
            case .aucDrop: aucDrop
            }
        }
        // The most severe decision; among equals, the policy's first measure.
        let order: [TriggerPolicy.Decision] = [.none, .watch, .retrain, .reExperiment]
        let deciding = policy.deviations.max { a, b in
            let (da, db) = (order.firstIndex(of: policy.decide(values[a.rawValue]!, measure: a))!, order.firstIndex(of: policy.decide(values[b.rawValue]!, measure: b))!)
            return da < db || (da == db && policy.deviations.firstIndex(of: a)! > policy.deviations.firstIndex(of: b)!)
        }!
        let deviation = values[deciding.rawValue]!
        let decision = policy.decide(deviation, measure: deciding)
        let drifted = features.filter(\.drifted).sorted { $0.psi > $1.psi }
        func band(_ value: Double, _ measure: TriggerPolicy.Deviation) -> String {
            let d = policy.decide(value, measure: measure), b = policy.bands(measure)
            return d == .none ? "<= \(b.watch)" : d == .watch ? "in (\(b.watch), \(b.retrain)]"
                : d == .retrain ? "in (\(b.retrain), \(b.reExperiment))" : ">= \(b.reExperiment)"
        }
        var reason = "\(deciding.rawValue) = \(String(format: "%.4f", deviation)) \(band(deviation, deciding))"
        for measure in policy.deviations where measure != deciding {
            reason += "; \(measure.rawValue) = \(String(format: "%.4f", values[measure.rawValue]!)) \(band(values[measure.rawValue]!, measure))"
        }
        reason += "; \(drifted.count) of \(features.count) features drifted (PSI >= threshold)"
            + (drifted.isEmpty ? "" : ": " + drifted.prefix(5).map { "\($0.feature) \(String(format: "%.3f", $0.psi))" }.joined(separator: ", "))
            + "; score PSI \(String(format: "%.4f", prediction.psi))"
        if let newest = performance.last {
            reason += "; AUC \(newest.auc.map { String(format: "%.4f", $0) } ?? "n/a") on \(newest.cutoff)'s labels vs \(scorer.run.test.auc.map { String(format: "%.4f", $0) } ?? "n/a") in test"
        } else if policy.deviations.contains(.aucDrop) {
            reason += "; no month labelled since the training set yet (auc_drop 0)"
        }
        return DriftReport(
            asOf: day, model: scorer.reference, reference: table, referenceRows: referenceData.rowCount,
            current: currentText, currentRows: current.rowCount,
            features: features, prediction: prediction, driftedShare: driftedShare, maxPSI: maxPSI, deviationMetric: deciding.rawValue,
            deviation: deviation, decision: decision, reason: reason, policy: policy.source, deviations: values,
            testAUC: scorer.run.test.auc, testLogLoss: scorer.run.test.logLoss, performance: performance)
    }

    /// The feature vectors the serving log holds for `scorer`'s model name on `days`.
    static func servingLog(store: Store, scorer: ModelScorer, days: ClosedRange<Int64>) throws -> Dataset {
        let table = "serving_log"
        guard store.manifest.tables[table] != nil else {
            throw MonitorError("the store has no serving_log table: strata serve --log-sample writes it; compare with --as-of instead")
        }
        let scan = try TableScan(store: store, table: table, columns: ["model", "features"], dayRange: days)
        var vectors: [[FeatureValue]] = []
        let prefix = scorer.name + "@"
        while let batch = try scan.next() {
            guard case .strings(let models) = batch.columns[0].values, case .strings(let objects) = batch.columns[1].values else {
                throw MonitorError("serving_log's model and features columns are not text: the table is not strata serve's log")
            }
            for row in 0..<batch.rowCount where String(decoding: models[row], as: UTF8.self).hasPrefix(prefix) {
                guard let object = try? JSONSerialization.jsonObject(with: Data(objects[row])) as? [String: Any] else {
                    throw MonitorError("serving_log holds a features value that is not a JSON object")
                }
                vectors.append(scorer.featureNames.map { name in
                    switch object[name] {
                    case let text as String: return .string(text)
                    case let number as NSNumber:
                        let value = number.doubleValue
                        return value == value.rounded() && abs(value) < 9e15 ? .integer(Int64(value)) : .float(value)
                    default: return .null
                    }
                })
            }
        }
        guard !vectors.isEmpty else {
            throw MonitorError("serving_log holds no vector scored by \(scorer.name) from \(ValueText.date(days.lowerBound, style: .iso)) to \(ValueText.date(days.upperBound, style: .iso))")
        }
        return scorer.dataset(vectors: vectors, columns: Array(scorer.featureNames.indices))
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
                                missingReference: missing(reference), missingCurrent: missing(current), drifted: psi >= threshold,
                                bins: keys.map { String(Double($0).map { Int($0) }.map(String.init) ?? $0) }, referenceShares: rs, currentShares: cs)
        }
        let edges = DriftStatistics.quantileEdges(reference)
        let rs = DriftStatistics.shares(reference, edges: edges), cs = DriftStatistics.shares(current, edges: edges)
        let psi = DriftStatistics.psi(reference: rs, current: cs)
        let ks = DriftStatistics.kolmogorovSmirnov(reference, current)
        return FeatureDrift(feature: name, kind: "numeric", psi: psi, jensenShannon: DriftStatistics.jensenShannon(rs, cs), ksStatistic: ks.statistic,
                            ksPValue: ks.pValue, wassersteinNormed: DriftStatistics.wassersteinNormed(reference, current), chiSquare: nil, chiSquarePValue: nil,
                            missingReference: missing(reference), missingCurrent: missing(current), drifted: psi >= threshold,
                            bins: binLabels(edges, count: rs.count), referenceShares: rs, currentShares: cs)
    }

    /// "≤ e1", "e1–e2", …, "> e_last": the bins of `DriftStatistics.shares` (a value goes to the first bin whose
    /// upper edge is >= it).
    static func binLabels(_ edges: [Double], count: Int) -> [String] {
        func f(_ value: Double) -> String { abs(value) >= 1000 || value == value.rounded() ? String(format: "%.0f", value) : String(format: "%.3g", value) }
        return (0..<count).map { index in
            index == 0 ? "≤ \(edges.first.map(f) ?? "")" : index < edges.count ? "\(f(edges[index - 1]))–\(f(edges[index]))" : "> \(edges.last.map(f) ?? "")"
        }
    }
}
