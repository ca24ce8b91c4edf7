import CLZ4
import CZstd

/// Thin wrappers over the system's liblz4 and libzstd block APIs.
public enum Compression {
    /// Zstd level for `auto` and `zstd`: level 3 is zstd's default balance of speed and size.
    public static let zstdLevel: Int32 = 3

    /// Compresses `input` with `codec`; `.none` returns nil (the caller stores the input itself).
    public static func compress(_ input: UnsafeRawBufferPointer, codec: Codec) -> [UInt8]? {
        switch codec {
        case .none:
            return nil
        case .lz4:
            let bound = Int(LZ4_compressBound(Int32(input.count)))
            var output = [UInt8](repeating: 0, count: bound)
            let written = output.withUnsafeMutableBytes { out in
                // LZ4_compress_default(src, dst, srcSize, dstCapacity): bytes written, 0 on failure.
                LZ4_compress_default(
                    input.baseAddress?.assumingMemoryBound(to: CChar.self),
                    out.baseAddress!.assumingMemoryBound(to: CChar.self),
                    Int32(input.count), Int32(bound))
            }
            precondition(written > 0 || input.count == 0, "LZ4_compress_default failed with a sufficient bound")
            output.removeSubrange(Int(written)...)
            return output
        case .zstd:
            let bound = ZSTD_compressBound(input.count)
            var output = [UInt8](repeating: 0, count: bound)
            let written = output.withUnsafeMutableBytes { out in
                // ZSTD_compress(dst, dstCapacity, src, srcSize, level): frame size or an error code.
                ZSTD_compress(out.baseAddress, bound, input.baseAddress, input.count, zstdLevel)
            }
            precondition(ZSTD_isError(written) == 0, "ZSTD_compress failed with a sufficient bound")
            output.removeSubrange(written...)
            return output
        }
    }

    /// Decompresses `input` into `output`, which must be exactly the expected decoded size.
    /// Throws when the bytes are not a valid stream of that size.
    public static func decompress(_ input: UnsafeRawBufferPointer, codec: Codec, into output: UnsafeMutableRawBufferPointer) throws {
        switch codec {
        case .none:
            guard input.count == output.count else {
                throw FormatError("stored size \(input.count) differs from encoded size \(output.count) for an uncompressed block")
            }
            if input.count > 0 { output.copyMemory(from: input) }
        case .lz4:
            // LZ4_decompress_safe never writes past dstCapacity and returns < 0 on malformed input.
            let produced = LZ4_decompress_safe(
                input.baseAddress?.assumingMemoryBound(to: CChar.self),
                output.baseAddress?.assumingMemoryBound(to: CChar.self),
                Int32(input.count), Int32(output.count))
            guard produced == output.count else {
                throw FormatError("LZ4 block does not decompress to \(output.count) bytes (result \(produced))")
            }
        case .zstd:
            let produced = ZSTD_decompress(output.baseAddress, output.count, input.baseAddress, input.count)
            if ZSTD_isError(produced) != 0 {
                throw FormatError("zstd frame is damaged: \(String(cString: ZSTD_getErrorName(produced)))")
            }
            guard produced == output.count else {
                throw FormatError("zstd frame decompresses to \(produced) bytes, expected \(output.count)")
            }
        }
    }
}
