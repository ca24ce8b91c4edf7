/// A growable little-endian byte buffer used to assemble encoded chunks and file structures.
public struct ByteWriter {
    public internal(set) var bytes: [UInt8]

    public init(capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public var count: Int { bytes.count }

    public mutating func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func append(_ value: Double) { append(value.bitPattern) }

    public mutating func append(contentsOf other: UnsafeRawBufferPointer) { bytes.append(contentsOf: other) }

    public mutating func append(contentsOf other: [UInt8]) { bytes.append(contentsOf: other) }

    public mutating func appendZeros(_ count: Int) {
        if count > 0 { bytes.append(contentsOf: repeatElement(0, count: count)) }
    }

    /// Zero-pads to the next multiple of `alignment` (a power of two) measured from `origin`.
    public mutating func pad(toMultipleOf alignment: Int, from origin: Int = 0) {
        let used = bytes.count - origin
        appendZeros((alignment - used % alignment) % alignment)
    }

    /// Overwrites bytes already written, for fields only known at the end (sizes, checksums).
    public mutating func patch<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        withUnsafeBytes(of: value.littleEndian) { raw in
            for index in 0..<raw.count { bytes[offset + index] = raw[index] }
        }
    }

    public mutating func reserveCapacity(_ count: Int) { bytes.reserveCapacity(count) }

    public mutating func removeAll(keepingCapacity: Bool = true) {
        bytes.removeAll(keepingCapacity: keepingCapacity)
    }
}

/// A bounds-checked little-endian reader over bytes that came from outside (a file, a decompressor).
/// Every read past the end throws instead of trapping, so damaged lengths become clear errors.
public struct ByteReader {
    public let buffer: UnsafeRawBufferPointer
    public var offset: Int

    public init(_ buffer: UnsafeRawBufferPointer, offset: Int = 0) {
        self.buffer = buffer
        self.offset = offset
    }

    public var remaining: Int { buffer.count - offset }

    public mutating func read<T: FixedWidthInteger>(_: T.Type = T.self, _ what: @autoclosure () -> String) throws -> T {
        let size = MemoryLayout<T>.size
        guard offset >= 0, size <= buffer.count - offset else {
            throw FormatError("truncated: \(what()) needs \(size) bytes at offset \(offset), only \(max(0, buffer.count - offset)) left")
        }
        let value = T(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: T.self))
        offset += size
        return value
    }

    /// Returns the next `count` bytes and advances past them.
    public mutating func slice(_ count: Int, _ what: @autoclosure () -> String) throws -> UnsafeRawBufferPointer {
        guard count >= 0, offset >= 0, count <= buffer.count - offset else {
            throw FormatError("truncated: \(what()) needs \(count) bytes at offset \(offset), only \(max(0, buffer.count - offset)) left")
        }
        let result = UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + count)])
        offset += count
        return result
    }

    public mutating func skipZeros(_ count: Int, _ what: @autoclosure () -> String) throws {
        let bytes = try slice(count, what())
        guard bytes.allSatisfy({ $0 == 0 }) else { throw FormatError("\(what()) must be zero") }
    }

    public mutating func align(to alignment: Int, from origin: Int, _ what: @autoclosure () -> String) throws {
        let used = offset - origin
        try skipZeros((alignment - used % alignment) % alignment, what())
    }
}
