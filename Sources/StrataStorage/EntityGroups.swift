import StrataFormat

/// Rows grouped by entity id, each group sorted by integer keys and then by position (ingestion order):
/// a stable sort by (entity, keys…). Ingest and `compact` use it to cluster a partition's rows
/// (format-spec §8), the point-in-time engine to find each user's rows.
///
/// Rows that are already in that order (an entity-clustered segment, `SegmentEntry.sortedBy`) are
/// recognised in the counting pass and cost no permutation; rows made of a few sorted stretches (a
/// partition of several clustered segments) are moved a user's stretch at a time. Nothing here trusts
/// what a manifest says: the order is checked on the values.
public struct EntityGroups: Sendable {
    /// The group of entity `base + e` is `order[offsets[e] ..< offsets[e + 1]]`.
    public let offsets: [Int]
    /// Row positions in group order.
    public let order: [Int]
    /// The rows were in group order already: `order` is `0 ..< rowCount`.
    public let isIdentity: Bool

    /// - Parameters:
    ///   - entities: one id per row, each in `base ..< base + entityCount`.
    ///   - keys: integer columns compared in turn within a group (one value per row each).
    public init(entities: [Int64], entityCount: Int, keys: [[Int64]], base: Int64 = 0) {
        let rowCount = entities.count
        var offsets = [Int](repeating: 0, count: entityCount + 1)
        let firstKey = keys.first ?? []
        var inOrder = true
        entities.withUnsafeBufferPointer { entities in
            firstKey.withUnsafeBufferPointer { firstKey in
                offsets.withUnsafeMutableBufferPointer { offsets in
                    var previous = Int64.min
                    for row in 0..<rowCount {
                        let entity = entities[row] &- base
                        offsets[Int(entity) &+ 1] &+= 1
                        // In order while ids do not decrease and, within an id, neither do the keys.
                        if entity == previous && inOrder && !firstKey.isEmpty {
                            let left = firstKey[row - 1], right = firstKey[row]
                            if left > right || (left == right && keys.count > 1 && Self.laterKeysDecrease(keys, row - 1, row)) { inOrder = false }
                        } else if entity < previous {
                            inOrder = false
                        }
                        previous = entity
                    }
                    for index in 0..<entityCount { offsets[index + 1] &+= offsets[index] }
                }
            }
        }
        self.offsets = offsets
        isIdentity = inOrder
        guard !inOrder else {
            order = Array(0..<rowCount)
            return
        }
        var order = [Int](repeating: 0, count: rowCount)
        var next = offsets
        entities.withUnsafeBufferPointer { entities in
            next.withUnsafeMutableBufferPointer { next in
                order.withUnsafeMutableBufferPointer { order in
                    // A stretch of one entity's rows moves together: sorted stretches cost one move each.
                    var row = 0
                    while row < rowCount {
                        let entity = entities[row]
                        var end = row + 1
                        while end < rowCount && entities[end] == entity { end += 1 }
                        let slot = Int(entity &- base)
                        var target = next[slot]
                        for position in row..<end {
                            order[target] = position
                            target &+= 1
                        }
                        next[slot] = target
                        row = end
                    }
                }
            }
        }
        if !keys.isEmpty { Self.sortGroups(&order, offsets: offsets, keys: keys) }
        self.order = order
    }

    /// Whether row `b`'s keys after the first sort before row `a`'s (the first ones being equal).
    private static func laterKeysDecrease(_ keys: [[Int64]], _ a: Int, _ b: Int) -> Bool {
        for key in keys.dropFirst() {
            let left = key[a], right = key[b]
            if left != right { return left > right }
        }
        return false
    }

    /// Sorts each entity's rows by the keys, then position; groups already in order (the common case for
    /// date-partitioned, date-ordered files) are only checked.
    private static func sortGroups(_ order: inout [Int], offsets: [Int], keys: [[Int64]]) {
        let rowCount = order.count
        guard rowCount > 1 else { return }
        // The keys side by side in one buffer: the comparator then touches no Swift array (no ARC, no checks).
        let keyCount = keys.count
        let packed = UnsafeMutablePointer<Int64>.allocate(capacity: keyCount * rowCount)
        defer { packed.deallocate() }
        for (index, key) in keys.enumerated() {
            key.withUnsafeBufferPointer { (packed + index * rowCount).initialize(from: $0.baseAddress!, count: rowCount) }
        }
        @inline(__always) func precedes(_ a: Int, _ b: Int) -> Bool {
            for index in 0..<keyCount {
                let left = packed[index &* rowCount &+ a]
                let right = packed[index &* rowCount &+ b]
                if left != right { return left < right }
            }
            return a < b
        }
        order.withUnsafeMutableBufferPointer { order in
            for entity in 0..<(offsets.count - 1) {
                let start = offsets[entity]
                let end = offsets[entity + 1]
                guard end - start > 1 else { continue }
                var index = start + 1
                while index < end && precedes(order[index - 1], order[index]) { index += 1 }
                if index < end {
                    var group = UnsafeMutableBufferPointer(rebasing: order[start..<end])
                    group.sort(by: precedes)
                }
            }
        }
    }
}

extension TableManifest {
    /// Sorts the rows of one partition of this table (every column, in ingestion order) by
    /// `clusteringKey`, stably, and returns that key for the segment's `sortedBy`; leaves them as they are
    /// and returns nil for a table without one. Column by column, each replaced as soon as it is sorted, so
    /// the rows are held about once, not twice.
    public func cluster(_ columns: inout [ColumnVector]) -> [String]? {
        guard let key = clusteringKey, let rowCount = columns.first?.count, rowCount > 0 else { return nil }
        let indexes = key.map { name in self.columns.firstIndex { $0.name == name }! }
        guard case .integers(let entities) = columns[indexes[0]].values else { return nil }
        let low = entities.min()!, high = entities.max()!
        let keys = indexes.dropFirst().map { index -> [Int64] in
            guard case .integers(let values) = columns[index].values else { preconditionFailure("a sort key is an integer column") }
            return values
        }
        let groups = EntityGroups(entities: entities, entityCount: Int(high - low) + 1, keys: keys, base: low)
        if !groups.isIdentity {
            for index in columns.indices { columns[index] = columns[index].selecting(groups.order) }
        }
        return key
    }
}
