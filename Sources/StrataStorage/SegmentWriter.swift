import Dispatch
import StrataFormat

/// What a written segment contributes to a manifest.
public struct WrittenSegment: Sendable {
    public var relativePath: String
    public var rowCount: Int
    public var sizeBytes: Int
    public var fileCRC: UInt32
}

/// Writes one immutable segment file (format-spec §3) from in-memory columns.
public enum SegmentWriter {
    /// Encodes every column chunk (in parallel: chunks are independent) and writes the file with a
    /// single sequential pass, then fsyncs it. The file must not exist yet.
    public static func write(
        columns: [ColumnVector], descriptors: [ColumnDescriptor], to path: String, relativePath: String,
        policy: CompressionPolicy, chunkRowCount: Int = FormatLimits.defaultChunkRowCount
    ) throws -> WrittenSegment {
        precondition(columns.count == descriptors.count && !columns.isEmpty)
        let rowCount = columns[0].count
        precondition(columns.allSatisfy { $0.count == rowCount })
        for (column, descriptor) in zip(columns, descriptors) {
            precondition(column.type == descriptor.type && (descriptor.nullable || column.nullCount == 0), "column \(descriptor.name) does not match its descriptor")
        }
        let chunkCount = (rowCount + chunkRowCount - 1) / chunkRowCount
        let jobCount = columns.count * chunkCount
        // Each chunk is encoded and its CRC taken on all cores; the file's running CRC combines them.
        let encoded = ParallelSlots<(chunk: EncodedChunk, crc: UInt32)>(count: jobCount)
        DispatchQueue.concurrentPerform(iterations: jobCount) { job in
            let column = job / chunkCount
            let chunk = job % chunkCount
            let rows = (chunk * chunkRowCount)..<min(rowCount, (chunk + 1) * chunkRowCount)
            let result = ChunkEncoder.encode(columns[column], rows: rows, policy: policy)
            encoded[job] = (result, Checksum.crc32(result.stored))
        }

        let file = try BufferedFileWriter(path: path)
        do {
            let header = SegmentHeader(rowCount: UInt64(rowCount), columnCount: UInt32(columns.count), chunkRowCount: UInt32(chunkRowCount))
            try file.write(header.encoded())
            var entries: [ChunkEntry] = []
            entries.reserveCapacity(jobCount)
            for job in 0..<jobCount {
                let (chunk, crc) = encoded[job]!
                try file.writeZeros(paddingBytes(after: file.offset))
                let entry = ChunkEntry(
                    offset: UInt64(file.offset), storedSizeBytes: UInt32(chunk.stored.count), encodedSizeBytes: UInt32(chunk.encodedSizeBytes),
                    rowCount: UInt32(chunk.rowCount), nullCount: UInt32(chunk.nullCount), blockCRC: crc,
                    encoding: chunk.encoding, codec: chunk.codec, zoneMin: chunk.zone?.min, zoneMax: chunk.zone?.max)
                try file.write(chunk.stored, crc: crc)
                entries.append(entry)
                encoded[job] = nil
            }
            try file.writeZeros(paddingBytes(after: file.offset))
            let footer = SegmentFooter(columns: descriptors, chunkCount: chunkCount, chunks: entries).encoded()
            let footerOffset = file.offset
            try file.write(footer)
            let trailer = SegmentTrailer(
                footerOffset: UInt64(footerOffset), footerSize: UInt32(footer.count), footerCRC: Checksum.crc32(footer),
                fileCRC: file.runningCRC)
            try file.write(trailer.encoded())
            try file.finish()
            return WrittenSegment(relativePath: relativePath, rowCount: rowCount, sizeBytes: file.offset, fileCRC: trailer.fileCRC)
        } catch {
            file.abandon()
            throw error
        }
    }

    static func paddingBytes(after offset: Int) -> Int {
        let alignment = SegmentMagic.blockAlignmentBytes
        return (alignment - offset % alignment) % alignment
    }
}
