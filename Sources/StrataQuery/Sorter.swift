/// ORDER BY: a permutation of rows by several keys, each ASC/DESC with NULLS FIRST/LAST. Doubles
/// follow DuckDB's order (NaN last ascending); strings compare byte-wise, msno through the entity
/// dictionary's bytes. With a LIMIT, only the first `limit` rows are kept in a sorted buffer.
struct Sorter {
    let keys: [Vector]
    let sortKeys: [SortKey]
    /// Byte order of entity ids' text; needed when a key holds msno ids.
    let entityOrder: ((Int64, Int64) -> Int)?

    init(keys: [Vector], sortKeys: [SortKey], context: ExecutionContext) throws {
        var keys = keys
        for index in keys.indices where keys[index].isEntity && keys[index].count >= Self.rankedEntityRowsMin {
            keys[index] = try Self.ranked(keys[index], context: context)
        }
        self.keys = keys
        self.sortKeys = sortKeys
        if keys.contains(where: \.isEntity) {
            entityOrder = try context.entityOrder(for: keys.filter(\.isEntity).flatMap(\.entityValues))
        } else {
            entityOrder = nil
        }
    }

    /// Rows of an msno key above which its ids are replaced by their rank in text order, so that
    /// millions of comparisons (ties on the first key) compare integers.
    static let rankedEntityRowsMin = 65_536

    /// msno ids replaced by the rank of their text among the distinct ids present.
    private static func ranked(_ vector: Vector, context: ExecutionContext) throws -> Vector {
        let ids = vector.materialized().entityValues
        let distinct = Array(Set(ids.filter { $0 >= 0 }))
        let order = try context.entityOrder(for: distinct)
        let sorted = distinct.sorted { order($0, $1) < 0 }
        var rankOf = [Int64](repeating: 0, count: Int(distinct.max() ?? 0) + 1)
        for (rank, id) in sorted.enumerated() { rankOf[Int(id)] = Int64(rank) }
        return Vector(type: .bigint, values: .integers(ids.map { $0 >= 0 ? rankOf[Int($0)] : -1 }), nulls: vector.nulls, count: vector.count)
    }

    /// Rows in order; only the first `limit` when given.
    func order(count: Int, limit: Int?) throws -> [Int32] {
        if let limit, limit < count / 4 {
            return topRows(count: count, limit: limit)
        }
        var rows = Array(0..<Int32(count))
        rows.sort { precedes(Int($0), Int($1)) }
        if let limit, limit < count { rows.removeLast(count - limit) }
        return rows
    }

    /// The first `limit` rows in order, found with one comparison for most rows.
    private func topRows(count: Int, limit: Int) -> [Int32] {
        guard limit > 0 else { return [] }
        var best: [Int32] = []
        best.reserveCapacity(min(limit, count) + 1)
        for row in 0..<count {
            if best.count == limit, !precedes(row, Int(best[limit - 1])) { continue }
            var low = 0, high = best.count
            while low < high {
                let middle = (low + high) / 2
                if precedes(Int(best[middle]), row) { low = middle + 1 } else { high = middle }
            }
            best.insert(Int32(row), at: low)
            if best.count > limit { best.removeLast() }
        }
        return best
    }

    /// Whether row a sorts strictly before row b; equal keys keep input order (stable).
    func precedes(_ a: Int, _ b: Int) -> Bool {
        for (index, key) in keys.enumerated() {
            let order = compare(key, a, b, sortKeys[index])
            if order != 0 { return order < 0 }
        }
        return a < b
    }

    private func compare(_ key: Vector, _ a: Int, _ b: Int, _ sortKey: SortKey) -> Int {
        let aNull = key.isNull(a), bNull = key.isNull(b)
        if aNull || bNull {
            if aNull && bNull { return 0 }
            return aNull == sortKey.nullsFirst ? -1 : 1
        }
        var order: Int
        switch key.values {
        case .doubles(let values):
            let x = values[a], y = values[b]
            order = Comparison.less(x, y) ? -1 : (Comparison.less(y, x) ? 1 : 0)
        case .strings(let values):
            let x = values[a].utf8, y = values[b].utf8
            order = x.lexicographicallyPrecedes(y) ? -1 : (y.lexicographicallyPrecedes(x) ? 1 : 0)
        case .entities(let values):
            order = values[a] == values[b] ? 0 : entityOrder!(values[a], values[b])
        case .integers(let values):
            order = values[a] < values[b] ? -1 : (values[a] > values[b] ? 1 : 0)
        case .constant:
            order = 0
        }
        return sortKey.descending ? -order : order
    }
}
