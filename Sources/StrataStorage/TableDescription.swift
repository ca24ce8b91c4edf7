import StrataFormat

/// What a table is made of, from its manifest and its segments' footers (nothing is decoded): the
/// numbers `strata describe` prints.
public struct TableDescription: Sendable {
    public struct Column: Sendable {
        public var schema: ColumnSchema
        /// Bytes of the column's blocks on disk (after compression), and before compression.
        public var storedBytes = 0
        public var encodedBytes = 0
        public var nullCount = 0
        /// Chunks per encoding and per codec.
        public var encodings: [String: Int] = [:]
        public var codecs: [String: Int] = [:]

        /// Stored bits per row of the table.
        public func bitsPerRow(rowCount: Int) -> Double { rowCount > 0 ? Double(storedBytes) * 8 / Double(rowCount) : 0 }
    }

    public struct Partition: Sendable {
        public var key: Int
        public var segments = 0
        public var rows = 0
        public var bytes = 0
    }

    public var name: String
    public var manifest: TableManifest
    public var columns: [Column]
    /// Partitions by key, ascending.
    public var partitions: [Partition]

    /// Bytes on disk per byte of CSV ingested; nil for tables not ingested from CSV.
    public var diskToSourceRatio: Double? {
        manifest.sourceBytes > 0 ? Double(manifest.sizeBytes) / Double(manifest.sourceBytes) : nil
    }
}

extension Store {
    /// Reads the footers of every segment of `table` (checked as any read is) and sums them per column
    /// and per partition.
    public func describe(_ table: String) throws -> TableDescription {
        let manifest = try self.table(table)
        var columns = manifest.columns.map { TableDescription.Column(schema: $0) }
        var partitions: [Int: TableDescription.Partition] = [:]
        for segment in manifest.segments {
            let reader = try openSegment(segment, of: manifest)
            partitions[segment.partition, default: .init(key: segment.partition)].segments += 1
            partitions[segment.partition]!.rows += segment.rowCount
            partitions[segment.partition]!.bytes += segment.sizeBytes
            for column in columns.indices {
                for chunk in 0..<reader.chunkCount {
                    let entry = reader.footer.chunk(column: column, chunk: chunk)
                    columns[column].storedBytes += Int(entry.storedSizeBytes)
                    columns[column].encodedBytes += Int(entry.encodedSizeBytes)
                    columns[column].nullCount += Int(entry.nullCount)
                    columns[column].encodings[entry.encoding.description, default: 0] += 1
                    columns[column].codecs[entry.codec.description, default: 0] += 1
                }
            }
        }
        return TableDescription(name: table, manifest: manifest, columns: columns, partitions: partitions.keys.sorted().map { partitions[$0]! })
    }
}
