/// Open-addressing hash table from fixed-width keys (`width` Int64 words) to dense group indexes
/// 0, 1, 2, … in order of first appearance. Linear probing over a power-of-two slot array that is
/// kept at most half full.
struct GroupTable {
    let width: Int
    private(set) var keys: [Int64] = []
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

    var sizeBytes: Int { keys.capacity * 8 + slots.count * 4 }

    @inline(__always) static func hash(_ word: Int64) -> Int {
        // A multiplicative mix (Fibonacci hashing): good spread for dense ids and day numbers alike.
        Int(truncatingIfNeeded: (UInt64(bitPattern: word) &* 0x9E37_79B9_7F4A_7C15) >> 20)
    }

    /// The group of a one-word key, inserted when new.
    @inline(__always) mutating func group(_ key: Int64) -> Int32 {
        var slot = Self.hash(key) & mask
        while true {
            let found = slots[slot]
            if found < 0 {
                return insert(at: slot, { $0.append(key) })
            }
            if keys[Int(found)] == key { return found }
            slot = (slot + 1) & mask
        }
    }

    /// The group of a `width`-word key.
    mutating func group(_ key: UnsafeBufferPointer<Int64>) -> Int32 {
        var h: Int64 = 0
        for word in key { h = (h &* 31) &+ Int64(truncatingIfNeeded: Self.hash(word)) }
        var slot = Self.hash(h) & mask
        while true {
            let found = slots[slot]
            if found < 0 {
                return insert(at: slot, { $0.append(contentsOf: key) })
            }
            let base = Int(found) * width
            var equal = true
            for index in 0..<width where keys[base + index] != key[index] {
                equal = false
                break
            }
            if equal { return found }
            slot = (slot + 1) & mask
        }
    }

    /// Whether a one-word key is present, without inserting it.
    func contains(_ key: Int64) -> Bool {
        var slot = Self.hash(key) & mask
        while true {
            let found = slots[slot]
            if found < 0 { return false }
            if keys[Int(found)] == key { return true }
            slot = (slot + 1) & mask
        }
    }

    /// Appends a group whose key is not findable by lookup (see `reserveGroup`).
    mutating func appendUnindexed(_ key: [Int64]) {
        keys.append(contentsOf: key)
        count += 1
        unindexed.insert(count - 1)
    }

    private mutating func insert(at slot: Int, _ appendKey: (inout [Int64]) -> Void) -> Int32 {
        let group = Int32(count)
        slots[slot] = group
        appendKey(&keys)
        count += 1
        if count * 2 > slots.count { grow() }
        return group
    }

    private mutating func grow() {
        let size = slots.count * 2
        slots = Array(repeating: -1, count: size)
        mask = size - 1
        for group in 0..<count where !unindexed.contains(group) {
            var h: Int
            if width == 1 {
                h = Self.hash(keys[group])
            } else {
                var mixed: Int64 = 0
                for index in 0..<width { mixed = (mixed &* 31) &+ Int64(truncatingIfNeeded: Self.hash(keys[group * width + index])) }
                h = Self.hash(mixed)
            }
            var slot = h & mask
            while slots[slot] >= 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(group)
        }
    }
}
