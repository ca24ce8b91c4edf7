/// One regression tree over binned features. Internal nodes are `0 ..< splitFeature.count`; a child
/// index `c >= 0` is an internal node, `c < 0` the leaf `~c`.
public struct Tree: Codable, Equatable, Sendable {
    public var splitFeature: [Int32] = []
    /// Numeric split: a row goes left when its bin is `<= thresholdBin` (the missing bin follows `defaultLeft`).
    public var thresholdBin: [Int32] = []
    public var defaultLeft: [Bool] = []
    public var isCategorical: [Bool] = []
    /// Categorical split: the bins (categories, and possibly the missing/other bin) that go left.
    public var leftBins: [[Int32]] = []
    public var left: [Int32] = []
    public var right: [Int32] = []
    public var gain: [Double] = []
    /// Training rows that reached each internal node and each leaf (the covers of TreeSHAP).
    public var internalCount: [Double] = []
    public var leafValue: [Double] = [0]
    public var leafCount: [Double] = [0]

    /// The leaf a row of bins reaches (`bin(feature)` gives the row's bin of a feature).
    @inline(__always) func leaf(_ bin: (Int) -> Int, missingBins: [Int]) -> Int {
        guard !splitFeature.isEmpty else { return 0 }
        var node = 0
        while true {
            let next = goesLeft(node, bin: bin(Int(splitFeature[node])), missingBin: missingBins[Int(splitFeature[node])]) ? left[node] : right[node]
            if next < 0 { return Int(~next) }
            node = Int(next)
        }
    }

    /// Adds the value of the leaf each row reaches to its score; row r's bin of feature f is `columns[f][r]`.
    func addLeafValues(columns: UnsafeBufferPointer<UnsafeMutableBufferPointer<UInt8>>, missingBins: UnsafeBufferPointer<Int>,
                       into scores: UnsafeMutableBufferPointer<Double>) {
        guard !splitFeature.isEmpty else {
            for row in scores.indices { scores[row] += leafValue[0] }
            return
        }
        for row in scores.indices {
            var node = 0
            while true {
                let feature = Int(splitFeature[node])
                let next = goesLeft(node, bin: Int(columns[feature][row]), missingBin: missingBins[feature]) ? left[node] : right[node]
                if next < 0 {
                    scores[row] += leafValue[Int(~next)]
                    break
                }
                node = Int(next)
            }
        }
    }

    @inline(__always) func goesLeft(_ node: Int, bin: Int, missingBin: Int) -> Bool {
        if isCategorical[node] { return leftBins[node].contains(Int32(bin)) }
        if bin == missingBin { return defaultLeft[node] }
        return bin <= Int(thresholdBin[node])
    }
}
