/// Exact Shapley values of tree ensembles (Lundberg, Erion and Lee's TreeSHAP, "Consistent Individualized
/// Feature Attribution for Tree Ensembles", 2018, algorithm 2), in log-odds units: for every row the
/// contributions plus the expected value equal the raw score.
public enum TreeSHAP {
    struct PathElement {
        var feature: Int
        var zeroFraction: Double
        var oneFraction: Double
        var weight: Double
    }

    /// Contributions of each feature to `tree`'s value for one row of bins, added into `phi`.
    static func contributions(_ tree: Tree, bins: (Int) -> Int, missingBins: [Int], into phi: inout [Double]) {
        guard !tree.splitFeature.isEmpty else { return }
        recurse(tree, node: 0, bins: bins, missingBins: missingBins, phi: &phi, parentPath: [],
                zeroFraction: 1, oneFraction: 1, feature: -1)
    }

    /// Expected value of a tree under its training distribution (leaf values weighted by covers).
    static func expectedValue(_ tree: Tree) -> Double {
        let total = tree.leafCount.reduce(0, +)
        guard total > 0 else { return tree.leafValue.first ?? 0 }
        return zip(tree.leafValue, tree.leafCount).reduce(0) { $0 + $1.0 * $1.1 } / total
    }

    private static func cover(_ tree: Tree, _ child: Int32) -> Double {
        child < 0 ? tree.leafCount[Int(~child)] : tree.internalCount[Int(child)]
    }

    /// Each level works on its own copy of the path: unwinding below must not disturb the caller's.
    private static func recurse(_ tree: Tree, node: Int32, bins: (Int) -> Int, missingBins: [Int], phi: inout [Double],
                                parentPath: [PathElement], zeroFraction: Double, oneFraction: Double, feature: Int) {
        var path = parentPath
        extend(&path, zeroFraction: zeroFraction, oneFraction: oneFraction, feature: feature)
        if node < 0 {
            let value = tree.leafValue[Int(~node)]
            for index in 1..<path.count {
                let weight = unwoundSum(path, index)
                phi[path[index].feature] += weight * (path[index].oneFraction - path[index].zeroFraction) * value
            }
        } else {
            let nodeIndex = Int(node)
            let splitFeature = Int(tree.splitFeature[nodeIndex])
            let goesLeft = tree.goesLeft(nodeIndex, bin: bins(splitFeature), missingBin: missingBins[splitFeature])
            let hot = goesLeft ? tree.left[nodeIndex] : tree.right[nodeIndex]
            let cold = goesLeft ? tree.right[nodeIndex] : tree.left[nodeIndex]
            let nodeCover = tree.internalCount[nodeIndex]
            var incomingZero = 1.0
            var incomingOne = 1.0
            // A feature met again on the path: undo its earlier split and carry its fractions.
            if let previous = path.indices.dropFirst().first(where: { path[$0].feature == splitFeature }) {
                incomingZero = path[previous].zeroFraction
                incomingOne = path[previous].oneFraction
                unwind(&path, previous)
            }
            recurse(tree, node: hot, bins: bins, missingBins: missingBins, phi: &phi, parentPath: path,
                    zeroFraction: incomingZero * cover(tree, hot) / nodeCover, oneFraction: incomingOne, feature: splitFeature)
            recurse(tree, node: cold, bins: bins, missingBins: missingBins, phi: &phi, parentPath: path,
                    zeroFraction: incomingZero * cover(tree, cold) / nodeCover, oneFraction: 0, feature: splitFeature)
        }
    }

    private static func extend(_ path: inout [PathElement], zeroFraction: Double, oneFraction: Double, feature: Int) {
        let length = path.count
        path.append(PathElement(feature: feature, zeroFraction: zeroFraction, oneFraction: oneFraction, weight: length == 0 ? 1 : 0))
        var index = length - 1
        while index >= 0 {
            path[index + 1].weight += oneFraction * path[index].weight * Double(index + 1) / Double(length + 1)
            path[index].weight = zeroFraction * path[index].weight * Double(length - index) / Double(length + 1)
            index -= 1
        }
    }

    private static func unwind(_ path: inout [PathElement], _ position: Int) {
        let length = path.count - 1
        let oneFraction = path[position].oneFraction
        let zeroFraction = path[position].zeroFraction
        var nextOnePortion = path[length].weight
        var index = length - 1
        while index >= 0 {
            if oneFraction != 0 {
                let saved = path[index].weight
                path[index].weight = nextOnePortion * Double(length + 1) / (Double(index + 1) * oneFraction)
                nextOnePortion = saved - path[index].weight * zeroFraction * Double(length - index) / Double(length + 1)
            } else {
                path[index].weight = path[index].weight * Double(length + 1) / (zeroFraction * Double(length - index))
            }
            index -= 1
        }
        for index in position..<length {
            path[index].feature = path[index + 1].feature
            path[index].zeroFraction = path[index + 1].zeroFraction
            path[index].oneFraction = path[index + 1].oneFraction
        }
        path.removeLast()
    }

    private static func unwoundSum(_ path: [PathElement], _ position: Int) -> Double {
        let length = path.count - 1
        let oneFraction = path[position].oneFraction
        let zeroFraction = path[position].zeroFraction
        var nextOnePortion = path[length].weight
        var total = 0.0
        var index = length - 1
        while index >= 0 {
            if oneFraction != 0 {
                let weight = nextOnePortion * Double(length + 1) / (Double(index + 1) * oneFraction)
                total += weight
                nextOnePortion = path[index].weight - weight * zeroFraction * Double(length - index) / Double(length + 1)
            } else {
                total += path[index].weight / zeroFraction / (Double(length - index) / Double(length + 1))
            }
            index -= 1
        }
        return total
    }
}

extension GBDTModel {
    /// Expected value of the model's raw score: the base of every explanation.
    public var expectedValue: Double { baseScore + trees.reduce(0) { $0 + TreeSHAP.expectedValue($1) } }

    /// Per-row feature contributions (log-odds); each row's sum plus `expectedValue` is its raw score.
    public func contributions(_ dataset: Dataset, rows: [Int]) -> [[Double]] {
        let binned = BinnedMatrix(dataset: dataset, rows: rows, mappers: mappers)
        defer { binned.deallocate() }
        let missing = missingBins
        let columns = binned.columns
        return (0..<rows.count).map { index in
            var phi = [Double](repeating: 0, count: featureNames.count)
            for tree in trees { TreeSHAP.contributions(tree, bins: { Int(columns[$0][index]) }, missingBins: missing, into: &phi) }
            return phi
        }
    }
}
