import Foundation

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

/// A model's trees laid out for explanations once, so that explaining one row — a served request — costs
/// only the arithmetic. Read-only after creation: one explainer serves any number of threads.
///
/// The Shapley values are TreeSHAP's (path-dependent, exact), computed leaf by leaf from the identity
/// behind them: with `p_j` = 1 when the row follows the leaf's path at every split on feature `j` (else 0)
/// and `q_j` the share of training rows that follow it (the product of cover ratios of those splits), the
/// leaf adds to feature `i`
///
///     value · (p_i − q_i) · ∫₀¹ Π_{j≠i} (q_j + t·(p_j − q_j)) dt,
///
/// because the Shapley weight |S|!(d−|S|−1)!/d! is the Beta integral ∫₀¹ t^|S| (1−t)^(d−1−|S|) dt. The
/// integrand is a polynomial of degree d − 1 in t, so Gauss–Legendre quadrature with ⌈d/2⌉ nodes is
/// exact. The nodes of a leaf are evaluated together, four to a SIMD vector (a leaf with more than 8
/// distinct features takes several vectors): a forward pass keeps the product of the factors before each
/// feature, a backward pass multiplies in the factors after it, so a leaf costs O(d) vector operations,
/// without the recursion's divisions and path copies. The recursive algorithm 2
/// (`TreeSHAP.contributions`) stays as the reference the tests compare with.
///
/// `explain` is that form, leaf by leaf: `LeafTables` uses it for leaves without a table, and a row uses
/// it for trees of more than 64 splits. A few rows (a served request) go through `LaneLeaves`, the same
/// integral with a leaf per lane; many rows at once take `LeafTables` (tables per leaf, tree by tree over
/// blocks of rows), made on the first call with `bulkRows` rows or more.
public final class TreeExplainer: @unchecked Sendable {
    typealias Lanes = SIMD4<Double>

    let model: GBDTModel
    /// Every split node of the model, numbered across trees: deciding a row's path reads one table.
    let nodes: NodeTable
    let leaves: LeafTable
    let missing: [Int32]
    /// Quadrature rules by node count n (⌈d/2⌉ for a leaf of d distinct features): rule n is the vectors
    /// `ruleStart[n] ..< ruleStart[n + 1]` of `ruleNodes`/`ruleWeights`, padded with weight 0.
    let ruleStart: UnsafeMutablePointer<Int>
    let ruleNodes: UnsafeMutablePointer<Lanes>
    let ruleWeights: UnsafeMutablePointer<Lanes>
    /// The leaves four to a vector, for one row at a time (`contributions` below `bulkRows`).
    let lanes: LaneLeaves

    /// The leaf tables, made once on first use (thread-safe: a lock guards the making).
    public var tables: LeafTables {
        tablesLock.lock()
        defer { tablesLock.unlock() }
        if let made = madeTables { return made }
        let made = LeafTables(self)
        madeTables = made
        return made
    }
    private var madeTables: LeafTables?
    private let tablesLock = NSLock()
    /// Model-wide ranges of each tree's split nodes and leaves.
    let treeNodes: [Range<Int>]
    let treeLeaves: [Range<Int>]

    public init(_ model: GBDTModel) {
        self.model = model
        var starts = [0]
        for tree in model.trees { starts.append(starts.last! + tree.splitFeature.count) }
        nodes = NodeTable(trees: model.trees)
        treeNodes = model.trees.indices.map { starts[$0]..<starts[$0 + 1] }
        var leafStarts = [0]
        for tree in model.trees { leafStarts.append(leafStarts.last! + tree.leafValue.count) }
        treeLeaves = model.trees.indices.map { leafStarts[$0]..<leafStarts[$0 + 1] }
        let paths = model.trees.map(LeafPaths.init)
        leaves = LeafTable(paths: paths, trees: model.trees, nodeStart: starts)
        missing = model.missingBins.map(Int32.init)
        lanes = LaneLeaves(leaves, treeNodes: treeNodes, treeLeaves: treeLeaves, featureCount: model.featureNames.count)
        let maxRule = max(1, (leaves.maxDistinct + 1) / 2)
        ruleStart = .allocate(capacity: maxRule + 2)
        var vectors = 0
        for n in 0...(maxRule + 1) {
            ruleStart[n] = vectors
            if n <= maxRule { vectors += (n + 3) / 4 }
        }
        ruleNodes = .allocate(capacity: max(1, vectors))
        ruleWeights = .allocate(capacity: max(1, vectors))
        for n in 1...maxRule {
            let (nodes, weights) = GaussLegendre.unitInterval(count: n)
            for chunk in 0..<((n + 3) / 4) {
                var t = Lanes(repeating: 0.5), w = Lanes(repeating: 0)
                for lane in 0..<4 where chunk * 4 + lane < n {
                    t[lane] = nodes[chunk * 4 + lane]
                    w[lane] = weights[chunk * 4 + lane]
                }
                ruleNodes[ruleStart[n] + chunk] = t
                ruleWeights[ruleStart[n] + chunk] = w
            }
        }
    }

    deinit {
        nodes.deallocate()
        leaves.deallocate()
        ruleStart.deallocate()
        ruleNodes.deallocate()
        ruleWeights.deallocate()
        lanes.deallocate()
    }

    /// Working memory of an explanation.
    fileprivate struct Scratch {
        let p, sum, phi: UnsafeMutablePointer<Double>
        let factor, prefix: UnsafeMutablePointer<Lanes>

        init(width: Int, features: Int) {
            p = .allocate(capacity: width)
            sum = .allocate(capacity: width)
            phi = .allocate(capacity: max(1, features))
            factor = .allocate(capacity: width)
            prefix = .allocate(capacity: width)
        }

        func deallocate() {
            p.deallocate()
            sum.deallocate()
            phi.deallocate()
            factor.deallocate()
            prefix.deallocate()
        }
    }

    /// From this many rows, `contributions` uses the leaf tables.
    public static let bulkRows = 64

    /// Per-row feature contributions (log-odds); each row's sum plus `expectedValue` is its raw score.
    /// `bulk` nil: leaf tables from `bulkRows` rows; true or false forces one form.
    public func contributions(_ dataset: Dataset, rows: [Int], bulk: Bool? = nil) -> [[Double]] {
        let binned = BinnedMatrix(dataset: dataset, rows: rows, mappers: model.mappers)
        defer { binned.deallocate() }
        if bulk ?? (rows.count >= Self.bulkRows) {
            return tables.contributions(binned, count: rows.count)
        }
        let featureCount = model.featureNames.count
        let goesLeft = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, nodes.count))
        let bins = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, featureCount))
        let scratch = LaneLeaves.Scratch(width: leaves.maxDistinct, trees: treeNodes.count, features: featureCount)
        // Leaves of trees too wide for a decision word, leaf by leaf.
        let wide = lanes.otherLeaves.isEmpty ? nil : Scratch(width: leaves.maxDistinct + 1, features: featureCount)
        defer {
            goesLeft.deallocate()
            bins.deallocate()
            scratch.deallocate()
            wide?.deallocate()
        }
        return missing.withUnsafeBufferPointer { missing in
            (0..<rows.count).map { index in
                for feature in 0..<featureCount { bins[feature] = binned.columns[feature][index] }
                nodes.decide(0..<nodes.count, bins: bins, missing: missing.baseAddress!, into: goesLeft)
                scratch.phi.initialize(repeating: 0, count: featureCount + 1)
                lanes.explain(goesLeft: goesLeft, scratch: scratch, rules: (UnsafePointer(ruleStart), UnsafePointer(ruleNodes), UnsafePointer(ruleWeights)))
                if let wide { for leaf in lanes.otherLeaves { explain(leaf..<(leaf + 1), goesLeft: goesLeft, scratch: wide, into: scratch.phi) } }
                return Array(UnsafeBufferPointer(start: scratch.phi, count: featureCount))
            }
        }
    }

    /// Adds the contributions of `range`'s leaves for a row whose split decisions are `goesLeft` into the
    /// scratch's `phi`.
    fileprivate func explain(_ range: Range<Int>, goesLeft: UnsafeMutablePointer<UInt8>, scratch: Scratch, into phi: UnsafeMutablePointer<Double>) {
        let (p, sum, factor, prefix) = (scratch.p, scratch.sum, scratch.factor, scratch.prefix)
        let table = leaves
        for leaf in range {
            let first = table.entryStart[leaf], count = table.entryStart[leaf + 1] - first
            guard count > 0 else { continue }
            for j in 0..<count {
                let entry = first + j
                // Branch-free: whether the row takes the path's side at every split on this feature.
                var follows: UInt8 = 1
                for split in table.splitStart[entry]..<table.splitStart[entry + 1] {
                    follows &= ~(goesLeft[Int(table.splitNode[split])] ^ table.splitLeft[split]) & 1
                }
                p[j] = Double(follows)
                sum[j] = 0
            }
            let n = (count + 1) / 2
            for chunk in ruleStart[n]..<ruleStart[n + 1] {
                let t = ruleNodes[chunk]
                var running = Lanes(repeating: 1)
                for j in 0..<count {
                    prefix[j] = running
                    let share = table.q[first + j]
                    let f = Lanes(repeating: share) + t * (p[j] - share)
                    factor[j] = f
                    running *= f
                }
                // Π over j ≠ i at each node = prefix[i] · (product of the factors after i).
                var suffix = ruleWeights[chunk]
                var j = count - 1
                while j >= 0 {
                    sum[j] += (prefix[j] * suffix).sum()
                    suffix *= factor[j]
                    j -= 1
                }
            }
            let value = table.leafValue[leaf]
            for j in 0..<count { phi[Int(table.feature[first + j])] += value * (p[j] - table.q[first + j]) * sum[j] }
        }
    }
}

/// Explanations of many rows: Yang's Fast TreeSHAP v2 precomputation ("Fast TreeSHAP: Accelerating SHAP
/// Value Computation for Trees", 2021), in the integral form of `TreeExplainer`. For a leaf of d distinct
/// features, the integral depends on the row only through U, the features whose splits the row follows
/// (p = 1). With Z = Π_{j∉U} q_j and, for each U,
///
///     T[U] = value · ∫₀¹ (1 − t)^(d−1−|U|) · Π_{j∈U} (q_j + t·(1 − q_j)) dt,
///
/// a feature i ∉ U receives −Z·T[U] and a feature i ∈ U receives (1 − q_i)·Z·T[U ∖ {i}]. The 2^d values of
/// T are computed once (Gauss–Legendre with ⌈d/2⌉ nodes: exact for the degree d − 1), and a leaf then
/// costs O(d) per row: its mask, Z, one table read per feature.
///
/// The tables of a model run to megabytes (14.6 MiB for 200 trees of 31 leaves on scale M), too many for
/// one row's scattered reads to find in cache: a single row is faster by quadrature. So rows are
/// explained tree by tree, while one tree's tables (tens of KiB) stay in the core's cache, and within a
/// tree only one row of each pattern of split decisions (see `contributions`). Leaves of more than
/// `maxDistinct` features, or past `budget` values in all, are explained by quadrature.
public final class LeafTables: @unchecked Sendable {
    static let maxDistinct = 16
    static let budget = 1 << 23
    static let blockRows = 256

    unowned let explainer: TreeExplainer
    /// Leaf ℓ's table is `values[start[ℓ] ..< start[ℓ] + 2^d]`, indexed by the mask of U; −1: quadrature.
    let start: UnsafeMutablePointer<Int>
    let values: UnsafeMutablePointer<Double>
    /// Values held (8 bytes each), and leaves left to quadrature.
    public let valueCount: Int
    public let quadratureLeaves: Int

    init(_ explainer: TreeExplainer) {
        self.explainer = explainer
        let leaves = explainer.leaves
        start = .allocate(capacity: max(1, leaves.leafCount))
        var total = 0, quadrature = 0
        for leaf in 0..<leaves.leafCount {
            let d = leaves.entryStart[leaf + 1] - leaves.entryStart[leaf]
            if d > 0, d <= Self.maxDistinct, total + (1 << d) <= Self.budget {
                start[leaf] = total
                total += 1 << d
            } else {
                start[leaf] = -1
                if d > 0 { quadrature += 1 }
            }
        }
        valueCount = total
        quadratureLeaves = quadrature
        values = .allocate(capacity: max(1, total))
        values.initialize(repeating: 0, count: max(1, total))
        var rules: [Int: (nodes: [Double], weights: [Double])] = [:]
        let product = UnsafeMutablePointer<Double>.allocate(capacity: 1 << Self.maxDistinct)
        let power = UnsafeMutablePointer<Double>.allocate(capacity: Self.maxDistinct + 1)
        defer {
            product.deallocate()
            power.deallocate()
        }
        for leaf in 0..<leaves.leafCount where start[leaf] >= 0 {
            let first = leaves.entryStart[leaf], d = leaves.entryStart[leaf + 1] - first
            let table = values + start[leaf]
            let n = (d + 1) / 2
            if rules[n] == nil { rules[n] = GaussLegendre.unitInterval(count: n) }
            let rule = rules[n]!
            for (t, weight) in zip(rule.nodes, rule.weights) {
                // power[k] = (1 − t)^k; product[U] = Π_{j∈U} (q_j + t·(1 − q_j)), each U from U without its lowest feature.
                power[0] = 1
                for k in 0..<d { power[k + 1] = power[k] * (1 - t) }
                product[0] = 1
                for mask in 1..<(1 << d) {
                    let q = leaves.q[first + mask.trailingZeroBitCount]
                    product[mask] = product[mask & (mask - 1)] * (q + t * (1 - q))
                }
                // U of all d features is never read: no feature lies outside it, and one inside reads U ∖ {i}.
                for mask in 0..<((1 << d) - 1) {
                    table[mask] += weight * power[d - 1 - mask.nonzeroBitCount] * product[mask]
                }
            }
            let value = leaves.leafValue[leaf]
            for mask in 0..<(1 << d) { table[mask] *= value }
        }
    }

    deinit {
        start.deallocate()
        values.deallocate()
    }

    /// Contributions of the `count` rows of `binned`, tree by tree. A tree's contribution to a row depends
    /// on the row only through the row's decision at each of the tree's splits, and rows repeat those
    /// decisions a lot (on scale M's model, 30,000 rows made about 6,200 distinct patterns per tree), so
    /// each tree's rows are grouped by their pattern and one row of each group is explained: the others get
    /// its contributions (exactly the same numbers). The explained rows go in blocks of `blockRows`, laid out
    /// by node, entry or feature with the rows side by side, so the loops over rows run over contiguous
    /// memory: the split decisions, each leaf's masks and Z, and the additions to phi. Trees of more than
    /// 64 splits explain every row.
    func contributions(_ binned: BinnedMatrix, count: Int) -> [[Double]] {
        let explainer = self.explainer
        let leaves = explainer.leaves, nodes = explainer.nodes
        let featureCount = explainer.model.featureNames.count
        let block = Self.blockRows
        let widestTree = explainer.treeNodes.map(\.count).max() ?? 0
        // decisions[node · block + row] (the tree's nodes, local numbering); phi[feature · block + row].
        let decisions = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, widestTree * block))
        let phi = UnsafeMutablePointer<Double>.allocate(capacity: max(1, featureCount * block))
        let follows = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, (leaves.maxDistinct + 1) * block))
        let masks = UnsafeMutablePointer<Int>.allocate(capacity: block)
        let z = UnsafeMutablePointer<Double>.allocate(capacity: block)
        let outside = UnsafeMutablePointer<Double>.allocate(capacity: block)
        // The bins of the block's explained rows, by feature.
        let blockBins = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, featureCount * block))
        // One row's decisions, model-wide, for leaves explained by quadrature.
        let rowDecisions = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, nodes.count))
        let rowPhi = UnsafeMutablePointer<Double>.allocate(capacity: max(1, featureCount))
        // Per row: its pattern and its group; per group: the row explained, and the tree's contributions.
        let patterns = UnsafeMutablePointer<UInt64>.allocate(capacity: max(1, count))
        let rowBits = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, count))
        let group = UnsafeMutablePointer<Int32>.allocate(capacity: max(1, count))
        let representative = UnsafeMutablePointer<Int32>.allocate(capacity: max(1, count))
        var groupPhi: [Double] = []
        // Every row's contributions so far, row by row.
        let total = UnsafeMutablePointer<Double>.allocate(capacity: max(1, count * featureCount))
        total.initialize(repeating: 0, count: max(1, count * featureCount))
        let scratch = TreeExplainer.Scratch(width: leaves.maxDistinct + 1, features: featureCount)
        let table = PatternTable(capacity: count)
        defer {
            for pointer in [UnsafeMutableRawPointer(decisions), UnsafeMutableRawPointer(phi), UnsafeMutableRawPointer(follows),
                            UnsafeMutableRawPointer(masks), UnsafeMutableRawPointer(z), UnsafeMutableRawPointer(outside),
                            UnsafeMutableRawPointer(blockBins), UnsafeMutableRawPointer(rowDecisions), UnsafeMutableRawPointer(rowPhi),
                            UnsafeMutableRawPointer(patterns), UnsafeMutableRawPointer(rowBits), UnsafeMutableRawPointer(group),
                            UnsafeMutableRawPointer(representative),
                            UnsafeMutableRawPointer(total)] {
                pointer.deallocate()
            }
            scratch.deallocate()
            table.deallocate()
        }
        let missing = explainer.missing
        for (nodeRange, leafRange) in zip(explainer.treeNodes, explainer.treeLeaves) where !nodeRange.isEmpty {
            // The features the tree splits on: the only ones it adds to.
            var used = [Int]()
            for node in nodeRange where !used.contains(Int(nodes.feature[node])) { used.append(Int(nodes.feature[node])) }
            // Group the rows by their decisions at the tree's splits.
            var groups = 0
            if nodeRange.count <= 64 {
                patterns.initialize(repeating: 0, count: count)
                for node in nodeRange {
                    let feature = Int(nodes.feature[node])
                    nodes.decide(node, column: binned.columns[feature].baseAddress!, rows: count, missingBin: Int(missing[feature]), into: rowBits)
                    let shift = UInt64(node - nodeRange.lowerBound)
                    for row in 0..<count { patterns[row] |= UInt64(rowBits[row]) << shift }
                }
                table.clear()
                for row in 0..<count {
                    let (index, inserted) = table.insert(patterns[row], next: Int32(groups))
                    if inserted {
                        representative[groups] = Int32(row)
                        groups += 1
                    }
                    group[row] = index
                }
            } else {
                for row in 0..<count {
                    representative[row] = Int32(row)
                    group[row] = Int32(row)
                }
                groups = count
            }
            if groupPhi.count < groups * used.count { groupPhi = [Double](repeating: 0, count: groups * used.count) }
            groupPhi.withUnsafeMutableBufferPointer { groupPhi in
                var first = 0
                while first < groups {
                    let rows = min(block, groups - first)
                    for feature in used {
                        let column = binned.columns[feature], out = blockBins + feature * block
                        for row in 0..<rows { out[row] = column[Int(representative[first + row])] }
                    }
                    for feature in used { (phi + feature * block).initialize(repeating: 0, count: rows) }
                    for node in nodeRange {
                        let feature = Int(nodes.feature[node])
                        nodes.decide(node, column: blockBins + feature * block, rows: rows, missingBin: Int(missing[feature]),
                               into: decisions + (node - nodeRange.lowerBound) * block)
                    }
                    explain(leafRange, nodeRange: nodeRange, rows: rows, decisions: decisions, phi: phi, follows: follows, masks: masks, z: z,
                            outside: outside, rowDecisions: rowDecisions, rowPhi: rowPhi, scratch: scratch, featureCount: featureCount)
                    for (k, feature) in used.enumerated() {
                        let values = phi + feature * block
                        for row in 0..<rows { groupPhi[(first + row) * used.count + k] = values[row] }
                    }
                    first += rows
                }
                for row in 0..<count {
                    let values = groupPhi.baseAddress! + Int(group[row]) * used.count, out = total + row * featureCount
                    for (k, feature) in used.enumerated() { out[feature] += values[k] }
                }
            }
        }
        return (0..<count).map { row in Array(UnsafeBufferPointer(start: total + row * featureCount, count: featureCount)) }
    }

    /// Adds the contributions of `range`'s leaves for `rows` rows (decisions by node, phi by feature).
    private func explain(_ range: Range<Int>, nodeRange: Range<Int>, rows: Int, decisions: UnsafeMutablePointer<UInt8>, phi: UnsafeMutablePointer<Double>,
                         follows: UnsafeMutablePointer<UInt8>, masks: UnsafeMutablePointer<Int>, z: UnsafeMutablePointer<Double>,
                         outside: UnsafeMutablePointer<Double>, rowDecisions: UnsafeMutablePointer<UInt8>, rowPhi: UnsafeMutablePointer<Double>,
                         scratch: TreeExplainer.Scratch, featureCount: Int) {
        let leaves = explainer.leaves
        let block = Self.blockRows
        for leaf in range {
            let firstEntry = leaves.entryStart[leaf], entries = leaves.entryStart[leaf + 1] - firstEntry
            guard entries > 0 else { continue }
            let at = start[leaf]
            guard at >= 0 else {
                // Quadrature, a row at a time.
                for row in 0..<rows {
                    for node in nodeRange { rowDecisions[node] = decisions[(node - nodeRange.lowerBound) * block + row] }
                    rowPhi.initialize(repeating: 0, count: featureCount)
                    explainer.explain(leaf..<(leaf + 1), goesLeft: rowDecisions, scratch: scratch, into: rowPhi)
                    for feature in 0..<featureCount where rowPhi[feature] != 0 { phi[feature * block + row] += rowPhi[feature] }
                }
                continue
            }
            // Each entry's p per row, U's mask and Z = Π_{j∉U} q_j.
            for row in 0..<rows {
                masks[row] = 0
                z[row] = 1
            }
            for j in 0..<entries {
                let entry = firstEntry + j
                let row0 = follows + j * block
                for row in 0..<rows { row0[row] = 1 }
                for split in leaves.splitStart[entry]..<leaves.splitStart[entry + 1] {
                    let side = decisions + (Int(leaves.splitNode[split]) - nodeRange.lowerBound) * block
                    let wanted = leaves.splitLeft[split]
                    for row in 0..<rows { row0[row] &= ~(side[row] ^ wanted) & 1 }
                }
                let q = leaves.q[entry]
                for row in 0..<rows {
                    masks[row] |= Int(row0[row]) << j
                    z[row] *= row0[row] != 0 ? 1 : q
                }
            }
            let table = values + at
            for row in 0..<rows { outside[row] = z[row] * table[masks[row]] }
            for j in 0..<entries {
                let entry = firstEntry + j, bit = 1 << j
                let target = phi + Int(leaves.feature[entry]) * block
                let inside = 1 - leaves.q[entry]
                let row0 = follows + j * block
                for row in 0..<rows {
                    target[row] += row0[row] != 0 ? inside * z[row] * table[masks[row] ^ bit] : -outside[row]
                }
            }
        }
    }
}

/// The leaves of a model four to a SIMD vector, one leaf per lane, for explaining one row (a served score).
/// The integral of `TreeExplainer`'s identity is the same; what changes is what a vector holds: there the
/// quadrature nodes of one leaf (a horizontal sum per feature and node count, lanes wasted when a leaf
/// needs fewer than four nodes), here one leaf per lane, so every lane's arithmetic is useful and nothing is
/// summed across lanes. Leaves are sorted by their count d of distinct features and taken four at a time,
/// so a vector's leaves have nearly the same d; a vector with D features in its widest leaf uses ⌈D/2⌉
/// nodes, exact for each of its leaves (degree d − 1 ≤ D − 1), and a narrower leaf's missing features
/// are factors of 1 (q = p = 1) that add to nothing.
///
/// Whether a row follows a leaf's splits on a feature (p) is one test of four lanes: a tree's decisions
/// for the row are one 64-bit word (bit i: goes left at the tree's split i), and each slot holds, per lane,
/// the bits of its splits on the feature (`mask`) and the sides its path takes (`want`). Leaves of trees of
/// more than 64 splits are left to `TreeExplainer.explain` (`otherLeaves`).
struct LaneLeaves {
    typealias Lanes = SIMD4<Double>
    typealias Words = SIMD4<UInt64>
    /// Vector v's slots (one per feature position) are `slotStart[v] ..< slotStart[v + 1]`.
    let vectorCount: Int
    let slotStart: UnsafeMutablePointer<Int>
    /// Per slot and lane: q (1 for padding), the split bits and sides (0 for padding: p = 1), and the
    /// feature added to (`featureCount` for padding: a slot past the features).
    let q: UnsafeMutablePointer<Lanes>
    let mask: UnsafeMutablePointer<Words>
    let want: UnsafeMutablePointer<Words>
    let feature: UnsafeMutablePointer<SIMD4<Int32>>
    /// Per vector: the lanes' leaf values and trees.
    let value: UnsafeMutablePointer<Lanes>
    let tree: UnsafeMutablePointer<SIMD4<Int32>>
    /// Tree t's splits are the model-wide nodes `treeNodes[t]`; trees of more than 64 splits have no word.
    let treeNodes: [Range<Int>]
    let otherLeaves: [Int]
    init(_ leaves: LeafTable, treeNodes: [Range<Int>], treeLeaves: [Range<Int>], featureCount: Int) {
        self.treeNodes = treeNodes
        func width(_ leaf: Int) -> Int { leaves.entryStart[leaf + 1] - leaves.entryStart[leaf] }
        var treeOf = [Int](repeating: 0, count: leaves.leafCount), explained: [Int] = [], other: [Int] = []
        for (index, range) in treeLeaves.enumerated() {
            for leaf in range where width(leaf) > 0 {
                treeOf[leaf] = index
                if treeNodes[index].count <= 64 { explained.append(leaf) } else { other.append(leaf) }
            }
        }
        otherLeaves = other
        // Stable: leaves of equal width keep model order, so the order of additions is fixed by the model.
        let order = explained.enumerated().sorted { (width($0.element), $0.offset) < (width($1.element), $1.offset) }.map(\.element)
        var slotStart = [0], q = [Lanes](), mask = [Words](), want = [Words](), feature = [SIMD4<Int32>]()
        var value = [Lanes](), tree = [SIMD4<Int32>]()
        var first = 0
        while first < order.count {
            let group = Array(order[first..<min(first + 4, order.count)])
            let d = group.map(width).max()!
            var leafValue = Lanes(repeating: 0), trees = SIMD4<Int32>(repeating: Int32(treeOf[group[0]]))
            for (lane, leaf) in group.enumerated() {
                leafValue[lane] = leaves.leafValue[leaf]
                trees[lane] = Int32(treeOf[leaf])
            }
            for j in 0..<d {
                var share = Lanes(repeating: 1), bits = Words(repeating: 0), sides = Words(repeating: 0)
                var target = SIMD4<Int32>(repeating: Int32(featureCount))
                for (lane, leaf) in group.enumerated() where j < width(leaf) {
                    let entry = leaves.entryStart[leaf] + j
                    share[lane] = leaves.q[entry]
                    target[lane] = leaves.feature[entry]
                    let base = treeNodes[treeOf[leaf]].lowerBound
                    for split in leaves.splitStart[entry]..<leaves.splitStart[entry + 1] {
                        let bit: UInt64 = 1 << UInt64(Int(leaves.splitNode[split]) - base)
                        bits[lane] |= bit
                        if leaves.splitLeft[split] != 0 { sides[lane] |= bit }
                    }
                }
                q.append(share)
                mask.append(bits)
                want.append(sides)
                feature.append(target)
            }
            value.append(leafValue)
            tree.append(trees)
            slotStart.append(q.count)
            first += 4
        }
        vectorCount = value.count
        self.slotStart = rawCopy(slotStart)
        self.q = rawCopy(q)
        self.mask = rawCopy(mask)
        self.want = rawCopy(want)
        self.feature = rawCopy(feature)
        self.value = rawCopy(value)
        self.tree = rawCopy(tree)
    }

    func deallocate() {
        for pointer in [UnsafeMutableRawPointer(slotStart), UnsafeMutableRawPointer(q), UnsafeMutableRawPointer(mask),
                        UnsafeMutableRawPointer(want), UnsafeMutableRawPointer(feature), UnsafeMutableRawPointer(value),
                        UnsafeMutableRawPointer(tree)] {
            pointer.deallocate()
        }
    }

    /// Working memory: per slot of the widest vector p, the factor, the product before it and the sum;
    /// the row's decision word per tree; its contributions by feature (and the padding's slot after them).
    struct Scratch {
        let p, factor, prefix, sum: UnsafeMutablePointer<Lanes>
        let words: UnsafeMutablePointer<UInt64>
        let phi: UnsafeMutablePointer<Double>

        init(width: Int, trees: Int, features: Int) {
            p = .allocate(capacity: max(1, width))
            factor = .allocate(capacity: max(1, width))
            prefix = .allocate(capacity: max(1, width))
            sum = .allocate(capacity: max(1, width))
            words = .allocate(capacity: max(1, trees))
            phi = .allocate(capacity: features + 1)
        }

        func deallocate() {
            for pointer in [UnsafeMutableRawPointer(p), UnsafeMutableRawPointer(factor), UnsafeMutableRawPointer(prefix),
                            UnsafeMutableRawPointer(sum), UnsafeMutableRawPointer(words), UnsafeMutableRawPointer(phi)] {
                pointer.deallocate()
            }
        }
    }

    /// Adds the contributions of every leaf in a vector for a row whose split decisions are `goesLeft`
    /// into `scratch.phi` (the caller adds `otherLeaves`). The quadrature rules are `TreeExplainer`'s: rule
    /// n's node k is lane k % 4 of vector `rules.start[n] + k / 4`.
    func explain(goesLeft: UnsafePointer<UInt8>, scratch: Scratch,
                 rules: (start: UnsafePointer<Int>, nodes: UnsafePointer<Lanes>, weights: UnsafePointer<Lanes>)) {
        let (p, factor, prefix, sum, words, phi) = (scratch.p, scratch.factor, scratch.prefix, scratch.sum, scratch.words, scratch.phi)
        for (index, range) in treeNodes.enumerated() where range.count <= 64 {
            var word: UInt64 = 0
            for node in range { word |= UInt64(goesLeft[node]) << UInt64(node - range.lowerBound) }
            words[index] = word
        }
        for vector in 0..<vectorCount {
            let first = slotStart[vector], d = slotStart[vector + 1] - first
            let trees = tree[vector]
            let word = Words(words[Int(trees[0])], words[Int(trees[1])], words[Int(trees[2])], words[Int(trees[3])])
            for j in 0..<d {
                let off = (word ^ want[first + j]) & mask[first + j]
                p[j] = Lanes(repeating: 0).replacing(with: 1, where: off .== 0)
                sum[j] = Lanes(repeating: 0)
            }
            let n = (d + 1) / 2
            for node in 0..<n {
                let chunk = rules.start[n] + (node >> 2)
                let t = Lanes(repeating: rules.nodes[chunk][node & 3])
                var running = Lanes(repeating: 1)
                for j in 0..<d {
                    prefix[j] = running
                    let share = q[first + j]
                    let f = share + t * (p[j] - share)
                    factor[j] = f
                    running *= f
                }
                // Π over k ≠ j = prefix[j] · (product of the factors after j), times the node's weight.
                var suffix = Lanes(repeating: rules.weights[chunk][node & 3])
                var j = d - 1
                while j >= 0 {
                    sum[j] += prefix[j] * suffix
                    suffix *= factor[j]
                    j -= 1
                }
            }
            let leafValue = value[vector]
            for j in 0..<d {
                let contribution = leafValue * (p[j] - q[first + j]) * sum[j]
                let target = feature[first + j]
                phi[Int(target[0])] += contribution[0]
                phi[Int(target[1])] += contribution[1]
                phi[Int(target[2])] += contribution[2]
                phi[Int(target[3])] += contribution[3]
            }
        }
    }
}

/// An open-addressing set of 64-bit patterns numbering each new one, for grouping rows (linear probing,
/// a power-of-two capacity at least twice the rows).
struct PatternTable {
    let capacity: Int
    let keys: UnsafeMutablePointer<UInt64>
    let numbers: UnsafeMutablePointer<Int32>

    init(capacity rows: Int) {
        var size = 16
        while size < 2 * rows { size <<= 1 }
        capacity = size
        keys = .allocate(capacity: size)
        numbers = .allocate(capacity: size)
        numbers.initialize(repeating: -1, count: size)
        keys.initialize(repeating: 0, count: size)
    }

    func clear() { numbers.update(repeating: -1, count: capacity) }

    /// The number of `key`: its own when seen before, else `next` (and true).
    @inline(__always) func insert(_ key: UInt64, next: Int32) -> (Int32, Bool) {
        // Fibonacci hashing spreads patterns that differ in high bits only.
        var slot = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> UInt64(64 - capacity.trailingZeroBitCount)) & (capacity - 1)
        while true {
            let number = numbers[slot]
            if number < 0 {
                keys[slot] = key
                numbers[slot] = next
                return (next, true)
            }
            if keys[slot] == key { return (number, false) }
            slot = (slot + 1) & (capacity - 1)
        }
    }

    func deallocate() {
        keys.deallocate()
        numbers.deallocate()
    }
}

/// One tree's leaves as paths: per leaf the distinct features split on from the root, each with `q` (the
/// training share that follows the path at its splits) and the splits that decide `p` for a row.
struct LeafPaths {
    /// Leaf ℓ's entries are `entries[ℓ]`: (feature, q, splits as (node, goes left)).
    var entries: [[(feature: Int, q: Double, splits: [(Int, Bool)])]]
    var maxDistinct: Int { entries.map(\.count).max() ?? 0 }

    init(_ tree: Tree) {
        entries = Array(repeating: [], count: tree.leafValue.count)
        guard !tree.splitFeature.isEmpty else { return }
        func cover(_ child: Int32) -> Double { child < 0 ? tree.leafCount[Int(~child)] : tree.internalCount[Int(child)] }
        // Depth-first with the path so far; a feature met again multiplies its q and adds a split.
        var stack: [(node: Int32, path: [(feature: Int, q: Double, splits: [(Int, Bool)])])] = [(0, [])]
        while let (node, path) = stack.popLast() {
            if node < 0 {
                entries[Int(~node)] = path
                continue
            }
            let index = Int(node)
            let feature = Int(tree.splitFeature[index])
            let parentCover = tree.internalCount[index]
            for (child, left) in [(tree.left[index], true), (tree.right[index], false)] {
                var next = path
                let share = parentCover > 0 ? cover(child) / parentCover : 0
                if let at = next.firstIndex(where: { $0.feature == feature }) {
                    next[at].q *= share
                    next[at].splits.append((index, left))
                } else {
                    next.append((feature, share, [(index, left)]))
                }
                stack.append((child, next))
            }
        }
    }
}

/// `array` in memory of its own (at least one element), for tables read through raw pointers.
private func rawCopy<T>(_ array: [T]) -> UnsafeMutablePointer<T> {
    let pointer = UnsafeMutablePointer<T>.allocate(capacity: max(1, array.count))
    _ = UnsafeMutableBufferPointer(start: pointer, count: array.count).initialize(from: array)
    return pointer
}

/// Every split node of a model as raw arrays, numbered across trees (tree t's nodes follow tree t − 1's).
struct NodeTable {
    let count: Int
    let feature: UnsafeMutablePointer<Int32>
    let threshold: UnsafeMutablePointer<Int32>
    /// Bit 0: missing values go left; bit 1: a categorical split, whose left bins are `leftBins[set * 4 ..< set * 4 + 4]`.
    let flags: UnsafeMutablePointer<UInt8>
    let set: UnsafeMutablePointer<Int32>
    let leftBins: UnsafeMutablePointer<UInt64>

    init(trees: [Tree]) {
        var feature = [Int32](), threshold = [Int32](), flags = [UInt8](), set = [Int32](), bins = [UInt64]()
        for tree in trees {
            for node in tree.splitFeature.indices {
                feature.append(tree.splitFeature[node])
                threshold.append(tree.thresholdBin[node])
                flags.append((tree.defaultLeft[node] ? 1 : 0) | (tree.isCategorical[node] ? 2 : 0))
                if tree.isCategorical[node] {
                    set.append(Int32(bins.count / 4))
                    var words = [UInt64](repeating: 0, count: 4)
                    for bin in tree.leftBins[node] { words[Int(bin) / 64] |= 1 << UInt64(Int(bin) % 64) }
                    bins += words
                } else {
                    set.append(-1)
                }
            }
        }
        count = feature.count
        self.feature = rawCopy(feature)
        self.threshold = rawCopy(threshold)
        self.flags = rawCopy(flags)
        self.set = rawCopy(set)
        leftBins = rawCopy(bins)
    }

    /// 1 when a row whose bin of the node's feature is `bin` goes left at `node`, else 0.
    @inline(__always) func goesLeft(_ node: Int, bin: Int, missingBin: Int) -> UInt8 {
        let flag = flags[node]
        if flag & 2 != 0 { return UInt8(truncatingIfNeeded: leftBins[Int(set[node]) * 4 + bin / 64] >> UInt64(bin % 64)) & 1 }
        if bin == missingBin { return flag & 1 }
        return bin <= Int(threshold[node]) ? 1 : 0
    }

    /// Whether a row (its bin per feature) goes left at each node of `range`.
    @inline(__always) func decide(_ range: Range<Int>, bins: UnsafePointer<UInt8>, missing: UnsafePointer<Int32>, into goesLeft: UnsafeMutablePointer<UInt8>) {
        for node in range {
            let f = Int(feature[node])
            goesLeft[node] = self.goesLeft(node, bin: Int(bins[f]), missingBin: Int(missing[f]))
        }
    }

    /// Whether each of `rows` rows (their bins of the node's feature in `column`) goes left at `node`.
    @inline(__always) func decide(_ node: Int, column: UnsafePointer<UInt8>, rows: Int, missingBin: Int, into out: UnsafeMutablePointer<UInt8>) {
        for row in 0..<rows { out[row] = goesLeft(node, bin: Int(column[row]), missingBin: missingBin) }
    }

    func deallocate() {
        feature.deallocate()
        threshold.deallocate()
        flags.deallocate()
        set.deallocate()
        leftBins.deallocate()
    }
}

/// Every leaf of a model as raw arrays, numbered across trees: the explainer's hot loop reads them with no
/// bounds checks or reference counting.
struct LeafTable {
    let leafCount: Int
    let maxDistinct: Int
    /// Leaf ℓ's entries are `entryStart[ℓ] ..< entryStart[ℓ + 1]`.
    let entryStart: UnsafeMutablePointer<Int>
    let feature: UnsafeMutablePointer<Int32>
    let q: UnsafeMutablePointer<Double>
    /// Entry e's splits are `splitStart[e] ..< splitStart[e + 1]`: the node (model-wide) and the side taken.
    let splitStart: UnsafeMutablePointer<Int>
    let splitNode: UnsafeMutablePointer<Int32>
    let splitLeft: UnsafeMutablePointer<UInt8>
    let leafValue: UnsafeMutablePointer<Double>

    init(paths: [LeafPaths], trees: [Tree], nodeStart: [Int]) {
        var entryStart = [0], feature = [Int32](), q = [Double](), splitStart = [0], splitNode = [Int32](), splitLeft = [UInt8]()
        var leafValue = [Double]()
        for (treeIndex, tree) in paths.enumerated() {
            // A tree without splits has one leaf and no path: it adds nothing to any feature.
            for (leaf, path) in tree.entries.enumerated() {
                for entry in path {
                    feature.append(Int32(entry.feature))
                    q.append(entry.q)
                    for (node, left) in entry.splits {
                        splitNode.append(Int32(nodeStart[treeIndex] + node))
                        splitLeft.append(left ? 1 : 0)
                    }
                    splitStart.append(splitNode.count)
                }
                entryStart.append(feature.count)
                leafValue.append(trees[treeIndex].leafValue[leaf])
            }
        }
        leafCount = leafValue.count
        maxDistinct = paths.map(\.maxDistinct).max() ?? 0
        self.entryStart = rawCopy(entryStart)
        self.feature = rawCopy(feature)
        self.q = rawCopy(q)
        self.splitStart = rawCopy(splitStart)
        self.splitNode = rawCopy(splitNode)
        self.splitLeft = rawCopy(splitLeft)
        self.leafValue = rawCopy(leafValue)
    }

    func deallocate() {
        entryStart.deallocate()
        feature.deallocate()
        q.deallocate()
        splitStart.deallocate()
        splitNode.deallocate()
        splitLeft.deallocate()
        leafValue.deallocate()
    }
}

/// Gauss–Legendre quadrature: `count` nodes integrate polynomials of degree up to 2·count − 1 exactly.
enum GaussLegendre {
    /// Nodes and weights on [0, 1] (Newton's method on the Legendre polynomial's roots).
    static func unitInterval(count: Int) -> (nodes: [Double], weights: [Double]) {
        var nodes = [Double](), weights = [Double]()
        for i in 0..<count {
            var x = cos(Double.pi * (Double(i) + 0.75) / (Double(count) + 0.5))
            var derivative = 0.0
            for _ in 0..<100 {
                // P_count(x) and P_(count-1)(x) by the three-term recurrence, then P'_count(x).
                var (previous, value) = (1.0, x)
                if count >= 2 {
                    for n in 2...count {
                        (previous, value) = (value, ((2 * Double(n) - 1) * x * value - (Double(n) - 1) * previous) / Double(n))
                    }
                }
                derivative = Double(count) * (x * value - previous) / (x * x - 1)
                let step = value / derivative
                x -= step
                if abs(step) < 1e-16 { break }
            }
            nodes.append((x + 1) / 2)
            weights.append(1 / ((1 - x * x) * derivative * derivative))
        }
        return (nodes, weights)
    }
}

extension GBDTModel {
    /// Expected value of the model's raw score: the base of every explanation.
    public var expectedValue: Double { baseScore + trees.reduce(0) { $0 + TreeSHAP.expectedValue($1) } }

    /// Per-row feature contributions (log-odds); each row's sum plus `expectedValue` is its raw score.
    public func contributions(_ dataset: Dataset, rows: [Int]) -> [[Double]] {
        TreeExplainer(self).contributions(dataset, rows: rows)
    }
}

extension GBDTModel {
    /// The same contributions by the recursive algorithm 2 of the TreeSHAP paper: the reference the
    /// quadrature form of `TreeExplainer` is tested against.
    func referenceContributions(_ dataset: Dataset, rows: [Int]) -> [[Double]] {
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
