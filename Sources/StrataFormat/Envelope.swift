/// The checksummed-file envelope (format-spec §14) that manifests, online tables and model files share:
///
///     magic[8] | format_version u16 | min_reader_version u16 | payload_size u32 | payload | crc32 u32
///
/// The CRC-32 covers every byte before it. `payload_size` is the payload's size, or 0xFFFFFFFF for a
/// payload of 4 GiB or more, whose size is then the file's size minus 20. A reader refuses a file whose
/// minimum reader version is above its own before it looks at the payload.
public enum Envelope {
    public static let headerSizeBytes = 16
    public static let trailerSizeBytes = 4
    /// The size field's value for payloads too large for it.
    static let largePayload = UInt32.max

    /// What `open` found: the versions and where the payload lies in the file.
    public struct Opened: Sendable {
        public var formatVersion: UInt16
        public var minReaderVersion: UInt16
        public var payload: Range<Int>
    }

    /// The header of a file whose payload is `payloadSize` bytes (the payload and CRC follow it).
    public static func header(magic: [UInt8], formatVersion: UInt16, minReaderVersion: UInt16, payloadSize: Int) -> [UInt8] {
        precondition(magic.count == 8)
        var writer = ByteWriter(capacity: headerSizeBytes)
        writer.append(contentsOf: magic)
        writer.append(formatVersion)
        writer.append(minReaderVersion)
        writer.append(payloadSize >= Int(largePayload) ? largePayload : UInt32(payloadSize))
        return writer.bytes
    }

    /// The whole file: header, payload, CRC.
    public static func seal(magic: [UInt8], formatVersion: UInt16, minReaderVersion: UInt16, payload: [UInt8]) -> [UInt8] {
        var writer = ByteWriter(capacity: headerSizeBytes + payload.count + trailerSizeBytes)
        writer.append(contentsOf: header(magic: magic, formatVersion: formatVersion, minReaderVersion: minReaderVersion, payloadSize: payload.count))
        writer.append(contentsOf: payload)
        writer.append(Checksum.crc32(writer.bytes))
        return writer.bytes
    }

    /// Checks the magic, the CRC, the reader version and the payload size of `bytes`; `what` names the
    /// kind of file in errors ("manifest", "model file", "online table").
    public static func open(_ bytes: UnsafeRawBufferPointer, magic: [UInt8], readerVersion: UInt16, what: String,
                            payloadBytesMax: Int = Int.max) throws -> Opened {
        guard bytes.count >= headerSizeBytes + trailerSizeBytes, bytes.starts(with: magic) else {
            throw FormatError("not a Strata \(what) (bad magic or \(bytes.count) bytes)")
        }
        let stored = bytes.loadUnaligned(fromByteOffset: bytes.count - trailerSizeBytes, as: UInt32.self).littleEndian
        guard Checksum.crc32(UnsafeRawBufferPointer(rebasing: bytes[0..<(bytes.count - trailerSizeBytes)])) == stored else {
            throw FormatError("\(what) checksum mismatch")
        }
        let formatVersion = bytes.loadUnaligned(fromByteOffset: 8, as: UInt16.self).littleEndian
        let minReader = bytes.loadUnaligned(fromByteOffset: 10, as: UInt16.self).littleEndian
        guard minReader <= readerVersion else {
            throw FormatError.newerFormat(what: what, needs: Int(minReader), have: Int(readerVersion))
        }
        let field = bytes.loadUnaligned(fromByteOffset: 12, as: UInt32.self).littleEndian
        let available = bytes.count - headerSizeBytes - trailerSizeBytes
        let size = field == largePayload ? available : Int(field)
        guard size == available, field != largePayload || available >= Int(largePayload), size <= payloadBytesMax else {
            throw FormatError("\(what) payload size \(field) does not match a file of \(bytes.count) bytes")
        }
        return Opened(formatVersion: formatVersion, minReaderVersion: minReader, payload: headerSizeBytes..<(headerSizeBytes + size))
    }

    /// The CRC-32 an envelope stores (of every byte before its trailer): what a manifest records for a file.
    /// (A CRC over the whole file, its own CRC included, is the same constant for every file.)
    public static func storedCRC(_ bytes: [UInt8]) -> UInt32 { bytes.withUnsafeBytes { storedCRC($0) } }

    public static func storedCRC(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        bytes.count < trailerSizeBytes ? 0 : Checksum.crc32(UnsafeRawBufferPointer(rebasing: bytes[0..<(bytes.count - trailerSizeBytes)]))
    }
}
