import StrataStorage

/// Maps a feature's raw values to at most 255 bins plus a missing bin, as histogram learners do.
///
/// Numeric: bins are ranges `(upper[i-1], upper[i]]` over quantiles of the values (every distinct value
/// gets its own bin when there are few); a split "bin <= t" is the raw test `x <= upper[t]`, so binned
/// training and raw prediction agree. Categorical: the most frequent categories get a bin each; the
/// rest share the last one with missing values.
public struct BinMapper: Codable, Equatable, Sendable {
    public var isCategorical: Bool
    /// Numeric: upper bound of each value bin, ascending.
    public var upperBounds: [Double]
    /// Categorical: the category code of each value bin.
    public var categories: [Double]

    /// Bins holding values (the missing/other bin comes after them).
    public var valueBinCount: Int { isCategorical ? categories.count : upperBounds.count }
    public var missingBin: Int { valueBinCount }
    public var binCount: Int { valueBinCount + 1 }

    public static let valueBinsMax = 254

    /// A bound between two consecutive distinct values `low < high`: halfway, computed without overflow
    /// (1e308 + 1e308 is inf); `low` itself when halfway is not strictly between (a value of ±inf, or
    /// neighbours one ulp apart), so the bounds stay strictly ascending and finite below +inf.
    static func boundary(_ low: Double, _ high: Double) -> Double {
        let middle = low / 2 + high / 2
        return middle >= low && middle < high ? middle : low
    }

    public init(values: [Double], rows: [Int], isCategorical: Bool) {
        self.isCategorical = isCategorical
        upperBounds = []
        categories = []
        var counts: [Double: Int] = [:]
        for row in rows {
            let value = values[row]
            if !value.isNaN { counts[value, default: 0] += 1 }
        }
        if isCategorical {
            categories = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                .prefix(Self.valueBinsMax).map(\.key)
            return
        }
        let distinct = counts.keys.sorted()
        if distinct.isEmpty {
            // Only NULL/NaN: one value bin that nothing falls into, the missing bin holds every row.
            upperBounds = [.infinity]
            return
        }
        if distinct.count <= Self.valueBinsMax {
            // One bin per value; bounds halfway to the next value so unseen values fall sensibly.
            upperBounds = distinct.indices.map { index in
                index + 1 < distinct.count ? Self.boundary(distinct[index], distinct[index + 1]) : .infinity
            }
            return
        }
        // Equal-count bins over the sorted distinct values.
        let total = distinct.reduce(0) { $0 + counts[$1]! }
        let perBin = Double(total) / Double(Self.valueBinsMax)
        var accumulated = 0
        var nextCut = perBin
        for (index, value) in distinct.enumerated() {
            accumulated += counts[value]!
            if Double(accumulated) >= nextCut && index + 1 < distinct.count {
                upperBounds.append(Self.boundary(value, distinct[index + 1]))
                while nextCut <= Double(accumulated) { nextCut += perBin }
                if upperBounds.count == Self.valueBinsMax - 1 { break }
            }
        }
        upperBounds.append(.infinity)
    }

    /// The bin of a raw value.
    @inline(__always) public func bin(_ value: Double) -> Int {
        if value.isNaN { return missingBin }
        if isCategorical {
            return categories.firstIndex(of: value) ?? missingBin
        }
        // First bound >= value (binary search).
        var low = 0
        var high = upperBounds.count - 1
        while low < high {
            let middle = (low + high) >> 1
            if upperBounds[middle] >= value { high = middle } else { low = middle + 1 }
        }
        return low
    }
}

/// Features of some rows as bin indexes, column-major, one byte each.
struct BinnedMatrix: @unchecked Sendable {
    let rowCount: Int
    let columns: [UnsafeMutableBufferPointer<UInt8>]

    init(dataset: Dataset, rows: [Int], mappers: [BinMapper]) {
        rowCount = rows.count
        let column: @Sendable (Int) -> UnsafeMutableBufferPointer<UInt8> = { feature in
            let column = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(1, rows.count))
            let mapper = mappers[feature]
            let values = dataset.features[feature]
            if mapper.isCategorical {
                var lookup: [Double: UInt8] = [:]
                for (bin, category) in mapper.categories.enumerated() { lookup[category] = UInt8(bin) }
                for (index, row) in rows.enumerated() {
                    let value = values[row]
                    column[index] = value.isNaN ? UInt8(mapper.missingBin) : lookup[value] ?? UInt8(mapper.missingBin)
                }
            } else {
                for (index, row) in rows.enumerated() { column[index] = UInt8(mapper.bin(values[row])) }
            }
            return column
        }
        // A few rows (a served request) are binned on the caller's thread: waking the pool's threads for
        // microseconds of work cost a served score about a millisecond at low load.
        columns = rows.count < 4096 ? (0..<mappers.count).map(column) : parallelMap(mappers.count, column)
    }

    func deallocate() { for column in columns { column.deallocate() } }
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
