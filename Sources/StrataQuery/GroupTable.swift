/// Open-addressing hash table from fixed-width keys (`width` Int64 words) to dense group indexes
/// 0, 1, 2, … in order of first appearance. Linear probing over a power-of-two slot array that is
/// kept at most half full. Multi-word keys keep their hash, so probing compares hashes before words
/// and growing never rehashes a key.
struct GroupTable {
    let width: Int
    private(set) var keys: [Int64] = []
    /// Hash of each group's key (multi-word keys only).
    private var hashes: [Int] = []
    private var slots: [Int32]
    private var mask: Int
    private(set) var count = 0
    /// Groups appended without a slot; rehashing must skip them.
    private var unindexed: Set<Int> = []

    init(width: Int, capacity: Int = 1024) {
        self.width = width
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = Array(repeating: -1, count: size)
        mask = size - 1
    }

    var sizeBytes: Int { keys.capacity * 8 + hashes.capacity * 8 + slots.count * 4 }

    @inline(__always) static func hash(_ word: Int64) -> Int {
        // A multiplicative mix (Fibonacci hashing): good spread for dense ids and day numbers alike.
        Int(truncatingIfNeeded: (UInt64(bitPattern: word) &* 0x9E37_79B9_7F4A_7C15) >> 20)
    }

    @inline(__always) static func hash(_ key: UnsafeBufferPointer<Int64>) -> Int {
        var h: UInt64 = 0x243F_6A88_85A3_08D3
        for word in key { h = (h ^ UInt64(bitPattern: word)) &* 0x9E37_79B9_7F4A_7C15 }
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }

    /// The group of a one-word key, inserted when new.
    @inline(__always) mutating func group(_ key: Int64) -> Int32 {
        var slot = Self.hash(key) & mask
        while true {
            let found = slots[slot]
            if found < 0 {
                let group = Int32(count)
                slots[slot] = group
                keys.append(key)
                return inserted(group)
            }
            if keys[Int(found)] == key { return found }
            slot = (slot + 1) & mask
        }
    }

    /// The group of a `width`-word key.
    mutating func group(_ key: UnsafeBufferPointer<Int64>) -> Int32 {
        let h = Self.hash(key)
        var slot = h & mask
        let width = self.width
        while true {
            let found = slots[slot]
            if found < 0 {
                let group = Int32(count)
                slots[slot] = group
                keys.append(contentsOf: key)
                hashes.append(h)
                return inserted(group)
            }
            if hashes[Int(found)] == h {
                let equal = keys.withUnsafeBufferPointer { keys in
                    let stored = keys.baseAddress! + Int(found) * width
                    for index in 0..<width where stored[index] != key[index] { return false }
                    return true
                }
                if equal { return found }
            }
            slot = (slot + 1) & mask
        }
    }

    /// Appends a group whose key is not findable by lookup (see `reserveGroup`).
    mutating func appendUnindexed(_ key: [Int64]) {
        keys.append(contentsOf: key)
        if width > 1 { hashes.append(0) }
        count += 1
        unindexed.insert(count - 1)
    }

    private mutating func inserted(_ group: Int32) -> Int32 {
        count += 1
        if count * 2 > slots.count { grow() }
        return group
    }

    private mutating func grow() {
        let size = slots.count * 2
        slots = Array(repeating: -1, count: size)
        mask = size - 1
        for group in 0..<count where unindexed.isEmpty || !unindexed.contains(group) {
            var slot = (width == 1 ? Self.hash(keys[group]) : hashes[group]) & mask
            while slots[slot] >= 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(group)
        }
    }
}
