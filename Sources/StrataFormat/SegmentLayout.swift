/// The fixed structures of a segment file (format-spec §3). Each `encodedSizeBytes` mirrors a table in
/// the spec, and tests check the written bytes against those tables.

public enum SegmentMagic {
    public static let header: [UInt8] = Array("STRATSEG".utf8)
    public static let trailer: [UInt8] = Array("STRATEND".utf8)
    public static let formatVersion: UInt16 = 1
    public static let minReaderVersion: UInt16 = 1
    /// The newest minReaderVersion this build can read.
    public static let readerVersion: UInt16 = 1
    public static let blockAlignmentBytes = 64
}

/// Offset 0, 64 bytes.
public struct SegmentHeader: Equatable, Sendable {
    public static let encodedSizeBytes = 64
    public var rowCount: UInt64
    public var columnCount: UInt32
    public var chunkRowCount: UInt32

    public init(rowCount: UInt64, columnCount: UInt32, chunkRowCount: UInt32) {
        self.rowCount = rowCount
        self.columnCount = columnCount
        self.chunkRowCount = chunkRowCount
    }

    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: Self.encodedSizeBytes)
        writer.append(contentsOf: SegmentMagic.header)
        writer.append(SegmentMagic.formatVersion)
        writer.append(SegmentMagic.minReaderVersion)
        writer.append(UInt32(0))
        writer.append(rowCount)
        writer.append(columnCount)
        writer.append(chunkRowCount)
        writer.appendZeros(28)
        writer.append(Checksum.crc32(writer.bytes))
        precondition(writer.count == Self.encodedSizeBytes)
        return writer.bytes
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer) throws -> SegmentHeader {
        guard bytes.count >= encodedSizeBytes else { throw FormatError("file too short for a segment header (\(bytes.count) bytes)") }
        var reader = ByteReader(bytes)
        guard Array(try reader.slice(8, "magic")) == SegmentMagic.header else { throw FormatError("not a Strata segment (bad header magic)") }
        let storedCRC = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 60, as: UInt32.self))
        guard Checksum.crc32(UnsafeRawBufferPointer(rebasing: bytes[0..<60])) == storedCRC else {
            throw FormatError("segment header checksum mismatch")
        }
        _ = try reader.read(UInt16.self, "format version")
        let minReader = try reader.read(UInt16.self, "min reader version")
        guard minReader <= SegmentMagic.readerVersion else {
            throw FormatError.newerFormat(what: "segment", needs: Int(minReader), have: Int(SegmentMagic.readerVersion))
        }
        try reader.skipZeros(4, "header flags")
        let header = SegmentHeader(
            rowCount: try reader.read(UInt64.self, "row count"),
            columnCount: try reader.read(UInt32.self, "column count"),
            chunkRowCount: try reader.read(UInt32.self, "chunk row count"))
        try reader.skipZeros(28, "header reserved bytes")
        guard (1...UInt32(FormatLimits.columnCountMax)).contains(header.columnCount) else {
            throw FormatError("column count \(header.columnCount) out of range 1...\(FormatLimits.columnCountMax)")
        }
        guard (1...UInt32(FormatLimits.chunkRowCountMax)).contains(header.chunkRowCount) else {
            throw FormatError("chunk row count \(header.chunkRowCount) out of range")
        }
        guard header.rowCount <= UInt64(FormatLimits.segmentRowCountMax) else {
            throw FormatError("row count \(header.rowCount) exceeds \(FormatLimits.segmentRowCountMax)")
        }
        return header
    }

    public var chunkCount: Int {
        Int((rowCount + UInt64(chunkRowCount) - 1) / UInt64(chunkRowCount))
    }
}

/// Last 32 bytes of the file.
public struct SegmentTrailer: Equatable, Sendable {
    public static let encodedSizeBytes = 32
    public var footerOffset: UInt64
    public var footerSize: UInt32
    public var footerCRC: UInt32
    public var fileCRC: UInt32

    public init(footerOffset: UInt64, footerSize: UInt32, footerCRC: UInt32, fileCRC: UInt32) {
        self.footerOffset = footerOffset
        self.footerSize = footerSize
        self.footerCRC = footerCRC
        self.fileCRC = fileCRC
    }

    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: Self.encodedSizeBytes)
        writer.append(footerOffset)
        writer.append(footerSize)
        writer.append(footerCRC)
        writer.append(fileCRC)
        writer.append(Checksum.crc32(writer.bytes))
        writer.append(contentsOf: SegmentMagic.trailer)
        precondition(writer.count == Self.encodedSizeBytes)
        return writer.bytes
    }

    /// Decodes the trailer of a whole file and checks that the footer it points to lies inside it.
    public static func decode(file: UnsafeRawBufferPointer) throws -> SegmentTrailer {
        let minimum = SegmentHeader.encodedSizeBytes + encodedSizeBytes
        guard file.count >= minimum else { throw FormatError("file of \(file.count) bytes is too short for a segment (truncated?)") }
        let start = file.count - encodedSizeBytes
        let bytes = UnsafeRawBufferPointer(rebasing: file[start...])
        guard Array(bytes[24..<32]) == SegmentMagic.trailer else { throw FormatError("bad trailer magic (truncated or damaged file)") }
        var reader = ByteReader(bytes)
        let trailer = SegmentTrailer(
            footerOffset: try reader.read(UInt64.self, "footer offset"),
            footerSize: try reader.read(UInt32.self, "footer size"),
            footerCRC: try reader.read(UInt32.self, "footer checksum"),
            fileCRC: try reader.read(UInt32.self, "file checksum"))
        let storedCRC = try reader.read(UInt32.self, "trailer checksum")
        guard Checksum.crc32(UnsafeRawBufferPointer(rebasing: bytes[0..<20])) == storedCRC else {
            throw FormatError("segment trailer checksum mismatch")
        }
        guard trailer.footerOffset % UInt64(SegmentMagic.blockAlignmentBytes) == 0,
            trailer.footerOffset >= UInt64(SegmentHeader.encodedSizeBytes), trailer.footerOffset <= UInt64(start),
            UInt64(trailer.footerSize) == UInt64(start) - trailer.footerOffset
        else { throw FormatError("footer offset \(trailer.footerOffset) / size \(trailer.footerSize) do not fit a file of \(file.count) bytes") }
        return trailer
    }
}

/// One column's name and type in a segment footer (16 bytes on disk plus its name).
public struct ColumnDescriptor: Equatable, Sendable {
    public static let encodedSizeBytes = 16
    public var name: String
    public var type: LogicalType
    public var nullable: Bool

    public init(name: String, type: LogicalType, nullable: Bool) {
        self.name = name
        self.type = type
        self.nullable = nullable
    }
}

/// Where one block lives and how to decode it (64 bytes on disk).
public struct ChunkEntry: Equatable, Sendable {
    public static let encodedSizeBytes = 64
    public var offset: UInt64
    public var storedSizeBytes: UInt32
    public var encodedSizeBytes: UInt32
    public var rowCount: UInt32
    public var nullCount: UInt32
    public var blockCRC: UInt32
    public var encoding: Encoding
    public var codec: Codec
    public var zoneMin: Int64?
    public var zoneMax: Int64?

    public init(
        offset: UInt64, storedSizeBytes: UInt32, encodedSizeBytes: UInt32, rowCount: UInt32, nullCount: UInt32,
        blockCRC: UInt32, encoding: Encoding, codec: Codec, zoneMin: Int64?, zoneMax: Int64?
    ) {
        self.offset = offset
        self.storedSizeBytes = storedSizeBytes
        self.encodedSizeBytes = encodedSizeBytes
        self.rowCount = rowCount
        self.nullCount = nullCount
        self.blockCRC = blockCRC
        self.encoding = encoding
        self.codec = codec
        self.zoneMin = zoneMin
        self.zoneMax = zoneMax
    }

    func encode(into writer: inout ByteWriter) {
        writer.append(offset)
        writer.append(storedSizeBytes)
        writer.append(encodedSizeBytes)
        writer.append(rowCount)
        writer.append(nullCount)
        writer.append(blockCRC)
        writer.append(encoding.rawValue)
        writer.append(codec.rawValue)
        writer.append(UInt8(zoneMin == nil ? 0 : 1))
        writer.append(UInt8(0))
        writer.append(zoneMin ?? 0)
        writer.append(zoneMax ?? 0)
        writer.appendZeros(16)
    }

    static func decode(_ reader: inout ByteReader) throws -> ChunkEntry {
        let offset = try reader.read(UInt64.self, "chunk offset")
        let stored = try reader.read(UInt32.self, "stored size")
        let encoded = try reader.read(UInt32.self, "encoded size")
        let rows = try reader.read(UInt32.self, "chunk row count")
        let nulls = try reader.read(UInt32.self, "null count")
        let crc = try reader.read(UInt32.self, "block checksum")
        let encodingID = try reader.read(UInt8.self, "encoding")
        let codecID = try reader.read(UInt8.self, "codec")
        let zoneFlags = try reader.read(UInt8.self, "zone flags")
        try reader.skipZeros(1, "chunk entry reserved byte")
        let low = try reader.read(Int64.self, "zone min")
        let high = try reader.read(Int64.self, "zone max")
        try reader.skipZeros(16, "chunk entry reserved bytes")
        guard let encoding = Encoding(rawValue: encodingID) else { throw FormatError("unknown encoding id \(encodingID)") }
        guard let codec = Codec(rawValue: codecID) else { throw FormatError("unknown codec id \(codecID)") }
        guard zoneFlags <= 1 else { throw FormatError("unknown zone flags \(zoneFlags)") }
        guard Int(stored) <= FormatLimits.blockSizeBytesMax, Int(encoded) <= FormatLimits.blockSizeBytesMax else {
            throw FormatError("block sizes \(stored)/\(encoded) exceed \(FormatLimits.blockSizeBytesMax) bytes")
        }
        guard offset % UInt64(SegmentMagic.blockAlignmentBytes) == 0 else { throw FormatError("block offset \(offset) is not 64-aligned") }
        return ChunkEntry(
            offset: offset, storedSizeBytes: stored, encodedSizeBytes: encoded, rowCount: rows, nullCount: nulls, blockCRC: crc,
            encoding: encoding, codec: codec, zoneMin: zoneFlags == 1 ? low : nil, zoneMax: zoneFlags == 1 ? high : nil)
    }
}

/// The footer: column descriptors and a column-major table of chunk entries.
public struct SegmentFooter: Equatable, Sendable {
    public var columns: [ColumnDescriptor]
    public var chunkCount: Int
    /// Entry of column c, chunk k at `c * chunkCount + k`.
    public var chunks: [ChunkEntry]

    public init(columns: [ColumnDescriptor], chunkCount: Int, chunks: [ChunkEntry]) {
        precondition(chunks.count == columns.count * chunkCount)
        self.columns = columns
        self.chunkCount = chunkCount
        self.chunks = chunks
    }

    public func chunk(column: Int, chunk: Int) -> ChunkEntry { chunks[column * chunkCount + chunk] }

    public func encoded() -> [UInt8] {
        let names = columns.map { Array($0.name.utf8) }
        let nameAreaSize = names.reduce(0) { $0 + $1.count }
        var writer = ByteWriter(capacity: 16 + 16 * columns.count + 64 * chunks.count + nameAreaSize)
        writer.append(UInt32(columns.count))
        writer.append(UInt32(chunkCount))
        writer.append(UInt32(nameAreaSize))
        writer.append(UInt32(0))
        var nameOffset = 0
        for (column, name) in zip(columns, names) {
            precondition((1...FormatLimits.columnNameBytesMax).contains(name.count))
            writer.append(UInt32(nameOffset))
            writer.append(UInt16(name.count))
            writer.append(column.type.rawValue)
            writer.append(UInt8(column.nullable ? 1 : 0))
            writer.appendZeros(8)
            nameOffset += name.count
        }
        for entry in chunks { entry.encode(into: &writer) }
        for name in names { writer.append(contentsOf: name) }
        return writer.bytes
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer, header: SegmentHeader) throws -> SegmentFooter {
        var reader = ByteReader(bytes)
        let columnCount = Int(try reader.read(UInt32.self, "footer column count"))
        let chunkCount = Int(try reader.read(UInt32.self, "footer chunk count"))
        let nameAreaSize = Int(try reader.read(UInt32.self, "name area size"))
        try reader.skipZeros(4, "footer reserved bytes")
        guard columnCount == Int(header.columnCount) else { throw FormatError("footer has \(columnCount) columns, header \(header.columnCount)") }
        guard chunkCount == header.chunkCount else { throw FormatError("footer has \(chunkCount) chunks, header implies \(header.chunkCount)") }
        let expectedSize = 16 + 16 * columnCount + 64 * columnCount * chunkCount + nameAreaSize
        guard expectedSize == bytes.count else { throw FormatError("footer is \(bytes.count) bytes, its counts imply \(expectedSize)") }
        var rawColumns: [(offset: Int, length: Int, type: UInt8, flags: UInt8)] = []
        for _ in 0..<columnCount {
            let offset = Int(try reader.read(UInt32.self, "name offset"))
            let length = Int(try reader.read(UInt16.self, "name length"))
            let type = try reader.read(UInt8.self, "logical type")
            let flags = try reader.read(UInt8.self, "column flags")
            try reader.skipZeros(8, "column entry reserved bytes")
            rawColumns.append((offset, length, type, flags))
        }
        var chunks: [ChunkEntry] = []
        chunks.reserveCapacity(columnCount * chunkCount)
        for _ in 0..<(columnCount * chunkCount) { chunks.append(try ChunkEntry.decode(&reader)) }
        let nameArea = try reader.slice(nameAreaSize, "name area")
        var columns: [ColumnDescriptor] = []
        for raw in rawColumns {
            guard (1...FormatLimits.columnNameBytesMax).contains(raw.length), raw.offset + raw.length <= nameAreaSize else {
                throw FormatError("column name at \(raw.offset) length \(raw.length) is out of the name area")
            }
            guard let type = LogicalType(rawValue: raw.type) else { throw FormatError("unknown logical type id \(raw.type)") }
            guard raw.flags <= 1 else { throw FormatError("unknown column flags \(raw.flags)") }
            let name = String(decoding: nameArea[raw.offset..<(raw.offset + raw.length)], as: UTF8.self)
            columns.append(ColumnDescriptor(name: name, type: type, nullable: raw.flags == 1))
        }
        // Every chunk's row count follows from the header; a mismatch is damage.
        for column in 0..<columnCount {
            for chunk in 0..<chunkCount {
                let entry = chunks[column * chunkCount + chunk]
                let start = UInt64(chunk) * UInt64(header.chunkRowCount)
                let expected = min(UInt64(header.chunkRowCount), header.rowCount - start)
                guard UInt64(entry.rowCount) == expected else {
                    throw FormatError("column \(columns[column].name) chunk \(chunk) has \(entry.rowCount) rows, expected \(expected)")
                }
                guard columns[column].nullable || entry.nullCount == 0 else {
                    throw FormatError("column \(columns[column].name) is not nullable but chunk \(chunk) has nulls")
                }
            }
        }
        return SegmentFooter(columns: columns, chunkCount: chunkCount, chunks: chunks)
    }
}
