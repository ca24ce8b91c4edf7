import CZlib

/// CRC-32 (ISO-HDLC, the polynomial of zlib and PNG), computed by the system zlib's `crc32()`.
/// Chosen because every language's standard library can check it (Python: `zlib.crc32`).
public enum Checksum {
    /// Check value: `crc32("123456789") == 0xCBF43926`.
    public static func crc32(_ bytes: UnsafeRawBufferPointer, seed: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return seed }
        var crc = UInt(seed)
        var offset = 0
        // zlib's length argument is a 32-bit uInt: feed it in bounded pieces.
        while offset < bytes.count {
            let pieceCount = min(bytes.count - offset, 1 << 30)
            crc = CZlib.crc32(crc, base.advanced(by: offset).assumingMemoryBound(to: UInt8.self), UInt32(pieceCount))
            offset += pieceCount
        }
        return UInt32(truncatingIfNeeded: crc)
    }

    public static func crc32(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { crc32($0) }
    }

    /// The CRC-32 of two pieces one after the other, from the CRC of each and the second's length: pieces
    /// checksummed in parallel give the checksum of the whole.
    public static func crc32Combine(_ first: UInt32, _ second: UInt32, secondLength: Int) -> UInt32 {
        UInt32(truncatingIfNeeded: CZlib.crc32_combine(UInt(first), UInt(second), Int(secondLength)))
    }
}
