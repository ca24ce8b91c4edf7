import Foundation
import StrataFeatures
import StrataFormat
import StrataStorage

/// Options of `strata predict`.
public struct PredictRequest: Sendable {
    /// `NAME`, `NAME@production` (a stage) or `NAME@3` (a version).
    public var model: String
    /// Score the rows of this training set...
    public var trainingSet: String?
    /// ...or every entity as of this day (day number), with the model's feature view.
    public var asOfDay: Int?
    public var outputTable: String
    /// Bucket A (will churn anyway) from this probability, B (on the fence) from `bucketB`, C (safe) below.
    public var bucketA = 0.5
    public var bucketB = 0.15
    public var replace = false
    /// With `replace`, replace even an ingested source table.
    public var force = false
    /// Whose reasons to compute: everyone by default. Exact TreeSHAP in bulk costs 30–60 µs of CPU per user
    /// for 200 trees of 31 leaves (0.5–0.7 ms one user at a time).
    public var explain: ExplainScope = .all
    /// Users scored at once: their features, contributions and reasons take about 1 KiB each, so the
    /// default is the feature engine's memory budget over 1 KiB (a million users for 1 GiB).
    public var batchRows = PointInTimeEngine.defaultMemoryBudget >> 10

    public enum ExplainScope: String, Sendable, CaseIterable {
        /// Buckets A and B: the users marketing acts on.
        case risky
        case all
        case none
    }

    public init(model: String, outputTable: String) {
        self.model = model
        self.outputTable = outputTable
    }
}

public struct Prediction: Sendable {
    public var msno: String
    public var cutoff: Int
    public var probability: Double
    public var bucket: String
    public var reasons: [Reason]
}

/// Why a user's risk is high: a feature, its value (as text: numbers, categories), and how much it raised
/// the log-odds of churn (its Shapley value).
public struct Reason: Sendable, Equatable, Codable {
    public var feature: String
    /// nil when the value was NULL.
    public var value: String?
    public var contribution: Double

    /// `last_is_auto_renew=0 (+1.31)`.
    public var text: String { "\(feature)=\(value ?? "NULL") (+\(String(format: "%.2f", contribution)))" }
}

public struct PredictReport: Sendable {
    public var rowCount: Int
    public var modelVersion: ModelVersionEntry
    public var bucketCounts: [String: Int]
    /// The riskiest rows, highest probability first.
    public var top: [Prediction]
    public var committedVersion: Int
    public var seconds: Double
}

/// Churn probabilities, action buckets and the three strongest reasons (TreeSHAP) per user, stored as a table.
public enum Predictor {
    public static func predict(storePath: String, request: PredictRequest, progress: ((String) -> Void)? = nil) throws -> PredictReport {
        let started = Date()
        let thresholds = try BucketThresholds(a: request.bucketA, b: request.bucketB)
        let writer = try StoreWriter(path: storePath, create: false)
        do {
            let store = try Store(path: storePath, version: writer.base.version)
            try writer.checkOutputTable(request.outputTable, replace: request.replace, force: request.force)
            guard request.outputTable != request.trainingSet else {
                throw TrainError("--out \(request.outputTable) is the training set being scored; choose another name")
            }
            let scorer = try ModelScorer(store: store, reference: request.model)
            let (entry, run, artifact) = (scorer.entry, scorer.run, scorer.artifact)
            let categoryNames = scorer.categoryNames
            let encoding = scorer.categoryEncoding
            // Rows are scored in batches (features, scores, contributions and reasons of one batch held at
            // once); what is kept of each row is its output columns, sorted riskiest first at the end.
            let batchRows = max(1, request.batchRows)
            var output = PredictionColumns()
            var asOf: String?
            var rowCount = 0
            func score(_ dataset: Dataset) {
                let rows = Array(0..<dataset.rowCount)
                let probabilities = artifact.probabilities(dataset, rows: rows)
                let buckets = probabilities.map(thresholds.bucket)
                let explained: [Int]
                switch request.explain {
                case .all: explained = rows
                case .risky: explained = rows.filter { buckets[$0] != "C" }
                case .none: explained = []
                }
                var reasons = Array(repeating: [Reason](), count: rows.count)
                for (index, reason) in zip(explained, scorer.reasons(dataset, rows: explained)) { reasons[index] = reason }
                output.append(dataset: dataset, probabilities: probabilities, buckets: buckets, reasons: reasons)
                rowCount += rows.count
            }
            if let table = request.trainingSet {
                progress?("reading \(table)")
                let dataset = try Dataset.load(store: store, table: table, requireLabel: false, categoryEncoding: encoding)
                    .aligned(to: artifact.featureNames, categoryNames: categoryNames)
                for start in stride(from: 0, to: max(1, dataset.rowCount), by: batchRows) {
                    let rows = Array(start..<min(dataset.rowCount, start + batchRows))
                    progress?("scoring and explaining rows \(start + 1)-\(start + rows.count) of \(dataset.rowCount)")
                    score(rows.count == dataset.rowCount ? dataset : dataset.selecting(rows))
                }
            } else if let day = request.asOfDay {
                guard let lineage = run.lineage else { throw TrainError("run \(run.id) has no feature view lineage; score a training set instead") }
                let count = store.manifest.entities.count
                var firstSeen: [String: [String]] = [:]
                for start in stride(from: 0, to: max(1, count), by: batchRows) {
                    let entities = (Int64(start)..<Int64(min(count, start + batchRows))).map { $0 }
                    progress?("features, scores and reasons of users \(start + 1)-\(start + entities.count) of \(count)")
                    score(try features(store: store, lineage: lineage, entities: entities, cutoffs: Array(repeating: Int64(day), count: entities.count),
                                       encoding: encoding, firstSeen: &firstSeen, progress: progress).aligned(to: artifact.featureNames, categoryNames: categoryNames))
                }
                asOf = ValueText.date(Int64(day), style: .iso)
            } else {
                throw TrainError("say what to score: --training-set NAME or --as-of YYYYMMDD")
            }
            let entities = try store.loadEntities()
            // Riskiest first; ties by row (entity order for --as-of, the training set's order otherwise).
            let probabilities = output.probabilities
            let order = (0..<rowCount).sorted { probabilities[$0] != probabilities[$1] ? probabilities[$0] > probabilities[$1] : $0 < $1 }
            progress?("writing \(request.outputTable)")
            let columns = output.columns(order: order)
            let schemas = PredictionColumns.schemas
            try writer.replaceOutputTable(request.outputTable, columns: schemas, replace: request.replace, force: request.force)
            try writer.writeSegment(table: request.outputTable, partition: 0, columns: columns, policy: .auto)
            var lineage = Lineage(
                kind: "predictions", storeVersion: store.version, featureView: run.lineage?.featureView ?? "",
                featureViewVersion: run.lineage?.featureViewVersion ?? 0, featureViewHash: run.lineage?.featureViewHash ?? "",
                labelsTable: request.trainingSet ?? "", labelsRowCount: rowCount, semantics: run.lineage?.semantics ?? "strictly-before")
            lineage.model = "\(ModelRegistry.name(of: request.model))@\(entry.version)"
            lineage.runId = run.id
            lineage.asOf = asOf
            try writer.setLineage(lineage, of: request.outputTable)
            let manifest = try writer.commit(operation: "predict \(request.outputTable) with \(request.model)")
            let top = order.prefix(10).map { row in
                Prediction(msno: entities.string(Int(output.entities[row])), cutoff: Dates.yyyymmdd(dayNumber: Int(output.cutoffs[row])),
                           probability: probabilities[row], bucket: output.bucket(row), reasons: output.reasons(row))
            }
            return PredictReport(rowCount: rowCount, modelVersion: entry, bucketCounts: output.bucketCounts, top: top, committedVersion: manifest.version,
                                 seconds: -started.timeIntervalSinceNow)
        } catch {
            writer.abort()
            throw error
        }
    }

    /// The features of each (entity, cutoff) pair — strictly before its cutoff — computed with the feature
    /// view version of `lineage`; string features coded by `encoding` where it has them (-1: a text the
    /// encoding lacks), else by first appearance.
    public static func features(store: Store, lineage: Lineage, entities: [Int64], cutoffs: [Int64], encoding: [String: [String]],
                                progress: ((String) -> Void)? = nil) throws -> Dataset {
        var firstSeen: [String: [String]] = [:]
        return try features(store: store, lineage: lineage, entities: entities, cutoffs: cutoffs, encoding: encoding, firstSeen: &firstSeen,
                            progress: progress)
    }

    /// `features`, with the codes given by first appearance carried in `firstSeen` from one call to the
    /// next: batches of users code a text the encoding lacks as one unbatched call would.
    static func features(store: Store, lineage: Lineage, entities: [Int64], cutoffs: [Int64], encoding: [String: [String]],
                         firstSeen: inout [String: [String]], progress: ((String) -> Void)? = nil) throws -> Dataset {
        let (view, entry) = try FeatureRegistry.load(store: store, name: lineage.featureView, version: lineage.featureViewVersion)
        guard entry.hash == lineage.featureViewHash else {
            throw TrainError("feature view \(lineage.featureView) v\(lineage.featureViewVersion) is no longer the definition the model was trained on "
                + "(hash \(entry.hash), the model's \(lineage.featureViewHash)): it was dropped and registered again. Retrain, or score a training set with --training-set")
        }
        let plan = try FeaturePlan(view: view, store: store)
        let count = entities.count
        var engine = PointInTimeEngine(plan: plan, store: store)
        engine.progress = progress
        let matrix = try engine.compute(FeatureRequests(entities: entities, cutoffs: cutoffs))
        var dataset = Dataset(featureNames: [], features: [], categorical: [], categoryNames: [], labels: Array(repeating: .nan, count: count),
                              cutoffs: cutoffs, entities: entities)
        for (column, schema) in plan.outputs.enumerated() {
            var names = encoding[schema.name] ?? firstSeen[schema.name] ?? []
            var codes: [String: Double] = [:]
            for (code, text) in names.enumerated() { codes[text] = Double(code) }
            let values: [Double] = (0..<count).map { row in
                switch matrix.value(row: row, column: column) {
                case .null: return .nan
                case .integer(let value): return Double(value)
                case .float(let value): return value
                case .string(let text):
                    if let code = codes[text] { return code }
                    if encoding[schema.name] != nil { return -1 }
                    codes[text] = Double(names.count)
                    names.append(text)
                    return Double(names.count - 1)
                }
            }
            if encoding[schema.name] == nil && schema.type == .string { firstSeen[schema.name] = names }
            dataset.featureNames.append(schema.name)
            dataset.features.append(values)
            dataset.categorical.append(schema.type == .string || Dataset.defaultCategorical.contains(schema.name))
            dataset.categoryNames.append(names)
        }
        return dataset
    }

    /// The three features that push each row's churn score up the most, as "feature=value (+0.42)".
    static func explain(_ artifact: ModelArtifact, explainer: TreeExplainer? = nil, dataset: Dataset, rows: [Int]) -> [[Reason]] {
        let contributions: [[Double]]
        switch artifact.kind {
        case .gbdt:
            let model = explainer ?? TreeExplainer(artifact.gbdt!)
            // A few rows (a served request) are explained inline: threads cost more than they save.
            let slices = rows.count < 64 ? 1 : ProcessInfo.processInfo.activeProcessorCount
            guard !rows.isEmpty else { return [] }
            if slices == 1 {
                contributions = model.contributions(dataset, rows: rows)
            } else {
                let parts = parallelMap(slices) { slice in
                    model.contributions(dataset, rows: Array(rows[(rows.count * slice / slices)..<(rows.count * (slice + 1) / slices)]))
                }
                contributions = parts.flatMap { $0 }
            }
        case .logistic:
            // A linear model's exact Shapley values: weight × (standardised value − its mean, 0).
            let model = artifact.logistic!
            let width = model.featureNames.count + 1
            let design = model.design(dataset, rows: rows)
            contributions = rows.indices.map { row in (0..<model.featureNames.count).map { model.weights[$0 + 1] * design[row * width + $0 + 1] } }
        }
        return rows.indices.map { index in
            let phi = contributions[index]
            let strongest = phi.indices.filter { phi[$0] > 0 }.sorted { phi[$0] > phi[$1] }.prefix(3)
            return strongest.map { feature in
                let value = dataset.features[feature][rows[index]]
                let text: String?
                if value.isNaN {
                    text = nil
                } else if !dataset.categoryNames[feature].isEmpty, value >= 0, Int(value) < dataset.categoryNames[feature].count {
                    text = dataset.categoryNames[feature][Int(value)]
                } else {
                    text = value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : ValueText.float(value)
                }
                return Reason(feature: dataset.featureNames[feature], value: text, contribution: phi[feature])
            }
        }
    }
}

/// What `predict` keeps of each scored row, batch after batch: its output columns, reasons as a feature
/// index and the value's text per slot instead of `Reason` values (a few bytes a row instead of ~200).
struct PredictionColumns {
    static let schemas = [
        ColumnSchema(name: "msno", type: .entity, nullable: false), ColumnSchema(name: "cutoff_date", type: .date, nullable: false),
        ColumnSchema(name: "churn_probability", type: .float64, nullable: false), ColumnSchema(name: "bucket", type: .string, nullable: false),
    ] + (1...3).flatMap { slot in [
        ColumnSchema(name: "reason_\(slot)_feature", type: .string, nullable: true),
        ColumnSchema(name: "reason_\(slot)_value", type: .string, nullable: true),
        ColumnSchema(name: "reason_\(slot)_contribution", type: .float64, nullable: true),
    ] }

    private(set) var entities: [Int64] = []
    private(set) var cutoffs: [Int64] = []
    private(set) var probabilities: [Double] = []
    private var buckets = StringArray()
    private var featureNames: [String] = []
    /// Per reason slot: the feature's index in `featureNames`, -1 when the row has no reason there.
    private var features: [[Int32]] = [[], [], []]
    private var values = [StringArray(), StringArray(), StringArray()]
    private var valuePresent = [Validity(), Validity(), Validity()]
    private var contributions: [[Double]] = [[], [], []]

    mutating func append(dataset: Dataset, probabilities: [Double], buckets: [String], reasons: [[Reason]]) {
        featureNames = dataset.featureNames
        let index = Dictionary(dataset.featureNames.enumerated().map { ($1, Int32($0)) }, uniquingKeysWith: { first, _ in first })
        entities += dataset.entities
        cutoffs += dataset.cutoffs
        self.probabilities += probabilities
        for bucket in buckets { self.buckets.append(Array(bucket.utf8)) }
        for slot in 0..<3 {
            for row in reasons.indices {
                let reason = slot < reasons[row].count ? reasons[row][slot] : nil
                features[slot].append(reason.map { index[$0.feature] ?? -1 } ?? -1)
                values[slot].append(Array((reason?.value ?? "").utf8))
                valuePresent[slot].append(reason?.value != nil)
                contributions[slot].append(reason?.contribution ?? 0)
            }
        }
    }

    func bucket(_ row: Int) -> String { buckets.string(at: row) }

    func reasons(_ row: Int) -> [Reason] {
        (0..<3).compactMap { slot in
            let feature = features[slot][row]
            guard feature >= 0 else { return nil }
            return Reason(feature: featureNames[Int(feature)], value: valuePresent[slot].isValid(row) ? values[slot].string(at: row) : nil,
                          contribution: contributions[slot][row])
        }
    }

    var bucketCounts: [String: Int] {
        var counts: [String: Int] = ["A": 0, "B": 0, "C": 0]
        for row in 0..<buckets.count { counts[bucket(row), default: 0] += 1 }
        return counts
    }

    /// The columns of `schemas`, rows in `order`.
    func columns(order: [Int]) -> [ColumnVector] {
        var columns = [
            ColumnVector(type: .entity, values: .integers(order.map { entities[$0] })),
            ColumnVector(type: .date, values: .integers(order.map { cutoffs[$0] })),
            ColumnVector(type: .float64, values: .floats(order.map { probabilities[$0] })),
            ColumnVector(type: .string, values: .strings(buckets)).selecting(order),
        ]
        for slot in 0..<3 {
            var names = StringArray()
            var present = Validity()
            for row in order {
                let feature = features[slot][row]
                names.append(Array((feature >= 0 ? featureNames[Int(feature)] : "").utf8))
                present.append(feature >= 0)
            }
            columns += [
                ColumnVector(type: .string, values: .strings(names), validity: present),
                ColumnVector(type: .string, values: .strings(values[slot]), validity: valuePresent[slot]).selecting(order),
                ColumnVector(type: .float64, values: .floats(order.map { contributions[slot][$0] }), validity: present),
            ]
        }
        return columns
    }
}
