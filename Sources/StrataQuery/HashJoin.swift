/// JOIN ... USING (msno): the joined table is read whole and indexed by entity id (ids are dense, so
/// the index is two arrays, not a hash table); the FROM table streams through it batch by batch.
final class HashJoin: @unchecked Sendable {
    private let build: Batch
    private let buildSlots: [Int]
    /// Rows of entity e are `rows[offsets[e]..<offsets[e + 1]]`.
    private let offsets: [Int32]
    private let rows: [Int32]
    private let probeSlot: Int
    private let isLeftJoin: Bool
    private let context: ExecutionContext

    init(source: TableSource, keySlot: Int, probeSlot: Int, isLeftJoin: Bool, evaluator: Evaluator, context: ExecutionContext) throws {
        var parts: [Batch] = []
        var heldBytes = 0
        for item in source.workItems {
            if let batch = try source.read(item, evaluator: evaluator) {
                parts.append(batch)
                heldBytes += batch.count * max(1, source.columns.count) * 8
                try context.checkMemory(heldBytes, what: "the joined table \(source.name)")
            }
        }
        buildSlots = source.columns.map(\.slot)
        let count = parts.reduce(0) { $0 + $1.count }
        var columns = [Vector](repeating: TableSource.placeholder(count), count: source.slotCount)
        for slot in buildSlots {
            let type = parts.first?.columns[slot].type ?? .null
            columns[slot] = Vector.concatenate(parts.map { $0.columns[slot] }, type: type)
        }
        build = Batch(columns: columns, count: count)
        let keys = build.columns[keySlot].entityValues
        // Ids were checked against the dictionary when read; the index is sized by the largest.
        let entityCount = Int(keys.max() ?? -1) + 1
        try context.checkMemory(heldBytes + (entityCount + 1 + keys.count) * 4, what: "the join index of \(source.name)")
        var offsets = [Int32](repeating: 0, count: entityCount + 1)
        for key in keys { offsets[Int(key) + 1] += 1 }
        for index in 0..<entityCount { offsets[index + 1] += offsets[index] }
        var next = Array(offsets.dropLast())
        var rows = [Int32](repeating: 0, count: keys.count)
        for (row, key) in keys.enumerated() {
            rows[Int(next[Int(key)])] = Int32(row)
            next[Int(key)] += 1
        }
        self.offsets = offsets
        self.rows = rows
        self.probeSlot = probeSlot
        self.isLeftJoin = isLeftJoin
        self.context = context
    }

    /// The joined rows of a batch of the FROM table; a batch whose matches would exceed the memory
    /// limit (a many-to-many join) fails before the rows are gathered.
    func probe(_ batch: Batch) throws -> Batch {
        let keys = batch.columns[probeSlot]
        let ids = keys.entityValues
        var outputCount = 0
        for row in 0..<batch.count {
            let id = keys.isNull(row) ? -1 : Int(ids[row])
            let matches = id >= 0 && id < offsets.count - 1 ? Int(offsets[id + 1] - offsets[id]) : 0
            outputCount += matches == 0 ? (isLeftJoin ? 1 : 0) : matches
        }
        try context.checkMemory(outputCount * max(1, batch.columns.count) * 8, what: "a batch of the join with \(build.count) rows")
        var probeRows: [Int32] = []
        var buildRows: [Int32] = []
        probeRows.reserveCapacity(batch.count)
        buildRows.reserveCapacity(batch.count)
        var unmatched = false
        let entityCount = offsets.count - 1
        for row in 0..<batch.count {
            let id = keys.isNull(row) ? -1 : Int(ids[row])
            if id >= 0 && id < entityCount && offsets[id] < offsets[id + 1] {
                for match in offsets[id]..<offsets[id + 1] {
                    probeRows.append(Int32(row))
                    buildRows.append(rows[Int(match)])
                }
            } else if isLeftJoin {
                probeRows.append(Int32(row))
                buildRows.append(-1)
                unmatched = true
            }
        }
        var columns = batch.columns.map { $0.gather(probeRows) }
        for slot in buildSlots {
            columns[slot] = unmatched ? build.columns[slot].gather(nullable: buildRows) : build.columns[slot].gather(buildRows)
        }
        return Batch(columns: columns, count: probeRows.count)
    }
}
