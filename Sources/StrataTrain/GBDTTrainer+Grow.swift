import CStrataHints
import Dispatch
import Foundation
import StrataStorage

extension GBDTTrainer {
    /// How many rows ahead the histogram and partition loops prefetch.
    static let prefetchDistance = 16

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
                            let allFeatures = featureCount == stride
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
                            // A leaf's rows are scattered over the matrix: ask for the row `prefetchDistance`
                            // ahead while this one is summed (its bins, its gradient and hessian).
                            let prefetchEnd = count - Self.prefetchDistance
                            for index in (count * slice / slices)..<(count * (slice + 1) / slices) {
                                if index < prefetchEnd {
                                    let ahead = Int(rows[index + Self.prefetchDistance])
                                    strata_prefetch(rowMajor.bins + ahead &* stride)
                                    strata_prefetch(gradients.baseAddress! + ahead)
                                    strata_prefetch(hessians.baseAddress! + ahead)
                                }
                                let row = Int(rows[index])
                                let gradient = gradients[row]
                                let hessian = hessians[row]
                                let bins = rowMajor.bins + row &* stride
                                var k = 0
                                if allFeatures {
                                    // Every feature, in order: a row's k-th byte is feature k's bin.
                                    while k < featureCount {
                                        let entry = bases[k] + Int(bins[k])
                                        entry.pointee.gradient += gradient
                                        entry.pointee.hessian += hessian
                                        k &+= 1
                                    }
                                } else {
                                    while k < featureCount {
                                        let entry = bases[k] + Int(bins[columns[k]])
                                        entry.pointee.gradient += gradient
                                        entry.pointee.hessian += hessian
                                        k &+= 1
                                    }
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
            var goesLeft = [UInt8](repeating: 0, count: 256)
            for bin in 0..<mappers[split.feature].binCount {
                let left = split.categorical ? split.leftBins.contains(Int32(bin))
                    : bin == missingBin ? split.defaultLeft : bin <= split.thresholdBin
                goesLeft[bin] = left ? 1 : 0
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
                                    // Within the slice: the next slice's rows are being rewritten by another thread.
                                    let prefetchEnd = end - Self.prefetchDistance
                                    for index in begin..<end {
                                        if index < prefetchEnd { strata_prefetch(column.value + Int(order[index + Self.prefetchDistance])) }
                                        // Without a branch (a split's side is a coin toss to the predictor): the row
                                        // is written to both places and only its side's cursor moves.
                                        let row = order[index]
                                        let side = Int(goesLeft[Int(column.value[Int(row)])])
                                        order[left] = row
                                        scratch[right] = row
                                        left &+= side
                                        right &+= 1 &- side
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
}
