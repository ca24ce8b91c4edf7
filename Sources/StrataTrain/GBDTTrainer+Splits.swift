extension GBDTTrainer {
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
