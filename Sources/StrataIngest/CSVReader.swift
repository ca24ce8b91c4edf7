import StrataStorage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A field of the current record: a byte range in the reader's buffer (or its unescape scratch).
public struct CSVField {
    public var start: Int
    public var end: Int
    public var count: Int { end - start }
}

/// Streams RFC 4180 records from a file with memory bounded by `blockSizeBytes`, whatever the file size.
/// Handles a UTF-8 BOM, LF and CRLF line ends, quoted fields (with `""` escapes and embedded newlines),
/// and a missing final newline.
public final class CSVReader {
    public let path: String
    public static let blockSizeBytes = 8 << 20
    /// Longest record accepted: a record that does not fit in a block is rejected as malformed input.
    public static var recordSizeBytesMax: Int { blockSizeBytes }

    /// -1 in block mode (an in-memory block of whole records, owned by the caller).
    private let fd: Int32
    private var buffer: UnsafeMutableRawBufferPointer
    private let ownsBuffer: Bool
    private var filled = 0
    private var position = 0
    private var atEOF = false
    /// Unescaped copies of quoted fields that contained `""`; fields then point past `buffer.count`.
    private var scratch: [UInt8] = []
    /// 1-based line of the start of the record last returned.
    public private(set) var recordLine = 0
    private var nextLine = 1
    public private(set) var fields: [CSVField] = []

    public init(path: String) throws {
        self.path = path
        fd = try FileSystem.open(path, O_RDONLY)
        buffer = .allocate(byteCount: Self.blockSizeBytes + 1, alignment: 64)
        ownsBuffer = true
        fields.reserveCapacity(16)
        try fill()
        // A UTF-8 byte order mark is not part of the first field.
        if filled >= 3, buffer[0] == 0xEF, buffer[1] == 0xBB, buffer[2] == 0xBF { position = 3 }
    }

    /// Reads records from `block`, which holds whole records only (see `BlockSplitter`); line numbers
    /// count from 1 at the block's start.
    public init(block: UnsafeMutableRawBufferPointer, path: String) {
        self.path = path
        fd = -1
        buffer = block
        ownsBuffer = false
        filled = block.count
        atEOF = true
    }

    deinit {
        if ownsBuffer { buffer.deallocate() }
        if fd >= 0 { FileSystem.close(fd) }
    }

    /// Offset in the file of the next unread byte (file mode).
    public var fileOffset: Int { fileBytesBeforeBuffer + position }
    private var fileBytesBeforeBuffer = 0

    /// Offset in the file where the last returned record starts (file mode).
    public var recordFileOffset: Int { fileBytesBeforeBuffer + recordStart }

    /// Line terminators consumed so far (the line of the next record is this + 1).
    public var linesConsumed: Int { nextLine - 1 }

    /// Bytes of a field of the current record, valid until the next call to `next()`.
    @inline(__always) public func bytes(_ field: CSVField) -> UnsafeRawBufferPointer {
        if field.start >= buffer.count {
            return scratch.withUnsafeBytes { UnsafeRawBufferPointer(rebasing: $0[(field.start - buffer.count)..<(field.end - buffer.count)]) }
        }
        return UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[field.start..<field.end])
    }

    public func string(_ field: CSVField) -> String { String(decoding: bytes(field), as: UTF8.self) }

    /// The raw text of the current record (for reject reports), without its line end.
    public private(set) var recordStart = 0
    public private(set) var recordEnd = 0
    public func recordText() -> String {
        String(decoding: UnsafeRawBufferPointer(buffer)[recordStart..<recordEnd], as: UTF8.self)
    }

    /// Advances to the next record; false at end of file. Throws on I/O errors or a record over the limit.
    public func next() throws -> Bool {
        while true {
            if let outcome = parseRecord() {
                return outcome
            }
            // The record is incomplete: keep its bytes, read more behind them.
            if atEOF { preconditionFailure("parseRecord must finish at EOF") }
            if position == 0 && filled == Self.blockSizeBytes {
                throw IngestError.malformed(file: path, line: nextLine, column: nil, reason: "a record is longer than \(Self.blockSizeBytes) bytes (an unclosed quote?)")
            }
            compact()
            try fill()
        }
    }

    private func compact() {
        let remaining = filled - position
        if remaining > 0 && position > 0 {
            memmove(buffer.baseAddress!, buffer.baseAddress! + position, remaining)
        }
        fileBytesBeforeBuffer += position
        filled = remaining
        position = 0
    }

    private func fill() throws {
        while filled < Self.blockSizeBytes && !atEOF {
            let count = read(fd, buffer.baseAddress! + filled, Self.blockSizeBytes - filled)
            if count < 0 {
                if errno == EINTR { continue }
                throw StorageError.io(path: path, operation: "read", errno: errno)
            }
            if count == 0 { atEOF = true }
            filled += count
        }
    }

    /// Parses one record starting at `position`: true = parsed, false = clean end of file,
    /// nil = the buffer ends inside the record (and more input may follow).
    private func parseRecord() -> Bool? {
        let base = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let start = position
        if start >= filled { return atEOF ? false : nil }
        fields.removeAll(keepingCapacity: true)
        scratch.removeAll(keepingCapacity: true)
        unterminatedQuote = false
        var index = start
        var lines = 1
        while true {
            if index < filled && base[index] == UInt8(ascii: "\"") {
                // Quoted field: runs to the closing quote; `""` is an escaped quote.
                var scan = index + 1
                var hasEscapes = false
                while true {
                    guard scan < filled else { return atEOF ? finishUnterminatedQuote(start: start) : nil }
                    let byte = base[scan]
                    if byte == UInt8(ascii: "\"") {
                        if scan + 1 < filled && base[scan + 1] == UInt8(ascii: "\"") {
                            hasEscapes = true
                            scan += 2
                            continue
                        }
                        if scan + 1 >= filled && !atEOF { return nil }
                        break
                    }
                    if byte == UInt8(ascii: "\n") { lines += 1 }
                    scan += 1
                }
                if hasEscapes {
                    let scratchStart = buffer.count + scratch.count
                    var copy = index + 1
                    while copy < scan {
                        scratch.append(base[copy])
                        copy += base[copy] == UInt8(ascii: "\"") ? 2 : 1
                    }
                    fields.append(CSVField(start: scratchStart, end: buffer.count + scratch.count))
                } else {
                    fields.append(CSVField(start: index + 1, end: scan))
                }
                index = scan + 1
                // After a closing quote only a delimiter or a line end may follow; other bytes join the field's
                // record as a malformed tail that the caller reports via the field count.
                while index < filled && base[index] != UInt8(ascii: ",") && base[index] != UInt8(ascii: "\n") { index += 1 }
                if index >= filled && !atEOF { return nil }
            } else {
                let fieldStart = index
                let remaining = filled - index
                // memchr-free scan: fields are short, and the loop vectorises poorly anyway.
                var scan = index
                let end = index + remaining
                while scan < end {
                    let byte = base[scan]
                    if byte == UInt8(ascii: ",") || byte == UInt8(ascii: "\n") { break }
                    scan += 1
                }
                if scan >= end && !atEOF { return nil }
                var fieldEnd = scan
                if (scan >= end || base[scan] == UInt8(ascii: "\n")) && fieldEnd > fieldStart && base[fieldEnd - 1] == UInt8(ascii: "\r") {
                    fieldEnd -= 1
                }
                fields.append(CSVField(start: fieldStart, end: fieldEnd))
                index = scan
            }
            // index is at a delimiter, a line end, or the end of the file.
            if index < filled && base[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            var recordEnd = index
            if recordEnd > start && base[recordEnd - 1] == UInt8(ascii: "\r") { recordEnd -= 1 }
            self.recordStart = start
            self.recordEnd = recordEnd
            position = index < filled ? index + 1 : index
            recordLine = nextLine
            nextLine += lines
            return true
        }
    }

    /// At end of file inside a quoted field: the rest of the file is one (malformed) field.
    private func finishUnterminatedQuote(start: Int) -> Bool {
        fields.append(CSVField(start: start, end: filled))
        recordStart = start
        recordEnd = filled
        position = filled
        recordLine = nextLine
        unterminatedQuote = true
        return true
    }

    /// Set when the last record ended inside an unclosed quote.
    public private(set) var unterminatedQuote = false

    /// Whether the current record is a blank line (a single empty field).
    public var isBlankRecord: Bool { fields.count == 1 && fields[0].count == 0 }
}
