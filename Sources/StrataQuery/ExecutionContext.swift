import Foundation
import StrataStorage

/// What operators share while a query runs: the store, its entity ids' text (decoded a chunk at a time
/// on first need: most queries never turn an msno id into text until the last rows are printed), the
/// msno → id dictionary (loaded only for `msno = '…'`), and the limits.
public final class ExecutionContext: @unchecked Sendable {
    public let store: Store
    /// Bytes that group tables, distinct sets and rows held for ORDER BY may take before the query fails.
    public let memoryLimitBytes: Int
    private var entities: EntityDictionary?
    private var entityNames: EntityNames?
    private let lock = NSLock()

    public init(store: Store, memoryLimitBytes: Int) {
        self.store = store
        self.memoryLimitBytes = memoryLimitBytes
    }

    func dictionary() throws -> EntityDictionary {
        lock.lock()
        defer { lock.unlock() }
        if let entities { return entities }
        // Indexed once per store version and shared by the queries on it.
        let loaded = try store.sharedEntities()
        entities = loaded
        return loaded
    }

    /// The id of an msno, or nil when no table has it.
    func entityID(_ text: String) throws -> Int64? {
        try dictionary().lookup(text).map { Int64($0) }
    }

    func names() throws -> EntityNames {
        lock.lock()
        defer { lock.unlock() }
        if let entityNames { return entityNames }
        let opened = try EntityNames(store: store)
        entityNames = opened
        return opened
    }

    /// Ids in the store's entity dictionary (no segment is read).
    var entityCount: Int { store.manifest.entities.count }

    func entityText(_ id: Int64) throws -> String {
        let names = try self.names()
        guard id >= 0 && Int(id) < names.count else { return "#\(id)" }
        return try names.string(Int(id))
    }

    /// Entity ids replaced by their text; any other vector unchanged.
    func resolveStrings(_ vector: Vector) throws -> Vector {
        switch vector.values {
        case .entities(let ids):
            let names = try self.names()
            var strings = [String](repeating: "", count: ids.count)
            for (row, id) in ids.enumerated() where !(vector.nulls?[row] ?? false) && id >= 0 && Int(id) < names.count {
                strings[row] = try names.string(Int(id))
            }
            return Vector(type: vector.type, values: .strings(strings), nulls: vector.nulls, count: vector.count)
        case .constant(.entity(let id)):
            return .constant(.string(try entityText(id)), type: vector.type, count: vector.count)
        default:
            return vector
        }
    }

    /// Byte-wise order of entities' text (ORDER BY msno), without making Strings: the chunks holding
    /// `ids` are decoded first, so the comparisons read memory only.
    func entityOrder(for ids: [Int64]) throws -> @Sendable (Int64, Int64) -> Int {
        let text = try names().snapshot(of: ids)
        return { a, b in
            text.withBytes(of: Int(a)) { x in
                text.withBytes(of: Int(b)) { y in
                    let n = min(x.count, y.count)
                    let c = n == 0 ? 0 : memcmp(x.baseAddress!, y.baseAddress!, n)
                    if c != 0 { return c < 0 ? -1 : 1 }
                    return x.count == y.count ? 0 : (x.count < y.count ? -1 : 1)
                }
            }
        }
    }

    func checkMemory(_ bytes: Int, what: String) throws {
        guard bytes > memoryLimitBytes else { return }
        throw QueryError("\(what) needs more than the query memory limit of \(memoryLimitBytes >> 20) MiB",
                         hint: "raise it with --memory-limit MiB, or narrow the query (a WHERE, fewer GROUP BY keys, a LIMIT)")
    }
}
