import Dispatch
import Foundation
import StrataStorage

/// Hyperparameters of the gradient-boosted trees (names and defaults follow LightGBM's).
public struct GBDTParameters: Codable, Equatable, Sendable {
    public var rounds = 200
    public var learningRate = 0.05
    public var numLeaves = 31
    public var minDataInLeaf = 20
    public var minSumHessianInLeaf = 1e-3
    public var lambdaL2 = 0.0
    public var featureFraction = 1.0
    public var baggingFraction = 1.0
    public var baggingFrequency = 0
    /// Stop when the validation log loss has not improved for this many rounds (0: never).
    public var earlyStoppingRounds = 0
    public var seed: UInt64 = 42
    public var threads = ProcessInfo.processInfo.activeProcessorCount
    // Categorical splits, as LightGBM: one-vs-rest up to `maxCatToOneHot` categories, otherwise
    // categories sorted by gradient ratio and split into two groups.
    public var maxCatToOneHot = 4
    public var maxCatThreshold = 32
    public var catSmooth = 10.0
    public var catL2 = 10.0
    public var minDataPerGroup = 100
    /// Rows sampled to choose each feature's bins.
    public static let binSampleRows = 200_000

    public init() {}
}

/// A trained ensemble: raw score = base + sum of the trees' leaf values; probability = sigmoid(score).
public struct GBDTModel: Codable, Equatable, Sendable {
    public var featureNames: [String]
    public var mappers: [BinMapper]
    public var baseScore: Double
    public var trees: [Tree]
    public var categoryNames: [[String]]

    var missingBins: [Int] { mappers.map(\.missingBin) }

    /// Raw scores (log-odds) of `rows`.
    public func rawScores(_ dataset: Dataset, rows: [Int]) -> [Double] {
        let missing = missingBins
        let binned = BinnedMatrix(dataset: dataset, rows: rows, mappers: mappers)
        defer { binned.deallocate() }
        var scores = [Double](repeating: baseScore, count: rows.count)
        // Raw buffers all the way down: the closure-and-array form retained and released the tree's arrays
        // at every node, 15% of a served score's CPU.
        binned.columns.withUnsafeBufferPointer { columns in
            missing.withUnsafeBufferPointer { missing in
                scores.withUnsafeMutableBufferPointer { scores in
                    for index in trees.indices { trees[index].addLeafValues(columns: columns, missingBins: missing, into: scores) }
                }
            }
        }
        return scores
    }

    public func probabilities(_ dataset: Dataset, rows: [Int]) -> [Double] { rawScores(dataset, rows: rows).map(sigmoid) }

    /// Total split gain per feature.
    public var gainImportance: [Double] {
        var importance = [Double](repeating: 0, count: featureNames.count)
        for tree in trees {
            for (node, feature) in tree.splitFeature.enumerated() { importance[Int(feature)] += tree.gain[node] }
        }
        return importance
    }
}

@inline(__always) func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }
