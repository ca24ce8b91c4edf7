import Foundation
import StrataStorage

/// What operators share while a query runs: the store, its entity dictionary (loaded on first need:
/// most queries never turn an msno id into text until the last rows are printed), and the limits.
public final class ExecutionContext: @unchecked Sendable {
    public let store: Store
    /// Bytes that group tables, distinct sets and rows held for ORDER BY may take before the query fails.
    public let memoryLimitBytes: Int
    private var entities: EntityDictionary?
    private let lock = NSLock()

    public init(store: Store, memoryLimitBytes: Int) {
        self.store = store
        self.memoryLimitBytes = memoryLimitBytes
    }

    func dictionary() throws -> EntityDictionary {
        lock.lock()
        defer { lock.unlock() }
        if let entities { return entities }
        let loaded = try store.loadEntities(indexed: false)
        entities = loaded
        return loaded
    }

    /// The id of an msno, or nil when no table has it.
    func entityID(_ text: String) throws -> Int64? {
        let dictionary = try self.dictionary()
        lock.lock()
        // Workers may ask at once: the lazily built hash table is built under the lock.
        dictionary.buildIndex()
        lock.unlock()
        return dictionary.lookup(text).map { Int64($0) }
    }

    func entityText(_ id: Int64) throws -> String {
        let dictionary = try self.dictionary()
        guard id >= 0 && Int(id) < dictionary.count else { return "#\(id)" }
        return dictionary.string(Int(id))
    }

    /// Entity ids replaced by their text; any other vector unchanged.
    func resolveStrings(_ vector: Vector) throws -> Vector {
        switch vector.values {
        case .entities(let ids):
            let dictionary = try self.dictionary()
            let strings = ids.map { id in id >= 0 && Int(id) < dictionary.count ? dictionary.string(Int(id)) : "" }
            return Vector(type: vector.type, values: .strings(strings), nulls: vector.nulls, count: vector.count)
        case .constant(.entity(let id)):
            return .constant(.string(try entityText(id)), type: vector.type, count: vector.count)
        default:
            return vector
        }
    }

    /// Byte-wise order of two entities' text (ORDER BY msno), without making Strings.
    func entityOrder() throws -> @Sendable (Int64, Int64) -> Int {
        let dictionary = try self.dictionary()
        return { a, b in
            dictionary.withBytes(of: Int(a)) { x in
                dictionary.withBytes(of: Int(b)) { y in
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
