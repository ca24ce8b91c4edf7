import Foundation

/// The baseline: L2-regularised logistic regression on standardised features (NULL → the training
/// median), fitted by Newton's method. What it misses, the trees add.
public struct LogisticModel: Codable, Equatable, Sendable {
    public var featureNames: [String]
    public var medians: [Double]
    public var means: [Double]
    public var scales: [Double]
    /// Intercept first, then one weight per feature.
    public var weights: [Double]
    /// For string features, the text of each code the weights were fitted on (code = index), so scoring
    /// codes a text as training did; empty for other features. Absent from models saved before it existed.
    public var categoryNames: [[String]]?

    public static func train(_ dataset: Dataset, rows: [Int], l2: Double = 1e-4, iterations: Int = 25) -> LogisticModel {
        let featureCount = dataset.featureNames.count
        var medians = [Double](repeating: 0, count: featureCount)
        var means = [Double](repeating: 0, count: featureCount)
        var scales = [Double](repeating: 1, count: featureCount)
        for feature in 0..<featureCount {
            let present = rows.map { dataset.features[feature][$0] }.filter { !$0.isNaN }.sorted()
            medians[feature] = present.isEmpty ? 0 : present[present.count / 2]
            let filled = rows.map { let value = dataset.features[feature][$0]; return value.isNaN ? medians[feature] : value }
            let mean = filled.reduce(0, +) / Double(max(1, filled.count))
            let variance = filled.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(1, filled.count))
            means[feature] = mean
            scales[feature] = variance > 0 ? variance.squareRoot() : 1
        }
        var model = LogisticModel(featureNames: dataset.featureNames, medians: medians, means: means, scales: scales,
                                  weights: [Double](repeating: 0, count: featureCount + 1), categoryNames: dataset.categoryNames)
        let width = featureCount + 1
        let design = model.design(dataset, rows: rows)
        let labels = rows.map { dataset.labels[$0] }
        for _ in 0..<iterations {
            var gradient = [Double](repeating: 0, count: width)
            var hessian = [Double](repeating: 0, count: width * width)
            // The Newton step's sums, over raw buffers: the inner loop is width² multiply-adds per row.
            design.withUnsafeBufferPointer { design in
                model.weights.withUnsafeBufferPointer { weights in
                    gradient.withUnsafeMutableBufferPointer { gradient in
                        hessian.withUnsafeMutableBufferPointer { hessian in
                            for row in 0..<rows.count {
                                let x = design.baseAddress! + row * width
                                var z = 0.0
                                for index in 0..<width { z += weights[index] * x[index] }
                                let p = 1 / (1 + exp(-z))
                                let residual = p - labels[row]
                                let w = p * (1 - p)
                                for i in 0..<width {
                                    let xi = x[i]
                                    gradient[i] += residual * xi
                                    let scaled = w * xi
                                    let line = hessian.baseAddress! + i * width
                                    for j in 0...i { line[j] += scaled * x[j] }
                                }
                            }
                        }
                    }
                }
            }
            for i in 0..<width {
                for j in 0..<i { hessian[j * width + i] = hessian[i * width + j] }
                if i > 0 {
                    gradient[i] += l2 * Double(rows.count) * model.weights[i]
                    hessian[i * width + i] += l2 * Double(rows.count)
                }
                hessian[i * width + i] += 1e-9
            }
            guard let step = solve(hessian, gradient, width) else { break }
            var largest = 0.0
            for index in 0..<width {
                model.weights[index] -= step[index]
                largest = max(largest, abs(step[index]))
            }
            if largest < 1e-8 { break }
        }
        return model
    }

    /// Rows as [1, standardised features...], row-major.
    func design(_ dataset: Dataset, rows: [Int]) -> [Double] {
        let width = featureNames.count + 1
        var design = [Double](repeating: 1, count: rows.count * width)
        for (index, row) in rows.enumerated() {
            for feature in 0..<featureNames.count {
                var value = dataset.features[feature][row]
                if value.isNaN { value = medians[feature] }
                design[index * width + feature + 1] = (value - means[feature]) / scales[feature]
            }
        }
        return design
    }

    public func probabilities(_ dataset: Dataset, rows: [Int]) -> [Double] {
        let width = featureNames.count + 1
        let design = design(dataset, rows: rows)
        return (0..<rows.count).map { row in
            var z = 0.0
            for index in 0..<width { z += weights[index] * design[row * width + index] }
            return 1 / (1 + exp(-z))
        }
    }

    /// Solves the symmetric positive definite system by Cholesky decomposition.
    static func solve(_ matrix: [Double], _ vector: [Double], _ size: Int) -> [Double]? {
        var lower = [Double](repeating: 0, count: size * size)
        for i in 0..<size {
            for j in 0...i {
                var sum = matrix[i * size + j]
                for k in 0..<j { sum -= lower[i * size + k] * lower[j * size + k] }
                if i == j {
                    guard sum > 0 else { return nil }
                    lower[i * size + i] = sum.squareRoot()
                } else {
                    lower[i * size + j] = sum / lower[j * size + j]
                }
            }
        }
        var y = [Double](repeating: 0, count: size)
        for i in 0..<size {
            var sum = vector[i]
            for k in 0..<i { sum -= lower[i * size + k] * y[k] }
            y[i] = sum / lower[i * size + i]
        }
        var x = [Double](repeating: 0, count: size)
        for i in stride(from: size - 1, through: 0, by: -1) {
            var sum = y[i]
            for k in (i + 1)..<size { sum -= lower[k * size + i] * x[k] }
            x[i] = sum / lower[i * size + i]
        }
        return x
    }
}
