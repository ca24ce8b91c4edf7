import StrataFormat
import StrataStorage

/// Some columns of a source table in memory, rows in storage order (format-spec §8), so a row's
/// position is its ingestion order within its partition.
struct LoadedTable {
    var columns: [ColumnVector]
    var rowCount: Int { columns.first?.count ?? 0 }

    /// Reads `columns` of `table`; with `dayRange`, only rows whose partition column lies in it
    /// (partitions and chunks outside are skipped unread). Chunks decode in parallel.
    static func load(store: Store, table: String, columns: [String], dayRange: ClosedRange<Int64>?) throws -> LoadedTable {
        LoadedTable(columns: try TableScan(store: store, table: table, columns: columns, dayRange: dayRange).load())
    }
}

/// sorted by the sort keys and then by position (ingestion order).
struct EntityGroups {
    var offsets: [Int]
    var order: [Int]

    /// Groups by the entity ids in `entities` (a stable counting sort), then sorts each group by `keys`
    /// (integer columns, compared in turn) when it is not already in that order.
    init(entities: [Int64], entityCount: Int, keys: [[Int64]]) {
        var offsets = [Int](repeating: 0, count: entityCount + 1)
        var order = [Int](repeating: 0, count: entities.count)
        entities.withUnsafeBufferPointer { entities in
            offsets.withUnsafeMutableBufferPointer { offsets in
                for entity in entities { offsets[Int(entity) &+ 1] &+= 1 }
                for index in 0..<entityCount { offsets[index + 1] &+= offsets[index] }
                var next = Array(offsets)
                next.withUnsafeMutableBufferPointer { next in
                    order.withUnsafeMutableBufferPointer { order in
                        for row in 0..<entities.count {
                            let entity = Int(entities[row])
                            order[next[entity]] = row
                            next[entity] &+= 1
                        }
                    }
                }
            }
        }
        if !keys.isEmpty { Self.sortGroups(&order, offsets: offsets, keys: keys) }
        self.offsets = offsets
        self.order = order
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

extension ColumnVector {
    var integerValues: [Int64] {
        guard case .integers(let values) = values else { preconditionFailure("not an integer column") }
        return values
    }
}
