import Dispatch
import Foundation
import StrataStorage

/// What training reports besides the model.
public struct TrainingHistory: Sendable {
    public var validLogLoss: [Double] = []
    public var bestIteration = 0
}

/// Histogram-based gradient boosting for binary log loss, growing each tree leaf by leaf.
public struct GBDTTrainer {
    public let parameters: GBDTParameters

    public init(parameters: GBDTParameters) { self.parameters = parameters }

    struct Bin {
        var gradient = 0.0
        var hessian = 0.0
        var count = 0.0
    }

    /// A histogram bin: sums of gradients and hessians. Counts are not kept (LightGBM does the same): a
    /// bin's rows are estimated as its hessian times the leaf's rows per unit of hessian, which halves the
    /// stores of the hottest loop.
    struct HistogramEntry {
        var gradient = 0.0
        var hessian = 0.0
    }

    struct Split {
        var feature = -1
        var gain = 0.0
        var thresholdBin = 0
        var defaultLeft = false
        var categorical = false
        var leftBins: [Int32] = []
        var left = Bin()
        var right = Bin()
    }

    struct Leaf {
        var begin: Int
        var end: Int
        var histogram: UnsafeMutablePointer<HistogramEntry>
        var sums: Bin
        var split: Split
        var parentNode: Int
        var isLeftChild: Bool
    }

    /// What the trees minimise.
    public enum Objective: Sendable {
        /// Binary log loss of the label: the model's output is P(label = 1).
        case logLoss
        /// The share of would-be churners an offer saves, s = σ(score), fitted to `label` = churned despite
        /// the offer, whose probability is c·(1 − s) with c each row's churn probability without an offer
        /// (`churnProbability`, by dataset row; from the churn model). Gradients of that likelihood, Fisher
        /// information as the hessian; the trees start from `initialShare`.
        case savedShare(churnProbability: [Double], initialShare: Double)
    }

    public func train(_ dataset: Dataset, trainRows: [Int], validRows: [Int], objective: Objective = .logLoss) throws -> (GBDTModel, TrainingHistory) {
        guard !trainRows.isEmpty else { throw TrainError("no training rows (check --valid-from)") }
        let featureCount = dataset.featureNames.count
        // Bins come from an evenly spaced sample of at most 200,000 rows, as LightGBM's bin_construct_sample_cnt.
        let sampleStride = max(1, trainRows.count / GBDTParameters.binSampleRows)
        let sample = Swift.stride(from: 0, to: trainRows.count, by: sampleStride).map { trainRows[$0] }
        let mappers = parallelMap(featureCount) { BinMapper(values: dataset.features[$0], rows: sample, isCategorical: dataset.categorical[$0]) }
        let train = BinnedMatrix(dataset: dataset, rows: trainRows, mappers: mappers)
        let rowMajor = RowMajorBins(train)
        let valid = BinnedMatrix(dataset: dataset, rows: validRows, mappers: mappers)
        defer {
            train.deallocate()
            valid.deallocate()
            rowMajor.deallocate()
        }
        let labels = trainRows.map { dataset.labels[$0] }
        let validLabels = validRows.map { dataset.labels[$0] }
        let mean = labels.reduce(0, +) / Double(labels.count)
        var base = log(max(mean, 1e-15) / max(1 - mean, 1e-15))
        let offsetBuffer = UnsafeMutableBufferPointer<Double>.allocate(capacity: trainRows.count)
        defer { offsetBuffer.deallocate() }
        let savedShare: Bool
        switch objective {
        case .logLoss:
            savedShare = false
        case .savedShare(let churnProbability, let initialShare):
            guard churnProbability.count == dataset.rowCount, (0.001...0.999).contains(initialShare) else {
                throw TrainError("the saved-share objective needs a churn probability per row and an initial share in (0, 1)")
            }
            savedShare = true
            base = log(initialShare / (1 - initialShare))
            for (index, row) in trainRows.enumerated() { offsetBuffer[index] = min(0.999, max(1e-4, churnProbability[row])) }
        }
        var model = GBDTModel(featureNames: dataset.featureNames, mappers: mappers, baseScore: base, trees: [], categoryNames: dataset.categoryNames)
        var history = TrainingHistory()

        let n = trainRows.count
        let scores = UnsafeMutableBufferPointer<Double>.allocate(capacity: n)
        scores.initialize(repeating: base)
        let labelBuffer = UnsafeMutableBufferPointer<Double>.allocate(capacity: n)
        for row in 0..<n { labelBuffer[row] = labels[row] }
        var validScores = [Double](repeating: base, count: validRows.count)
        let gradients = UnsafeMutableBufferPointer<Double>.allocate(capacity: n)
        let hessians = UnsafeMutableBufferPointer<Double>.allocate(capacity: n)
        defer {
            gradients.deallocate()
            hessians.deallocate()
            scores.deallocate()
            labelBuffer.deallocate()
        }
        var random = SplitMix(seed: parameters.seed)
        var bestLoss = Double.infinity
        var bestTrees = 0
        var bagged = Array(0..<n)
        for round in 0..<parameters.rounds {
            // Gradients of the log loss, on all cores (each row written by one thread: deterministic).
            let buffers = UnsafeSendable((scores, labelBuffer, gradients, hessians, offsetBuffer))
            let sliceCount = parameters.threads
            DispatchQueue.concurrentPerform(iterations: sliceCount) { slice in
                let (scores, labels, gradients, hessians, churn) = buffers.value
                for row in (n * slice / sliceCount)..<(n * (slice + 1) / sliceCount) {
                    let p = sigmoid(scores[row])
                    if savedShare {
                        // s = p; churned (label 1) with probability c(1 − s).
                        let c = churn[row]
                        let renew = 1 - c + c * p
                        gradients[row] = labels[row] == 1 ? p : -c * p * (1 - p) / renew
                        hessians[row] = max(1e-6, c * p * p * (1 - p) / renew)
                    } else {
                        gradients[row] = p - labels[row]
                        hessians[row] = p * (1 - p)
                    }
                }
            }
            if parameters.baggingFrequency > 0 && parameters.baggingFraction < 1 && round % parameters.baggingFrequency == 0 {
                bagged = (0..<n).filter { _ in random.uniform() < parameters.baggingFraction }
            }
            var features = Array(0..<featureCount)
            if parameters.featureFraction < 1 {
                let keep = max(1, Int((Double(featureCount) * parameters.featureFraction).rounded()))
                for index in stride(from: featureCount - 1, to: 0, by: -1) { features.swapAt(index, random.below(index + 1)) }
                features = Array(features.prefix(keep)).sorted()
            }
            let (tree, leafOfRow) = grow(train: train, rowMajor: rowMajor, rows: bagged, features: features, mappers: mappers,
                                         gradients: UnsafeBufferPointer(gradients), hessians: UnsafeBufferPointer(hessians))
            // Rows of the bag know their leaf; the others (and validation rows) walk the tree.
            let missing = model.missingBins
            for row in 0..<n {
                let leaf = leafOfRow[row] >= 0 ? Int(leafOfRow[row]) : tree.leaf({ Int(train.columns[$0][row]) }, missingBins: missing)
                scores[row] += tree.leafValue[leaf]
            }
            for row in 0..<validRows.count {
                validScores[row] += tree.leafValue[tree.leaf({ Int(valid.columns[$0][row]) }, missingBins: missing)]
            }
            model.trees.append(tree)
            if !validRows.isEmpty {
                let loss = Metrics.logLoss(labels: validLabels, probabilities: validScores.map(sigmoid))
                history.validLogLoss.append(loss)
                if loss < bestLoss - 1e-12 {
                    bestLoss = loss
                    bestTrees = model.trees.count
                } else if parameters.earlyStoppingRounds > 0 && model.trees.count - bestTrees >= parameters.earlyStoppingRounds {
                    break
                }
            }
            if tree.splitFeature.isEmpty { break }  // nothing left to learn
        }
        if parameters.earlyStoppingRounds > 0 && bestTrees > 0 { model.trees.removeSubrange(bestTrees...) }
        history.bestIteration = bestTrees
        return (model, history)
    }
}
