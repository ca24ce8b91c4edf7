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
        let columns = binned.columns
        for tree in trees {
            for index in 0..<rows.count {
                scores[index] += tree.leafValue[tree.leaf({ Int(columns[$0][index]) }, missingBins: missing)]
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

    public func train(_ dataset: Dataset, trainRows: [Int], validRows: [Int]) throws -> (GBDTModel, TrainingHistory) {
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
        let base = log(max(mean, 1e-15) / max(1 - mean, 1e-15))
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
            let buffers = UnsafeSendable((scores, labelBuffer, gradients, hessians))
            let sliceCount = parameters.threads
            DispatchQueue.concurrentPerform(iterations: sliceCount) { slice in
                let (scores, labels, gradients, hessians) = buffers.value
                for row in (n * slice / sliceCount)..<(n * (slice + 1) / sliceCount) {
                    let p = sigmoid(scores[row])
                    gradients[row] = p - labels[row]
                    hessians[row] = p * (1 - p)
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

    /// Grows one tree on the rows of the bag; returns it and the leaf of each bagged row (-1 for others).
    func grow(train: BinnedMatrix, rowMajor: RowMajorBins, rows: [Int], features: [Int], mappers: [BinMapper],
              gradients: UnsafeBufferPointer<Double>, hessians: UnsafeBufferPointer<Double>) -> (Tree, [Int32]) {
        let binCounts = mappers.map(\.binCount)
        var featureOffsets = [Int](repeating: 0, count: mappers.count + 1)
        for feature in 0..<mappers.count { featureOffsets[feature + 1] = featureOffsets[feature] + binCounts[feature] }
        let offsets = featureOffsets
        let totalBins = offsets.last!
        var allocated: [UnsafeMutablePointer<HistogramEntry>] = []
        func newHistogram() -> UnsafeMutablePointer<HistogramEntry> {
            let histogram = UnsafeMutablePointer<HistogramEntry>.allocate(capacity: totalBins)
            allocated.append(histogram)
            return histogram
        }
        defer { for histogram in allocated { histogram.deallocate() } }

        var order = rows.map { Int32($0) }
        var scratch = [Int32](repeating: 0, count: rows.count)
        var tree = Tree()
        tree.leafValue = []
        tree.leafCount = []

        // One histogram per thread, summed in thread order afterwards: deterministic for a thread count.
        let threadCount = max(1, parameters.threads)
        let threadHistograms = (0..<threadCount).map { _ in UnsafeSendable(UnsafeMutablePointer<HistogramEntry>.allocate(capacity: totalBins)) }
        defer { for histogram in threadHistograms { histogram.value.deallocate() } }
        let featureList = features.map(Int32.init)
        let binOffsets = offsets.map(Int32.init)

        /// Row by row, all sampled features at once: each row's gradient is read once, and its bins are
        /// one contiguous run of bytes.
        func buildHistogram(_ begin: Int, _ end: Int, into histogram: UnsafeMutablePointer<HistogramEntry>) {
            let count = end - begin
            let slices = count < 4096 ? 1 : threadCount
            order.withUnsafeBufferPointer { order in
                featureList.withUnsafeBufferPointer { featureList in
                    binOffsets.withUnsafeBufferPointer { binOffsets in
                        let context = UnsafeSendable((order.baseAddress! + begin, featureList, binOffsets, histogram, gradients, hessians))
                        DispatchQueue.concurrentPerform(iterations: slices) { slice in
                            let (rows, features, binOffsets, histogram, gradients, hessians) = context.value
                            let local = slices == 1 ? histogram : threadHistograms[slice].value
                            local.initialize(repeating: HistogramEntry(), count: totalBins)
                            let stride = rowMajor.stride
                            let featureCount = features.count
                            // Each sampled feature's histogram and its byte in a row, as raw pointers.
                            let bases = UnsafeMutablePointer<UnsafeMutablePointer<HistogramEntry>>.allocate(capacity: featureCount)
                            let columns = UnsafeMutablePointer<Int>.allocate(capacity: featureCount)
                            defer {
                                bases.deallocate()
                                columns.deallocate()
                            }
                            for k in 0..<featureCount {
                                bases[k] = local + Int(binOffsets[Int(features[k])])
                                columns[k] = Int(features[k])
                            }
                            for index in (count * slice / slices)..<(count * (slice + 1) / slices) {
                                let row = Int(rows[index])
                                let gradient = gradients[row]
                                let hessian = hessians[row]
                                let bins = rowMajor.bins + row &* stride
                                var k = 0
                                while k < featureCount {
                                    let entry = bases[k] + Int(bins[columns[k]])
                                    entry.pointee.gradient += gradient
                                    entry.pointee.hessian += hessian
                                    k &+= 1
                                }
                            }
                        }
                        guard slices > 1 else { return }
                        for feature in featureList {
                            let range = Int(binOffsets[Int(feature)])..<Int(binOffsets[Int(feature) + 1])
                            for bin in range {
                                var total = HistogramEntry()
                                for slice in 0..<slices {
                                    let part = threadHistograms[slice].value[bin]
                                    total.gradient += part.gradient
                                    total.hessian += part.hessian
                                }
                                histogram[bin] = total
                            }
                        }
                    }
                }
            }
        }

        func sums(_ begin: Int, _ end: Int) -> Bin {
            var total = Bin()
            for index in begin..<end {
                let row = Int(order[index])
                total.gradient += gradients[row]
                total.hessian += hessians[row]
            }
            total.count = Double(end - begin)
            return total
        }

        var leaves: [Leaf] = []
        let rootHistogram = newHistogram()
        buildHistogram(0, rows.count, into: rootHistogram)
        let rootSums = sums(0, rows.count)
        leaves.append(Leaf(begin: 0, end: rows.count, histogram: rootHistogram, sums: rootSums,
                           split: bestSplit(rootHistogram, sums: rootSums, features: features, mappers: mappers, offsets: offsets),
                           parentNode: -1, isLeftChild: false))

        while leaves.count < parameters.numLeaves {
            guard let best = leaves.indices.max(by: { leaves[$0].split.gain < leaves[$1].split.gain }), leaves[best].split.gain > 0 else { break }
            let leaf = leaves[best]
            let split = leaf.split
            let node = tree.splitFeature.count
            tree.splitFeature.append(Int32(split.feature))
            tree.thresholdBin.append(Int32(split.thresholdBin))
            tree.defaultLeft.append(split.defaultLeft)
            tree.isCategorical.append(split.categorical)
            tree.leftBins.append(split.leftBins)
            tree.left.append(0)
            tree.right.append(0)
            tree.gain.append(split.gain)
            tree.internalCount.append(leaf.sums.count)
            if leaf.parentNode >= 0 {
                if leaf.isLeftChild { tree.left[leaf.parentNode] = Int32(node) } else { tree.right[leaf.parentNode] = Int32(node) }
            }
            // Stable partition of the leaf's rows into left then right, through a per-bin lookup table.
            let missingBin = mappers[split.feature].missingBin
            var goesLeft = [Bool](repeating: false, count: 256)
            for bin in 0..<mappers[split.feature].binCount {
                goesLeft[bin] = split.categorical ? split.leftBins.contains(Int32(bin))
                    : bin == missingBin ? split.defaultLeft : bin <= split.thresholdBin
            }
            // Each thread partitions a slice of the leaf into its own left and right runs; the runs are then laid
            // out left slices first, in slice order, so the result is the stable partition.
            let column = UnsafeSendable(train.columns[split.feature].baseAddress!)
            let leafSize = leaf.end - leaf.begin
            let leafBegin = leaf.begin
            let slices = leafSize < 8192 ? 1 : max(1, parameters.threads)
            var leftCounts = [Int](repeating: 0, count: slices)
            var rightCounts = [Int](repeating: 0, count: slices)
            order.withUnsafeMutableBufferPointer { order in
                scratch.withUnsafeMutableBufferPointer { scratch in
                    goesLeft.withUnsafeBufferPointer { goesLeft in
                        leftCounts.withUnsafeMutableBufferPointer { leftCounts in
                            rightCounts.withUnsafeMutableBufferPointer { rightCounts in
                                let context = UnsafeSendable((order, scratch, goesLeft, leftCounts, rightCounts))
                                DispatchQueue.concurrentPerform(iterations: slices) { slice in
                                    let (order, scratch, goesLeft, leftCounts, rightCounts) = context.value
                                    let begin = leafBegin + leafSize * slice / slices
                                    let end = leafBegin + leafSize * (slice + 1) / slices
                                    // Lefts compact in place at the slice's start; rights go to scratch at the same offsets.
                                    var left = begin
                                    var right = begin - leafBegin
                                    for index in begin..<end {
                                        let row = order[index]
                                        if goesLeft[Int(column.value[Int(row)])] {
                                            order[left] = row
                                            left += 1
                                        } else {
                                            scratch[right] = row
                                            right += 1
                                        }
                                    }
                                    leftCounts[slice] = left - begin
                                    rightCounts[slice] = right - (begin - leafBegin)
                                }
                            }
                        }
                        // Gather: left runs (moved down in order), then right runs from scratch.
                        var target = leaf.begin
                        for slice in 0..<slices {
                            let begin = leaf.begin + leafSize * slice / slices
                            if target != begin {
                                for index in 0..<leftCounts[slice] { order[target + index] = order[begin + index] }
                            }
                            target += leftCounts[slice]
                        }
                        for slice in 0..<slices {
                            let begin = leafSize * slice / slices
                            for index in 0..<rightCounts[slice] { order[target + index] = scratch[begin + index] }
                            target += rightCounts[slice]
                        }
                    }
                }
            }
            let leftCount = leftCounts.reduce(0, +)
            let rightCount = leafSize - leftCount
            let middle = leaf.begin + leftCount
            // Histogram of the smaller child; the larger one is the parent's minus it.
            let smallIsLeft = leftCount <= rightCount
            let small = newHistogram()
            buildHistogram(smallIsLeft ? leaf.begin : middle, smallIsLeft ? middle : leaf.end, into: small)
            let large = leaf.histogram
            for bin in 0..<totalBins {
                large[bin].gradient -= small[bin].gradient
                large[bin].hessian -= small[bin].hessian
            }
            let leftHistogram = smallIsLeft ? small : large
            let rightHistogram = smallIsLeft ? large : small
            // Exact row counts from the partition (the split's were estimated from hessians).
            let leftSums = Bin(gradient: split.left.gradient, hessian: split.left.hessian, count: Double(leftCount))
            let rightSums = Bin(gradient: split.right.gradient, hessian: split.right.hessian, count: Double(rightCount))
            let leftLeaf = Leaf(begin: leaf.begin, end: middle, histogram: leftHistogram, sums: leftSums,
                                split: bestSplit(leftHistogram, sums: leftSums, features: features, mappers: mappers, offsets: offsets),
                                parentNode: node, isLeftChild: true)
            let rightLeaf = Leaf(begin: middle, end: leaf.end, histogram: rightHistogram, sums: rightSums,
                                 split: bestSplit(rightHistogram, sums: rightSums, features: features, mappers: mappers, offsets: offsets),
                                 parentNode: node, isLeftChild: false)
            leaves[best] = leftLeaf
            leaves.append(rightLeaf)
        }
        // Leaves get their values and take their place in the tree.
        var leafOfRow = [Int32](repeating: -1, count: gradients.count)
        for (index, leaf) in leaves.enumerated() {
            let value = -leaf.sums.gradient / (leaf.sums.hessian + parameters.lambdaL2) * parameters.learningRate
            tree.leafValue.append(value.isFinite ? value : 0)
            tree.leafCount.append(leaf.sums.count)
            if leaf.parentNode >= 0 {
                if leaf.isLeftChild { tree.left[leaf.parentNode] = ~Int32(index) } else { tree.right[leaf.parentNode] = ~Int32(index) }
            }
            for position in leaf.begin..<leaf.end { leafOfRow[Int(order[position])] = Int32(index) }
        }
        return (tree, leafOfRow)
    }

    /// The best split of a leaf over the sampled features (ties: lower feature index).
    func bestSplit(_ histogram: UnsafeMutablePointer<HistogramEntry>, sums: Bin, features: [Int], mappers: [BinMapper], offsets: [Int]) -> Split {
        var best = Split()
        guard sums.count >= Double(2 * parameters.minDataInLeaf), sums.hessian > 0 else { return best }
        let parentScore = score(sums, l2: parameters.lambdaL2)
        let rowsPerHessian = sums.count / sums.hessian
        var bins = [Bin](repeating: Bin(), count: 256)
        for feature in features {
            for bin in 0..<mappers[feature].binCount {
                let entry = histogram[offsets[feature] + bin]
                bins[bin] = Bin(gradient: entry.gradient, hessian: entry.hessian, count: (entry.hessian * rowsPerHessian).rounded())
            }
            let candidate = bins.withUnsafeMutableBufferPointer { bins in
                mappers[feature].isCategorical
                    ? categoricalSplit(bins.baseAddress!, mapper: mappers[feature], sums: sums)
                    : numericSplit(bins.baseAddress!, mapper: mappers[feature], sums: sums, parentScore: parentScore)
            }
            if var candidate, candidate.gain > best.gain {
                candidate.feature = feature
                best = candidate
            }
        }
        return best
    }

    @inline(__always) func score(_ bin: Bin, l2: Double) -> Double { bin.gradient * bin.gradient / (bin.hessian + l2) }

    @inline(__always) func admissible(_ left: Bin, _ right: Bin) -> Bool {
        left.count >= Double(parameters.minDataInLeaf) && right.count >= Double(parameters.minDataInLeaf)
            && left.hessian >= parameters.minSumHessianInLeaf && right.hessian >= parameters.minSumHessianInLeaf
    }

    func numericSplit(_ bins: UnsafeMutablePointer<Bin>, mapper: BinMapper, sums: Bin, parentScore: Double) -> Split? {
        let valueBins = mapper.valueBinCount
        let missing = bins[mapper.missingBin]
        var best: Split?
        for missingLeft in missing.count > 0 ? [false, true] : [false] {
            var left = missingLeft ? missing : Bin()
            for threshold in 0..<max(0, valueBins - 1) {
                left.gradient += bins[threshold].gradient
                left.hessian += bins[threshold].hessian
                left.count += bins[threshold].count
                let right = Bin(gradient: sums.gradient - left.gradient, hessian: sums.hessian - left.hessian, count: sums.count - left.count)
                guard admissible(left, right) else { continue }
                let gain = score(left, l2: parameters.lambdaL2) + score(right, l2: parameters.lambdaL2) - parentScore
                if gain > (best?.gain ?? 0) {
                    best = Split(feature: -1, gain: gain, thresholdBin: threshold, defaultLeft: missingLeft, categorical: false,
                                 leftBins: [], left: left, right: right)
                }
            }
        }
        return best
    }

    func categoricalSplit(_ bins: UnsafeMutablePointer<Bin>, mapper: BinMapper, sums: Bin) -> Split? {
        let l2 = parameters.lambdaL2 + parameters.catL2
        let parentScore = score(sums, l2: l2)
        let used = (0..<mapper.binCount).filter { bins[$0].count > 0 }
        guard used.count > 1 else { return nil }
        var best: Split?
        func consider(_ leftBins: [Int]) {
            var left = Bin()
            for bin in leftBins {
                left.gradient += bins[bin].gradient
                left.hessian += bins[bin].hessian
                left.count += bins[bin].count
            }
            let right = Bin(gradient: sums.gradient - left.gradient, hessian: sums.hessian - left.hessian, count: sums.count - left.count)
            guard admissible(left, right) else { return }
            let gain = score(left, l2: l2) + score(right, l2: l2) - parentScore
            if gain > (best?.gain ?? 0) {
                best = Split(feature: -1, gain: gain, thresholdBin: 0, defaultLeft: leftBins.contains(mapper.missingBin), categorical: true,
                             leftBins: leftBins.sorted().map(Int32.init), left: left, right: right)
            }
        }
        if used.count <= parameters.maxCatToOneHot {
            for bin in used { consider([bin]) }
            return best
        }
        // Categories with enough rows, ordered by gradient ratio; prefixes from both ends.
        let eligible = used.filter { bins[$0].count >= Double(parameters.minDataPerGroup) }
        let sorted = eligible.sorted {
            bins[$0].gradient / (bins[$0].hessian + parameters.catSmooth) < bins[$1].gradient / (bins[$1].hessian + parameters.catSmooth)
        }
        let limit = min(parameters.maxCatThreshold, max(0, sorted.count - 1))
        guard limit > 0 else { return best }
        for size in 1...limit {
            consider(Array(sorted.prefix(size)))
            consider(Array(sorted.suffix(size)))
        }
        return best
    }
}

/// Pointers handed to `concurrentPerform` workers that write disjoint parts.
struct UnsafeSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// SplitMix64: small, deterministic for a seed.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
}

/// The training bins row by row (`bins[row * stride + feature]`), for histograms that read each row once.
struct RowMajorBins: @unchecked Sendable {
    let bins: UnsafeMutablePointer<UInt8>
    let stride: Int

    init(_ matrix: BinnedMatrix) {
        stride = max(1, matrix.columns.count)
        bins = .allocate(capacity: max(1, matrix.rowCount * stride))
        for (feature, column) in matrix.columns.enumerated() {
            for row in 0..<matrix.rowCount { bins[row * stride + feature] = column[row] }
        }
    }

    func deallocate() { bins.deallocate() }
}
