/// What prediction and TreeSHAP rely on without checking, checked once when a model file is read
/// (format-spec §13): a model whose checksum is fine but whose trees point outside their arrays, loop,
/// or hold NaN is refused with a reason instead of trapping, hanging or scoring NaN.
extension ModelArtifact {
    /// Bounds of a model a reader accepts: the trainer's own limits (`--num-leaves` ≤ 4096).
    static let featureCountMax = 10_000
    static let treeCountMax = 100_000
    static let internalNodeCountMax = 4095

    /// Every broken rule, one line each; empty for a model that predicts safely.
    public func problems() -> [String] {
        var problems: [String] = []
        guard !featureNames.isEmpty, featureNames.count <= Self.featureCountMax else {
            return ["the model has \(featureNames.count) features (1...\(Self.featureCountMax) allowed)"]
        }
        switch kind {
        case .gbdt:
            guard let gbdt else { return ["a gbdt model without its trees"] }
            problems += gbdt.problems(featureCount: featureNames.count)
            if gbdt.featureNames != featureNames { problems.append("the trees' feature names differ from the model's") }
        case .logistic:
            guard let logistic else { return ["a logistic model without its weights"] }
            problems += logistic.problems(featureCount: featureNames.count)
        }
        return problems
    }
}

extension GBDTModel {
    func problems(featureCount: Int) -> [String] {
        var problems: [String] = []
        guard mappers.count == featureCount, categoryNames.count == featureCount, featureNames.count == featureCount else {
            return ["\(mappers.count) bin mappers and \(categoryNames.count) category lists for \(featureCount) features"]
        }
        if !baseScore.isFinite { problems.append("the base score is \(baseScore)") }
        for (feature, mapper) in mappers.enumerated() {
            if let problem = mapper.problem() { problems.append("feature \(featureNames[feature]): \(problem)") }
        }
        guard problems.isEmpty else { return problems }
        if trees.count > ModelArtifact.treeCountMax { return ["\(trees.count) trees (at most \(ModelArtifact.treeCountMax))"] }
        for (index, tree) in trees.enumerated() {
            if let problem = tree.problem(binCounts: mappers.map(\.binCount)) {
                problems.append("tree \(index): \(problem)")
                if problems.count >= 5 { break }
            }
        }
        return problems
    }
}

extension BinMapper {
    /// Bins are bytes and the missing bin comes last, so at most 254 value bins (`valueBinsMax`).
    func problem() -> String? {
        if isCategorical {
            guard upperBounds.isEmpty, categories.count <= Self.valueBinsMax else { return "a categorical mapper with \(categories.count) categories" }
            guard categories.allSatisfy(\.isFinite), Set(categories).count == categories.count else { return "categories are not distinct finite codes" }
        } else {
            guard categories.isEmpty, (1...Self.valueBinsMax).contains(upperBounds.count) else { return "a numeric mapper with \(upperBounds.count) bins" }
            guard !upperBounds.contains(where: \.isNaN), zip(upperBounds, upperBounds.dropFirst()).allSatisfy({ $0 < $1 }) else {
                return "bin bounds are not ascending numbers"
            }
        }
        return nil
    }
}

extension Tree {
    /// Nil when the tree is a proper binary tree over the model's features and bins: every array the
    /// right length, every split on a feature that exists and a bin it has, every node and leaf reached
    /// exactly once from the root (so there is no cycle), finite values.
    func problem(binCounts: [Int]) -> String? {
        let nodeCount = splitFeature.count
        guard nodeCount <= ModelArtifact.internalNodeCountMax else { return "\(nodeCount) internal nodes (at most \(ModelArtifact.internalNodeCountMax))" }
        let perNode = [thresholdBin.count, defaultLeft.count, isCategorical.count, leftBins.count, left.count, right.count, gain.count, internalCount.count]
        guard perNode.allSatisfy({ $0 == nodeCount }), leafValue.count == nodeCount + 1, leafCount.count == nodeCount + 1 else {
            return "its arrays do not all describe \(nodeCount) internal nodes and \(nodeCount + 1) leaves"
        }
        guard leafValue.allSatisfy(\.isFinite), gain.allSatisfy(\.isFinite),
              (leafCount + internalCount).allSatisfy({ $0.isFinite && $0 >= 0 }) else { return "a leaf value, gain or count is not a finite number" }
        for node in 0..<nodeCount {
            let feature = Int(splitFeature[node])
            guard feature >= 0, feature < binCounts.count else { return "node \(node) splits on feature \(feature), which does not exist" }
            let bins = binCounts[feature]
            if isCategorical[node] {
                guard leftBins[node].allSatisfy({ $0 >= 0 && Int($0) < bins }) else { return "node \(node) sends bins outside 0..<\(bins) left" }
            } else {
                guard thresholdBin[node] >= 0, Int(thresholdBin[node]) < bins else { return "node \(node) has threshold bin \(thresholdBin[node]) of \(bins)" }
            }
        }
        guard nodeCount > 0 else { return nil }
        // Walk from the root: each internal node and each leaf must be met exactly once.
        var seenNodes = [Bool](repeating: false, count: nodeCount)
        var seenLeaves = [Bool](repeating: false, count: nodeCount + 1)
        var stack: [Int32] = [0]
        seenNodes[0] = true
        while let node = stack.popLast() {
            for child in [left[Int(node)], right[Int(node)]] {
                if child >= 0 {
                    guard Int(child) < nodeCount, !seenNodes[Int(child)] else { return "node \(node) points to node \(child): not a tree" }
                    seenNodes[Int(child)] = true
                    stack.append(child)
                } else {
                    let leaf = Int(~child)
                    guard leaf < nodeCount + 1, !seenLeaves[leaf] else { return "node \(node) points to leaf \(leaf): not a tree" }
                    seenLeaves[leaf] = true
                }
            }
        }
        guard !seenNodes.contains(false), !seenLeaves.contains(false) else { return "some nodes or leaves are not reachable from the root" }
        return nil
    }
}

extension LogisticModel {
    func problems(featureCount: Int) -> [String] {
        guard featureNames.count == featureCount, medians.count == featureCount, means.count == featureCount, scales.count == featureCount,
              weights.count == featureCount + 1
        else { return ["its arrays do not all describe \(featureCount) features"] }
        guard (medians + means + weights).allSatisfy(\.isFinite), scales.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            return ["a median, mean, scale or weight is not a finite number (scales must be positive)"]
        }
        if let categoryNames, categoryNames.count != featureCount {
            return ["its category texts describe \(categoryNames.count) features, not \(featureCount)"]
        }
        return []
    }
}
