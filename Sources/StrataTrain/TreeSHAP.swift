/// Exact Shapley values of tree ensembles (Lundberg, Erion and Lee's TreeSHAP, "Consistent Individualized
/// Feature Attribution for Tree Ensembles", 2018, algorithm 2), in log-odds units: for every row the
/// contributions plus the expected value equal the raw score.
/// A tree as raw arrays for the explanation recursion: copying it is copying pointers, so the
/// millions of recursive calls do no reference counting.
struct FlatTree {
    let splitFeature: UnsafeMutablePointer<Int32>
    let thresholdBin: UnsafeMutablePointer<Int32>
    let defaultLeft: UnsafeMutablePointer<Bool>
    let isCategorical: UnsafeMutablePointer<Bool>
    /// Four 64-bit words per node: the bins that go left of a categorical split.
    let leftBinSets: UnsafeMutablePointer<UInt64>
    let left: UnsafeMutablePointer<Int32>
    let right: UnsafeMutablePointer<Int32>
    let internalCount: UnsafeMutablePointer<Double>
    let leafValue: UnsafeMutablePointer<Double>
    let leafCount: UnsafeMutablePointer<Double>
    let nodeCount: Int

    init(_ tree: Tree) {
        nodeCount = tree.splitFeature.count
        let nodes = max(1, nodeCount)
        func copy<T>(_ array: [T], _ count: Int, _ fill: T) -> UnsafeMutablePointer<T> {
            let pointer = UnsafeMutablePointer<T>.allocate(capacity: count)
            pointer.initialize(repeating: fill, count: count)
            for (index, value) in array.enumerated() { pointer[index] = value }
            return pointer
        }
        splitFeature = copy(tree.splitFeature, nodes, 0)
        thresholdBin = copy(tree.thresholdBin, nodes, 0)
        defaultLeft = copy(tree.defaultLeft, nodes, false)
        isCategorical = copy(tree.isCategorical, nodes, false)
        left = copy(tree.left, nodes, 0)
        right = copy(tree.right, nodes, 0)
        internalCount = copy(tree.internalCount, nodes, 0)
        leafValue = copy(tree.leafValue, max(1, tree.leafValue.count), 0)
        leafCount = copy(tree.leafCount, max(1, tree.leafCount.count), 0)
        leftBinSets = UnsafeMutablePointer<UInt64>.allocate(capacity: nodes * 4)
        leftBinSets.initialize(repeating: 0, count: nodes * 4)
        for (node, bins) in tree.leftBins.enumerated() {
            for bin in bins { leftBinSets[node * 4 + Int(bin) / 64] |= 1 << UInt64(Int(bin) % 64) }
        }
    }

    func deallocate() {
        for pointer in [UnsafeMutableRawPointer(splitFeature), UnsafeMutableRawPointer(thresholdBin), UnsafeMutableRawPointer(defaultLeft),
                        UnsafeMutableRawPointer(isCategorical), UnsafeMutableRawPointer(leftBinSets), UnsafeMutableRawPointer(left),
                        UnsafeMutableRawPointer(right), UnsafeMutableRawPointer(internalCount), UnsafeMutableRawPointer(leafValue),
                        UnsafeMutableRawPointer(leafCount)] {
            pointer.deallocate()
        }
    }

    @inline(__always) func goesLeft(_ node: Int, bin: Int, missingBin: Int) -> Bool {
        if isCategorical[node] { return leftBinSets[node * 4 + bin / 64] & (1 << UInt64(bin % 64)) != 0 }
        if bin == missingBin { return defaultLeft[node] }
        return bin <= Int(thresholdBin[node])
    }

    @inline(__always) func cover(_ child: Int32) -> Double { child < 0 ? leafCount[Int(~child)] : internalCount[Int(child)] }
}

public enum TreeSHAP {
    struct PathElement {
        var feature: Int
        var zeroFraction: Double
        var oneFraction: Double
        var weight: Double
    }

    /// Contributions of each feature to `tree`'s value for one row of bins, added into `phi`.
    /// `scratch` holds the paths of every depth: at least `(maxDepth + 2) * (maxDepth + 3) / 2` elements.
    static func contributions(_ tree: FlatTree, bins: UnsafePointer<Int32>, missingBins: UnsafePointer<Int32>,
                              phi: UnsafeMutablePointer<Double>, scratch: UnsafeMutablePointer<PathElement>) {
        guard tree.nodeCount > 0 else { return }
        recurse(tree, node: 0, bins: bins, missingBins: missingBins, phi: phi, path: scratch, depth: 0,
                zeroFraction: 1, oneFraction: 1, feature: -1)
    }

    /// Scratch elements needed for trees of this depth.
    static func scratchSize(depth: Int) -> Int { (depth + 2) * (depth + 3) / 2 }

    static func depth(_ tree: Tree) -> Int {
        func depth(_ node: Int32) -> Int { node < 0 ? 0 : 1 + max(depth(tree.left[Int(node)]), depth(tree.right[Int(node)])) }
        return tree.splitFeature.isEmpty ? 0 : depth(0)
    }

    /// Expected value of a tree under its training distribution (leaf values weighted by covers).
    static func expectedValue(_ tree: Tree) -> Double {
        let total = tree.leafCount.reduce(0, +)
        guard total > 0 else { return tree.leafValue.first ?? 0 }
        return zip(tree.leafValue, tree.leafCount).reduce(0) { $0 + $1.0 * $1.1 } / total
    }

    /// `path[0..<depth]` is the parent's path; this level works on its own copy at `path + depth`, so
    /// that unwinding below never disturbs the caller's (as in the reference implementation).
    private static func recurse(_ tree: FlatTree, node: Int32, bins: UnsafePointer<Int32>, missingBins: UnsafePointer<Int32>,
                                phi: UnsafeMutablePointer<Double>, path parent: UnsafeMutablePointer<PathElement>, depth: Int,
                                zeroFraction: Double, oneFraction: Double, feature: Int) {
        let path = parent + depth
        if depth > 0 { path.update(from: parent, count: depth) }
        var length = depth
        extend(path, &length, zeroFraction: zeroFraction, oneFraction: oneFraction, feature: feature)
        if node < 0 {
            let value = tree.leafValue[Int(~node)]
            for index in 1..<length {
                let weight = unwoundSum(path, length, index)
                phi[path[index].feature] += weight * (path[index].oneFraction - path[index].zeroFraction) * value
            }
            return
        }
        let nodeIndex = Int(node)
        let splitFeature = Int(tree.splitFeature[nodeIndex])
        let goesLeft = tree.goesLeft(nodeIndex, bin: Int(bins[splitFeature]), missingBin: Int(missingBins[splitFeature]))
        let hot = goesLeft ? tree.left[nodeIndex] : tree.right[nodeIndex]
        let cold = goesLeft ? tree.right[nodeIndex] : tree.left[nodeIndex]
        let nodeCover = tree.internalCount[nodeIndex]
        var incomingZero = 1.0
        var incomingOne = 1.0
        // A feature met again on the path: undo its earlier split and carry its fractions.
        var previous = 1
        while previous < length && path[previous].feature != splitFeature { previous += 1 }
        if previous < length {
            incomingZero = path[previous].zeroFraction
            incomingOne = path[previous].oneFraction
            unwind(path, &length, previous)
        }
        recurse(tree, node: hot, bins: bins, missingBins: missingBins, phi: phi, path: path, depth: length,
                zeroFraction: incomingZero * tree.cover(hot) / nodeCover, oneFraction: incomingOne, feature: splitFeature)
        recurse(tree, node: cold, bins: bins, missingBins: missingBins, phi: phi, path: path, depth: length,
                zeroFraction: incomingZero * tree.cover(cold) / nodeCover, oneFraction: 0, feature: splitFeature)
    }

    private static func extend(_ path: UnsafeMutablePointer<PathElement>, _ length: inout Int, zeroFraction: Double, oneFraction: Double, feature: Int) {
        let l = length
        path[l] = PathElement(feature: feature, zeroFraction: zeroFraction, oneFraction: oneFraction, weight: l == 0 ? 1 : 0)
        var index = l - 1
        while index >= 0 {
            path[index + 1].weight += oneFraction * path[index].weight * Double(index + 1) / Double(l + 1)
            path[index].weight = zeroFraction * path[index].weight * Double(l - index) / Double(l + 1)
            index -= 1
        }
        length = l + 1
    }

    private static func unwind(_ path: UnsafeMutablePointer<PathElement>, _ length: inout Int, _ position: Int) {
        let l = length - 1
        let oneFraction = path[position].oneFraction
        let zeroFraction = path[position].zeroFraction
        var nextOnePortion = path[l].weight
        var index = l - 1
        while index >= 0 {
            if oneFraction != 0 {
                let saved = path[index].weight
                path[index].weight = nextOnePortion * Double(l + 1) / (Double(index + 1) * oneFraction)
                nextOnePortion = saved - path[index].weight * zeroFraction * Double(l - index) / Double(l + 1)
            } else {
                path[index].weight = path[index].weight * Double(l + 1) / (zeroFraction * Double(l - index))
            }
            index -= 1
        }
        for index in position..<l {
            path[index].feature = path[index + 1].feature
            path[index].zeroFraction = path[index + 1].zeroFraction
            path[index].oneFraction = path[index + 1].oneFraction
        }
        length = l
    }

    private static func unwoundSum(_ path: UnsafeMutablePointer<PathElement>, _ length: Int, _ position: Int) -> Double {
        let l = length - 1
        let oneFraction = path[position].oneFraction
        let zeroFraction = path[position].zeroFraction
        var nextOnePortion = path[l].weight
        var total = 0.0
        var index = l - 1
        while index >= 0 {
            if oneFraction != 0 {
                let weight = nextOnePortion * Double(l + 1) / (Double(index + 1) * oneFraction)
                total += weight
                nextOnePortion = path[index].weight - weight * zeroFraction * Double(l - index) / Double(l + 1)
            } else {
                total += path[index].weight / zeroFraction / (Double(l - index) / Double(l + 1))
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
        let featureCount = featureNames.count
        let maxDepth = trees.map(TreeSHAP.depth).max() ?? 0
        let scratch = UnsafeMutablePointer<TreeSHAP.PathElement>.allocate(capacity: TreeSHAP.scratchSize(depth: maxDepth))
        let bins = UnsafeMutablePointer<Int32>.allocate(capacity: max(1, featureCount))
        let missing = missingBins.map(Int32.init)
        let flat = trees.map(FlatTree.init)
        defer {
            scratch.deallocate()
            bins.deallocate()
            for tree in flat { tree.deallocate() }
        }
        return missing.withUnsafeBufferPointer { missing in
            (0..<rows.count).map { index in
                for feature in 0..<featureCount { bins[feature] = Int32(binned.columns[feature][index]) }
                var phi = [Double](repeating: 0, count: featureCount)
                phi.withUnsafeMutableBufferPointer { phi in
                    for tree in flat {
                        TreeSHAP.contributions(tree, bins: UnsafePointer(bins), missingBins: missing.baseAddress!, phi: phi.baseAddress!, scratch: scratch)
                    }
                }
                return phi
            }
        }
    }
}
