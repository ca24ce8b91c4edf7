import CStrataCRC
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

    /// The CRC-32 of A followed by B, from CRC(A), CRC(B) and B's length (zlib's crc32_combine).
    public static func combine(_ first: UInt32, _ second: UInt32, length: Int) -> UInt32 {
        UInt32(truncatingIfNeeded: crc32_combine(UInt(first), UInt(second), off_t(length)))
    }

    public static func crc32(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { crc32($0) }
    }

    /// CRC-32C (Castagnoli; check value `crc32c("123456789") == 0xE3069283`), with the CPU's crc32
    /// instruction where there is one: the content fingerprint of ingested files, where zlib's CRC-32
    /// would cost ingest a sixth of its time.
    public static func crc32c(_ bytes: UnsafeRawBufferPointer, seed: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return seed }
        return strata_crc32c(seed, base, bytes.count)
    }

    public static func crc32c(_ bytes: [UInt8]) -> UInt32 { bytes.withUnsafeBytes { crc32c($0) } }

    /// The CRC-32C of two pieces one after the other, from the CRC of each and the second's length: pieces
    /// checksummed in parallel give the checksum of the whole.
    public static func crc32cCombine(_ first: UInt32, _ second: UInt32, secondLength: Int) -> UInt32 {
        strata_crc32c_combine(first, second, UInt64(secondLength))
    }
}
