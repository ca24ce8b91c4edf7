import StrataFormat

/// The store's msno → dense u32 id map (format-spec §6), in memory. Ids are handed out in order of first
/// appearance and never change, so every table stores 4-byte ids and joins become integer work.
///
/// Strings live in one byte arena; an open-addressing table of `id + 1` (0 = empty) finds them by hash,
/// so a lookup costs one hash of the bytes and, usually, one comparison, with no String per row.
public final class EntityDictionary: @unchecked Sendable {
    private let table: UnsafeMutablePointer<EntityTable>

    public init(capacity: Int = 1024) {
        table = .allocate(capacity: 1)
        table.initialize(to: EntityTable(capacity: capacity))
    }

    deinit {
        table.deinitialize(count: 1)
        table.deallocate()
    }

    public var count: Int { table.pointee.count }
    /// Ids below this are already in committed entity segments.
    public var committedCount: Int { table.pointee.committedCount }

    /// The id of `key`, adding it when new.
    @inline(__always) public func id(for key: UnsafeRawBufferPointer) -> UInt32 { table.pointee.id(for: key) }

    /// The id of `key`, or nil when it has none.
    @inline(__always) public func lookup(_ key: UnsafeRawBufferPointer) -> UInt32? { table.pointee.lookup(key) }

    public func lookup(_ key: String) -> UInt32? {
        var key = key
        return key.withUTF8 { lookup(UnsafeRawBufferPointer($0)) }
    }

    public func string(_ id: Int) -> String { table.pointee.string(id) }

    /// Calls `body` with the bytes of entity `id`, without allocating.
    public func withBytes<R>(of id: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try table.pointee.withBytes(of: id, body)
    }

    /// Appends committed strings loaded from an entity segment (distinct by construction). They are not
    /// hashed here: the table is built in one pass on the first lookup, and readers that only turn ids
    /// into text never pay for it.
    public func appendCommitted(_ strings: StringArray) { table.pointee.appendCommitted(strings) }

    /// Builds the hash table over every id. Lookups do it on first use; call it first when several
    /// threads will look up at once.
    public func buildIndex() { table.pointee.buildIndex() }

    /// The ids added since the last commit, as the string column of a new entity segment.
    public func uncommittedStrings() -> StringArray { table.pointee.uncommittedStrings() }

    public func markCommitted() { table.pointee.markCommitted() }

    /// Bytes of every string: a loader keeps it within the u32 offsets.
    public var stringBytes: Int { table.pointee.stringBytes }

    /// The first two ids with the same string, if any: a dictionary that lies (written by a buggy or
    /// hostile writer), whose two users would print alike. `verify` asks; lookups assume distinct strings.
    public func firstDuplicate() -> (Int, Int)? { table.pointee.firstDuplicate() }

    /// A multiply-xorshift hash over 8-byte words: fast on 44-byte msno keys, well mixed in the low bits.
    @inline(__always) static func hash(_ key: UnsafeRawBufferPointer) -> UInt64 { EntityTable.hash(key) }
}

/// The dictionary's state. The class keeps it behind a pointer it owns, so the hot lookups touch no class
/// property: Swift's dynamic exclusivity checks (one per access to a class's `var`) would otherwise cost
/// ingest a tenth of its time.
struct EntityTable {
    var arena: [UInt8] = []
    var offsets: [UInt32] = [0]
    var slots: [UInt32]
    var slotMask: Int
    /// Ids below this are already in committed entity segments.
    var committedCount: Int = 0
    /// False after a bulk load that skipped hashing; the first lookup builds the table.
    var isIndexed = true

    init(capacity: Int) {
        var slotCount = 1024
        while slotCount < capacity * 2 { slotCount <<= 1 }
        slots = [UInt32](repeating: 0, count: slotCount)
        slotMask = slotCount - 1
    }

    var count: Int { offsets.count - 1 }

    /// The id of `key`, adding it when new.
    @inline(__always) mutating func id(for key: UnsafeRawBufferPointer) -> UInt32 {
        if !isIndexed { buildIndex() }
        let hash = Self.hash(key)
        var slot = Int(truncatingIfNeeded: hash) & slotMask
        while true {
            let stored = slots[slot]
            if stored == 0 { break }
            if matches(Int(stored) - 1, key) { return stored - 1 }
            slot = (slot &+ 1) & slotMask
        }
        let id = UInt32(count)
        precondition(id < UInt32.max, "entity id space exhausted")
        arena.append(contentsOf: key)
        offsets.append(UInt32(arena.count))
        slots[slot] = id + 1
        if count * 2 > slots.count { grow() }
        return id
    }

    /// The id of `key`, or nil when it has none.
    @inline(__always) mutating func lookup(_ key: UnsafeRawBufferPointer) -> UInt32? {
        if !isIndexed { buildIndex() }
        var slot = Int(truncatingIfNeeded: Self.hash(key)) & slotMask
        while true {
            let stored = slots[slot]
            if stored == 0 { return nil }
            if matches(Int(stored) - 1, key) { return stored - 1 }
            slot = (slot &+ 1) & slotMask
        }
    }

    func string(_ id: Int) -> String {
        String(decoding: arena[Int(offsets[id])..<Int(offsets[id + 1])], as: UTF8.self)
    }

    /// Calls `body` with the bytes of entity `id`, without allocating.
    func withBytes<R>(of id: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try arena.withUnsafeBytes { raw in
            try body(UnsafeRawBufferPointer(rebasing: raw[Int(offsets[id])..<Int(offsets[id + 1])]))
        }
    }

    /// Appends committed strings loaded from an entity segment (distinct by construction). They are not
    /// hashed here: the table is built in one pass on the first lookup, and readers that only turn ids
    /// into text never pay for it.
    mutating func appendCommitted(_ strings: StringArray) {
        let base = UInt32(arena.count)
        arena.append(contentsOf: strings.bytes)
        offsets.append(contentsOf: strings.offsets.dropFirst().map { $0 + base })
        committedCount = count
        isIndexed = false
    }

    /// Builds the hash table over every id. Lookups do it on first use; call it first when several
    /// threads will look up at once.
    mutating func buildIndex() {
        guard !isIndexed else { return }
        var slotCount = max(1024, slots.count)
        while slotCount < count * 2 + 2 { slotCount <<= 1 }
        isIndexed = true
        rehash(slotCount: slotCount)
    }

    /// The ids added since the last commit, as the string column of a new entity segment.
    func uncommittedStrings() -> StringArray {
        var result = StringArray()
        let start = Int(offsets[committedCount])
        result.bytes = Array(arena[start...])
        result.offsets = offsets[committedCount...].map { $0 - UInt32(start) }
        return result
    }

    mutating func markCommitted() { committedCount = count }

    @inline(__always) private func matches(_ id: Int, _ key: UnsafeRawBufferPointer) -> Bool {
        let start = Int(offsets[id])
        let end = Int(offsets[id + 1])
        guard end - start == key.count else { return false }
        return arena.withUnsafeBytes { raw in
            // msno keys are 44 bytes: compare word by word instead of calling memcmp.
            let stored = UnsafeRawBufferPointer(rebasing: raw[start..<end])
            var offset = 0
            while offset + 8 <= key.count {
                if stored.loadUnaligned(fromByteOffset: offset, as: UInt64.self) != key.loadUnaligned(fromByteOffset: offset, as: UInt64.self) { return false }
                offset += 8
            }
            while offset < key.count {
                if stored[offset] != key[offset] { return false }
                offset += 1
            }
            return true
        }
    }

    private mutating func grow() { rehash(slotCount: slots.count * 2) }

    /// Bytes of every string: a loader keeps it within the u32 offsets.
    var stringBytes: Int { arena.count }

    /// The first two ids with the same string, if any: a dictionary that lies (written by a buggy or
    /// hostile writer), whose two users would print alike. `verify` asks; lookups assume distinct strings.
    func firstDuplicate() -> (Int, Int)? {
        var table = [UInt32](repeating: 0, count: max(1024, slots.count))
        let mask = table.count - 1
        return arena.withUnsafeBytes { raw -> (Int, Int)? in
            for id in 0..<count {
                let key = UnsafeRawBufferPointer(rebasing: raw[Int(offsets[id])..<Int(offsets[id + 1])])
                var slot = Int(truncatingIfNeeded: Self.hash(key)) & mask
                while table[slot] != 0 {
                    let other = Int(table[slot]) - 1
                    if matches(other, key) { return (other, id) }
                    slot = (slot &+ 1) & mask
                }
                table[slot] = UInt32(id + 1)
            }
            return nil
        }
    }

    private mutating func rehash(slotCount newCount: Int) {
        slots = [UInt32](repeating: 0, count: newCount)
        slotMask = newCount - 1
        arena.withUnsafeBytes { raw in
            for id in 0..<count {
                let key = UnsafeRawBufferPointer(rebasing: raw[Int(offsets[id])..<Int(offsets[id + 1])])
                var slot = Int(truncatingIfNeeded: Self.hash(key)) & slotMask
                while slots[slot] != 0 { slot = (slot &+ 1) & slotMask }
                slots[slot] = UInt32(id + 1)
            }
        }
    }

    /// A multiply-xorshift hash over 8-byte words: fast on 44-byte msno keys, well mixed in the low bits.
    @inline(__always) static func hash(_ key: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0x243F_6A88_85A3_08D3 ^ UInt64(key.count)
        var offset = 0
        while offset + 8 <= key.count {
            hash = (hash ^ key.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) &* 0x9E37_79B9_7F4A_7C15
            hash ^= hash &>> 29
            offset += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while offset < key.count {
            tail |= UInt64(key[offset]) &<< shift
            shift += 8
            offset += 1
        }
        hash = (hash ^ tail) &* 0xD6E8_FEB8_6659_FD93
        hash ^= hash &>> 32
        return hash
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
