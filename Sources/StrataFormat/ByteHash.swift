/// A fast, well-mixed 64-bit hash of a short byte string, for in-memory tables only (never stored: it may
/// change between versions). A multiply-xorshift over 8-byte words, the tail as one more word: a 44-byte
/// msno is six multiplies, where Swift's `Hasher` feeds a slice byte by byte.
public enum ByteHash {
    @inline(__always) public static func hash(_ key: UnsafeRawBufferPointer) -> UInt64 {
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
