import StrataFormat

/// An open, memory-mapped segment. Opening checks the header, trailer and footer; each column chunk is
/// checked against its block CRC when it is read, so damage surfaces as `StorageError.corrupt`.
public final class SegmentReader: @unchecked Sendable {
    public let path: String
    public let header: SegmentHeader
    public let trailer: SegmentTrailer
    public let footer: SegmentFooter
    /// Entity ids must be below this (the store's entity count); nil when the caller has no dictionary.
    public let entityCount: Int?
    private let file: MappedFile

    /// Opens and checks `path`. With `entityCount`, every entity id is checked against it: the zone maps
    /// here, every value when a chunk is read (ids index memory further up, so a lie must stop here).
    public init(path: String, entityCount: Int? = nil) throws {
        self.path = path
        self.entityCount = entityCount
        file = try MappedFile(path: path)
        do {
            let bytes = file.bytes
            guard bytes.count > 0 else { throw FormatError("file is empty (0 bytes): it was truncated") }
            header = try SegmentHeader.decode(bytes)
            trailer = try SegmentTrailer.decode(file: bytes)
            let footerBytes = UnsafeRawBufferPointer(rebasing: bytes[Int(trailer.footerOffset)..<(Int(trailer.footerOffset) + Int(trailer.footerSize))])
            guard Checksum.crc32(footerBytes) == trailer.footerCRC else { throw FormatError("footer checksum mismatch") }
            footer = try SegmentFooter.decode(footerBytes, header: header)
            for entry in footer.chunks where entry.offset > trailer.footerOffset || UInt64(entry.storedSizeBytes) > trailer.footerOffset - entry.offset {
                throw FormatError("a block at \(entry.offset) runs past the footer")
            }
            if let entityCount {
                for (column, descriptor) in footer.columns.enumerated() where descriptor.type == .entity {
                    for chunk in 0..<footer.chunkCount {
                        if let high = footer.chunk(column: column, chunk: chunk).zoneMax, high >= Int64(entityCount) {
                            throw FormatError("column \(descriptor.name) block \(chunk): entity ids up to \(high), but the store has \(entityCount) entities")
                        }
                    }
                }
            }
        } catch let error as FormatError {
            throw StorageError.from(error, file: path)
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
            let vector = try ChunkDecoder.decode(block, shape: shape)
            if let entityCount, descriptor.type == .entity, case .integers(let ids) = vector.values {
                try Self.checkEntityIds(ids, below: Int64(entityCount))
            }
            return vector
        } catch let error as FormatError {
            throw StorageError.from(error, file: path, column: descriptor.name, chunk: chunk)
        }
    }

    /// CRC of every byte before the trailer; `verify` compares it with the trailer and the manifest.
    public func computeFileCRC() -> UInt32 {
        Checksum.crc32(UnsafeRawBufferPointer(rebasing: file.bytes[0..<(file.bytes.count - SegmentTrailer.encodedSizeBytes)]))
    }

    public func adviseSequential() { file.adviseSequential() }

    /// Gives back the memory of chunk `chunk` of column `column`'s stored block (see `MappedFile.release`),
    /// for one pass over a file larger than it needs to keep (the entity dictionary's load).
    public func release(column: Int, chunk: Int) {
        let entry = footer.chunk(column: column, chunk: chunk)
        file.release(Int(entry.offset)..<(Int(entry.offset) + Int(entry.storedSizeBytes)))
    }

    /// Throws unless every id is in `0 ..< count` (NULL slots decode as 0, which is always below a count > 0).
    static func checkEntityIds(_ ids: [Int64], below count: Int64) throws {
        var high: Int64 = -1
        ids.withUnsafeBufferPointer { for id in $0 where id > high { high = id } }
        if high >= count { throw FormatError("entity id \(high) is not below the store's \(count) entities") }
    }
}
