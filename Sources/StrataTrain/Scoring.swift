import Foundation
import StrataFeatures
import StrataFormat
import StrataStorage

/// The action buckets: A (will churn anyway) from `a`, B (on the fence) from `b`, C (safe) below.
public struct BucketThresholds: Sendable, Equatable, Codable {
    public var a: Double
    public var b: Double

    /// The defaults of `strata predict` and `strata serve`.
    public static let standard = BucketThresholds(uncheckedA: 0.5, b: 0.15)

    public init(a: Double, b: Double) throws {
        guard a.isFinite, b.isFinite, (0...1).contains(a), (0...1).contains(b), b < a else {
            throw TrainError("bucket thresholds need 0 <= --bucket-b < --bucket-a <= 1")
        }
        self.a = a
        self.b = b
    }

    private init(uncheckedA a: Double, b: Double) {
        self.a = a
        self.b = b
    }

    @inline(__always) public func bucket(_ probability: Double) -> String {
        probability >= a ? "A" : probability >= b ? "B" : "C"
    }
}

/// A registered model version ready to score: its artifact checked against its run record, and the
/// category encoding its trees were trained with. Shared by `strata predict` and `strata serve`.
public final class ModelScorer: Sendable {
    /// The model's name (`churn` of `churn@production`).
    public let name: String
    public let entry: ModelVersionEntry
    public let run: RunRecord
    public let artifact: ModelArtifact
    /// Per model feature: its category texts (empty for numeric features).
    public let categoryNames: [[String]]
    /// Per model feature: category text → code.
    let categoryCodes: [[String: Double]]
    let categorical: [Bool]
    /// The trees laid out for explanations once, not per request.
    let explainer: TreeExplainer?

    /// `churn@4`: the name and version that answered.
    public var reference: String { "\(name)@\(entry.version)" }
    public var featureNames: [String] { artifact.featureNames }
    /// The feature view the model was trained on (name, version, hash), when it came from one.
    public var lineage: Lineage? { run.lineage }

    /// Loads `reference` (`NAME`, `NAME@STAGE` or `NAME@VERSION`) from `store`.
    public init(store: Store, reference: String) throws {
        let entry = try ModelRegistry.resolve(store: store, reference: reference)
        let run = try TrainingRunner.record(store: store, id: entry.runId)
        let artifact = try TrainingRunner.model(store: store, runId: entry.runId)
        guard artifact.featureNames == run.featureNames else {
            throw TrainError("run \(run.id)'s record and model file name different features; the run is damaged")
        }
        name = ModelRegistry.name(of: reference)
        self.entry = entry
        self.run = run
        self.artifact = artifact
        let categoryNames = artifact.gbdt?.categoryNames ?? artifact.logistic?.categoryNames ?? Array(repeating: [], count: artifact.featureNames.count)
        self.categoryNames = categoryNames
        categoryCodes = categoryNames.map { names in
            var codes: [String: Double] = [:]
            for (code, text) in names.enumerated() { codes[text] = Double(code) }
            return codes
        }
        explainer = artifact.gbdt.map(TreeExplainer.init)
        categorical = artifact.featureNames.indices.map { !categoryNames[$0].isEmpty || Dataset.defaultCategorical.contains(artifact.featureNames[$0]) }
    }

    /// String features with the model's own category texts, as `Dataset.load(categoryEncoding:)` takes them.
    public var categoryEncoding: [String: [String]] {
        var encoding: [String: [String]] = [:]
        for (index, name) in artifact.featureNames.enumerated() where !categoryNames[index].isEmpty { encoding[name] = categoryNames[index] }
        return encoding
    }

    /// Where each of the model's features sits among `names` (the columns of a feature view); throws
    /// naming the features the view lacks.
    public func binding(to names: [String]) throws -> [Int] {
        var position: [String: Int] = [:]
        for (index, name) in names.enumerated() { position[name] = index }
        let missing = artifact.featureNames.filter { position[$0] == nil }
        guard missing.isEmpty else {
            throw TrainError("model \(reference) needs feature\(missing.count == 1 ? "" : "s") \(missing.joined(separator: ", ")), which the vectors lack")
        }
        return artifact.featureNames.map { position[$0]! }
    }

    /// The model's input for one feature value: numbers as they are, dates as day numbers, strings as the
    /// model's category code (-1, a code no bin holds, when the model never saw the text), NULL as NaN —
    /// the encoding `Dataset.load` and `predict --as-of` give the same values.
    @inline(__always) public func input(_ value: FeatureValue, feature: Int) -> Double {
        switch value {
        case .null: return .nan
        case .integer(let integer): return Double(integer)
        case .float(let float): return float
        case .string(let text): return categoryCodes[feature][text] ?? -1
        }
    }

    /// One dataset row per vector; `columns[f]` is the model feature's position in each vector (`binding`).
    public func dataset(vectors: [[FeatureValue]], columns: [Int]) -> Dataset {
        var features = Array(repeating: [Double](repeating: .nan, count: vectors.count), count: columns.count)
        for (row, vector) in vectors.enumerated() {
            for (feature, column) in columns.enumerated() { features[feature][row] = input(vector[column], feature: feature) }
        }
        return Dataset(featureNames: artifact.featureNames, features: features, categorical: categorical, categoryNames: categoryNames,
                       labels: Array(repeating: .nan, count: vectors.count), cutoffs: Array(repeating: 0, count: vectors.count),
                       entities: Array(repeating: 0, count: vectors.count))
    }

    /// Churn probability of every row of `dataset` (in the model's feature order).
    public func probabilities(_ dataset: Dataset) -> [Double] {
        artifact.probabilities(dataset, rows: Array(0..<dataset.rowCount))
    }

    /// The three features that push each of `rows` up the most (exact TreeSHAP for trees, exact Shapley
    /// values for the logistic model).
    public func reasons(_ dataset: Dataset, rows: [Int]) -> [[Reason]] {
        Predictor.explain(artifact, explainer: explainer, dataset: dataset, rows: rows)
    }
}
