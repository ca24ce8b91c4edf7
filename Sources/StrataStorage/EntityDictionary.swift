import CStrataHints
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
        table.pointee.arena.deallocate()
        table.deinitialize(count: 1)
        table.deallocate()
    }

    public var count: Int { table.pointee.count }
    /// Ids below this are already in committed entity segments.
    public var committedCount: Int { table.pointee.committedCount }

    /// The id of `key`, adding it when new.
    @inline(__always) public func id(for key: UnsafeRawBufferPointer) -> UInt32 { table.pointee.id(for: key) }

    /// The ids of `count` keys in order, new keys numbered in that order: what `id(for:)` key by key gives.
    /// `hashes[i]` must be `EntityDictionary.hash(key(i))` (computed where it is cheap, e.g. on the threads
    /// that parsed the keys). The table's slot, offset and bytes of the keys ahead are prefetched, so a
    /// dictionary larger than the cache costs about one miss's latency per batch rather than three per key.
    public func ids(count: Int, hashes: UnsafeBufferPointer<UInt64>, key: (Int) -> UnsafeRawBufferPointer,
                    into ids: UnsafeMutableBufferPointer<UInt32>) {
        precondition(hashes.count >= count && ids.count >= count)
        table.pointee.ids(count: count, hashes: hashes, key: key, into: ids)
    }

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

    /// Makes room for `count` ids in all, of `bytes` string bytes in all (a hint: more still fit).
    public func reserve(count: Int, bytes: Int) {
        table.pointee.arena.reserve(bytes)
        table.pointee.offsets.reserveCapacity(count + 1)
    }

    /// Builds the hash table over every id. Lookups do it on first use; call it first when several
    /// threads will look up at once.
    public func buildIndex() { table.pointee.buildIndex() }

    /// The strings of `ids` (a range of ids this dictionary has), as the string column of an entity segment.
    public func strings(ids: Range<Int>) -> StringArray { table.pointee.strings(ids: ids) }

    public func markCommitted() { table.pointee.markCommitted() }

    /// Bytes of every string: a loader keeps it within the u32 offsets.
    public var stringBytes: Int { table.pointee.stringBytes }

    /// The first two ids with the same string, if any: a dictionary that lies (written by a buggy or
    /// hostile writer), whose two users would print alike. `verify` asks; lookups assume distinct strings.
    public func firstDuplicate() -> (Int, Int)? { table.pointee.firstDuplicate() }

    /// The hash the dictionary files keys under (`ByteHash`).
    @inline(__always) public static func hash(_ key: UnsafeRawBufferPointer) -> UInt64 { ByteHash.hash(key) }
}

/// The dictionary's state. The class keeps it behind a pointer it owns, so the hot lookups touch no class
/// property: Swift's dynamic exclusivity checks (one per access to a class's `var`) would otherwise cost
/// ingest a tenth of its time.
struct EntityTable {
    /// Owned by the `EntityDictionary`, which frees it.
    var arena = ByteArena()
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
    @inline(__always) mutating func id(for key: UnsafeRawBufferPointer) -> UInt32 { id(for: key, hash: Self.hash(key)) }

    /// The id of `key` whose hash is `hash`, adding it when new.
    @inline(__always) mutating func id(for key: UnsafeRawBufferPointer, hash: UInt64) -> UInt32 {
        if !isIndexed { buildIndex() }
        var slot = Int(truncatingIfNeeded: hash) & slotMask
        while true {
            let stored = slots[slot]
            if stored == 0 { break }
            if matches(Int(stored) - 1, key) { return stored - 1 }
            slot = (slot &+ 1) & slotMask
        }
        let id = UInt32(count)
        precondition(id < UInt32.max, "entity id space exhausted")
        arena.append(key)
        offsets.append(UInt32(arena.count))
        slots[slot] = id + 1
        if count * 2 > slots.count { grow() }
        return id
    }

    /// See `EntityDictionary.ids(count:hashes:key:into:)`. Three stages run ahead of the lookup: the home
    /// slot of key i + 24 is prefetched; at i + 16 that slot is read (now cached) and its id's offset is
    /// prefetched; at i + 8 the offset is read and the stored bytes are prefetched. Only hints: each lookup
    /// reads the table afresh, so keys added within the window are found as usual.
    mutating func ids(count: Int, hashes: UnsafeBufferPointer<UInt64>, key: (Int) -> UnsafeRawBufferPointer,
                      into ids: UnsafeMutableBufferPointer<UInt32>) {
        if !isIndexed { buildIndex() }
        for index in 0..<count {
            if index + 24 < count {
                let home = Int(truncatingIfNeeded: hashes[index + 24]) & slotMask
                slots.withUnsafeBufferPointer { strata_prefetch($0.baseAddress! + home) }
            }
            if index + 16 < count {
                let stored = slots[Int(truncatingIfNeeded: hashes[index + 16]) & slotMask]
                if stored != 0 { offsets.withUnsafeBufferPointer { strata_prefetch($0.baseAddress! + Int(stored) - 1) } }
            }
            if index + 8 < count {
                let stored = slots[Int(truncatingIfNeeded: hashes[index + 8]) & slotMask]
                if stored != 0 {
                    let start = Int(offsets[Int(stored) - 1])
                    let end = Int(offsets[Int(stored)])
                    strata_prefetch(arena.base + start)
                    if end > start { strata_prefetch(arena.base + end - 1) }
                }
            }
            ids[index] = id(for: key(index), hash: hashes[index])
        }
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
        String(decoding: UnsafeRawBufferPointer(rebasing: arena.bytes[Int(offsets[id])..<Int(offsets[id + 1])]), as: UTF8.self)
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
        strings.bytes.withUnsafeBytes { arena.append($0) }
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

    func strings(ids: Range<Int>) -> StringArray {
        precondition(ids.lowerBound >= 0 && ids.upperBound <= count)
        var result = StringArray()
        let start = Int(offsets[ids.lowerBound])
        result.bytes = Array(arena.bytes[start..<Int(offsets[ids.upperBound])])
        result.offsets = offsets[ids.lowerBound...ids.upperBound].map { $0 - UInt32(start) }
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
            if offset < key.count && key.count >= 8 {
                // The last bytes as one word that overlaps the words already compared.
                let last = key.count - 8
                return stored.loadUnaligned(fromByteOffset: last, as: UInt64.self) == key.loadUnaligned(fromByteOffset: last, as: UInt64.self)
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

    @inline(__always) static func hash(_ key: UnsafeRawBufferPointer) -> UInt64 { ByteHash.hash(key) }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A growing run of bytes in one allocation, grown with `realloc`: for a large run the C library moves the
/// pages rather than the bytes (`mremap`), so growing 300 MB of msno does not hold the old and the new copy
/// at once, as an array's doubling does. A value type over memory it does not free by itself: its owner
/// calls `deallocate` once.
struct ByteArena {
    private(set) var base: UnsafeMutablePointer<UInt8>
    private(set) var count = 0
    private var capacity = 0

    init() {
        base = UnsafeMutablePointer(OpaquePointer(malloc(1)!))
    }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R { try body(bytes) }

    /// Makes room for `total` bytes in all.
    mutating func reserve(_ total: Int) {
        guard total > capacity else { return }
        guard let grown = realloc(base, total) else { fatalError("out of memory: \(total) bytes for the entity dictionary") }
        base = grown.assumingMemoryBound(to: UInt8.self)
        capacity = total
    }

    @inline(__always) mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if count + bytes.count > capacity { reserve(max(capacity * 2, count + bytes.count, 4096)) }
        if let source = bytes.baseAddress { (base + count).update(from: source.assumingMemoryBound(to: UInt8.self), count: bytes.count) }
        count += bytes.count
    }

    func deallocate() { free(base) }
}
