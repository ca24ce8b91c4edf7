import Foundation

/// Quality of churn probabilities against 0/1 labels.
public struct Metrics: Codable, Equatable, Sendable {
    public var rows: Int
    public var positives: Int
    /// Area under the ROC curve (ties count half); nil when only one class is present.
    public var auc: Double?
    public var logLoss: Double
    /// Among the `ceil(0.1 n)` highest scores: the share that churned, and the share of all churners found.
    public var precisionTopDecile: Double
    public var recallTopDecile: Double?
    public var threshold: Double
    /// Confusion matrix at `threshold`: true/false positives/negatives.
    public var truePositives: Int
    public var falsePositives: Int
    public var trueNegatives: Int
    public var falseNegatives: Int
    /// Ten equal-width probability bins: rows, mean prediction, observed churn rate.
    public var calibration: [CalibrationBin]

    public struct CalibrationBin: Codable, Equatable, Sendable {
        public var low: Double
        public var high: Double
        public var rows: Int
        public var meanPrediction: Double?
        public var observedRate: Double?
    }

    public static func compute(labels: [Double], probabilities: [Double], threshold: Double = 0.5) -> Metrics {
        let n = labels.count
        let positives = labels.reduce(0) { $0 + Int($1) }
        var metrics = Metrics(rows: n, positives: positives, auc: auc(labels: labels, scores: probabilities),
                              logLoss: logLoss(labels: labels, probabilities: probabilities), precisionTopDecile: 0, recallTopDecile: nil,
                              threshold: threshold, truePositives: 0, falsePositives: 0, trueNegatives: 0, falseNegatives: 0, calibration: [])
        guard n > 0 else { return metrics }
        let k = Int((0.1 * Double(n)).rounded(.up))
        let top = (0..<n).sorted { probabilities[$0] != probabilities[$1] ? probabilities[$0] > probabilities[$1] : $0 < $1 }.prefix(k)
        let found = top.reduce(0) { $0 + Int(labels[$1]) }
        metrics.precisionTopDecile = Double(found) / Double(k)
        metrics.recallTopDecile = positives > 0 ? Double(found) / Double(positives) : nil
        for row in 0..<n {
            let predicted = probabilities[row] >= threshold
            switch (predicted, labels[row] == 1) {
            case (true, true): metrics.truePositives += 1
            case (true, false): metrics.falsePositives += 1
            case (false, false): metrics.trueNegatives += 1
            case (false, true): metrics.falseNegatives += 1
            }
        }
        for bin in 0..<10 {
            let low = Double(bin) / 10
            let high = Double(bin + 1) / 10
            let rows = (0..<n).filter { probabilities[$0] >= low && (probabilities[$0] < high || (bin == 9 && probabilities[$0] <= 1)) }
            metrics.calibration.append(CalibrationBin(
                low: low, high: high, rows: rows.count,
                meanPrediction: rows.isEmpty ? nil : rows.reduce(0) { $0 + probabilities[$1] } / Double(rows.count),
                observedRate: rows.isEmpty ? nil : rows.reduce(0) { $0 + labels[$1] } / Double(rows.count)))
        }
        return metrics
    }

    /// Rank-based AUC (Mann–Whitney U with average ranks for ties).
    public static func auc(labels: [Double], scores: [Double]) -> Double? {
        let positives = labels.reduce(0, +)
        let negatives = Double(labels.count) - positives
        guard positives > 0, negatives > 0 else { return nil }
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var rankSum = 0.0
        var index = 0
        while index < order.count {
            var end = index + 1
            while end < order.count && scores[order[end]] == scores[order[index]] { end += 1 }
            let averageRank = Double(index + end + 1) / 2
            for position in index..<end where labels[order[position]] == 1 { rankSum += averageRank }
            index = end
        }
        return (rankSum - positives * (positives + 1) / 2) / (positives * negatives)
    }

    /// Mean negative log-likelihood, probabilities clipped to [1e-15, 1 - 1e-15].
    public static func logLoss(labels: [Double], probabilities: [Double]) -> Double {
        guard !labels.isEmpty else { return 0 }
        var total = 0.0
        for (label, probability) in zip(labels, probabilities) {
            let p = min(max(probability, 1e-15), 1 - 1e-15)
            total -= label * log(p) + (1 - label) * log(1 - p)
        }
        return total / Double(labels.count)
    }
}

extension Metrics {
    /// Expected calibration error over the ten bins: Σ rows/n · |mean prediction − observed churn rate|.
    public var calibrationError: Double {
        guard rows > 0 else { return 0 }
        return calibration.reduce(0) { total, bin in
            guard let predicted = bin.meanPrediction, let observed = bin.observedRate else { return total }
            return total + Double(bin.rows) / Double(rows) * abs(predicted - observed)
        }
    }
}
