import StrataFormat

/// An open, memory-mapped segment. Opening checks the header, trailer and footer; each column chunk is
/// checked against its block CRC when it is read, so damage surfaces as `StorageError.corrupt`.
public final class SegmentReader: @unchecked Sendable {
    public let path: String
    public let header: SegmentHeader
    public let trailer: SegmentTrailer
    public let footer: SegmentFooter
    private let file: MappedFile

    public init(path: String) throws {
        self.path = path
        file = try MappedFile(path: path)
        do {
            let bytes = file.bytes
            guard bytes.count > 0 else { throw FormatError("file is empty (0 bytes): it was truncated") }
            header = try SegmentHeader.decode(bytes)
            trailer = try SegmentTrailer.decode(file: bytes)
            let footerBytes = UnsafeRawBufferPointer(rebasing: bytes[Int(trailer.footerOffset)..<(Int(trailer.footerOffset) + Int(trailer.footerSize))])
            guard Checksum.crc32(footerBytes) == trailer.footerCRC else { throw FormatError("footer checksum mismatch") }
            footer = try SegmentFooter.decode(footerBytes, header: header)
            for entry in footer.chunks where entry.offset + UInt64(entry.storedSizeBytes) > trailer.footerOffset {
                throw FormatError("a block at \(entry.offset) runs past the footer")
            }
        } catch let error as FormatError {
            throw StorageError.corrupt(file: path, column: nil, chunk: nil, reason: error.message)
        }
    }

    public var rowCount: Int { Int(header.rowCount) }
    public var chunkCount: Int { footer.chunkCount }
    public var columns: [ColumnDescriptor] { footer.columns }

    public func columnIndex(named name: String) -> Int? { footer.columns.firstIndex { $0.name == name } }

    /// Decodes chunk `chunk` of column `column`, after checking the block's CRC.
    public func read(column: Int, chunk: Int) throws -> ColumnVector {
        let entry = footer.chunk(column: column, chunk: chunk)
        let descriptor = footer.columns[column]
        let block = UnsafeRawBufferPointer(rebasing: file.bytes[Int(entry.offset)..<(Int(entry.offset) + Int(entry.storedSizeBytes))])
        do {
            guard Checksum.crc32(block) == entry.blockCRC else { throw FormatError("block checksum mismatch") }
            let shape = ChunkShape(
                type: descriptor.type, encoding: entry.encoding, codec: entry.codec, encodedSizeBytes: Int(entry.encodedSizeBytes),
                rowCount: Int(entry.rowCount), nullCount: Int(entry.nullCount))
            return try ChunkDecoder.decode(block, shape: shape)
        } catch let error as FormatError {
            throw StorageError.corrupt(file: path, column: descriptor.name, chunk: chunk, reason: error.message)
        }
    }

    /// CRC of every byte before the trailer; `verify` compares it with the trailer and the manifest.
    public func computeFileCRC() -> UInt32 {
        Checksum.crc32(UnsafeRawBufferPointer(rebasing: file.bytes[0..<(file.bytes.count - SegmentTrailer.encodedSizeBytes)]))
    }

    public func adviseSequential() { file.adviseSequential() }
}
