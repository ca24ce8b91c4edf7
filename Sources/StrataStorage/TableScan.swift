import StrataFormat

/// A batch of rows from a scan: the requested columns of (part of) one chunk.
public struct ScanBatch: Sendable {
    public var columns: [ColumnVector]
    public var rowCount: Int { columns.first?.count ?? 0 }
}

/// A throwing cursor over a table's rows in storage order (format-spec §8), optionally limited to a
/// date range of its partition column. Partitions and chunks outside the range are skipped unread,
/// using the partition keys and the chunks' zone maps.
///
/// `next()` is a single-threaded cursor; `forEachBatch(inSegment:)` reads only immutable state and may run
/// for different segments on several threads at once (that is what makes the unchecked Sendable sound).
public final class TableScan: @unchecked Sendable {
    public let table: TableManifest
    public let columnIndexes: [Int]
    /// Chunks skipped by zone maps, and segments skipped by partition key (for EXPLAIN-style reports).
    public private(set) var chunksPruned = 0
    public private(set) var segmentsPruned = 0
    private let store: Store
    private let dayRange: ClosedRange<Int64>?
    private let partitionColumnIndex: Int?
    private var segments: [SegmentEntry]
    private var segmentIndex = 0
    private var reader: SegmentReader?
    private var chunk = 0

    /// - Parameters:
    ///   - columns: names to return, in this order; nil for all.
    ///   - dayRange: inclusive range of day numbers of the partition column; ignored for unpartitioned tables.
    public init(store: Store, table name: String, columns: [String]? = nil, dayRange: ClosedRange<Int64>? = nil) throws {
        self.store = store
        table = try store.table(name)
        let names = table.columns.map(\.name)
        columnIndexes = try (columns ?? names).map { column in
            guard let index = names.firstIndex(of: column) else { throw StorageError.unknownColumn(table: name, name: column, available: names) }
            return index
        }
        partitionColumnIndex = table.partitionColumn.flatMap { names.firstIndex(of: $0) }
        self.dayRange = partitionColumnIndex == nil ? nil : dayRange
        segments = table.segments
        if let dayRange = self.dayRange {
            let firstKey = Dates.monthKey(dayNumber: Int(dayRange.lowerBound))
            let lastKey = Dates.monthKey(dayNumber: Int(dayRange.upperBound))
            let kept = segments.filter { (firstKey...lastKey).contains($0.partition) }
            segmentsPruned = segments.count - kept.count
            segments = kept
        }
    }

    /// The next non-empty batch, or nil at the end.
    public func next() throws -> ScanBatch? {
        while true {
            if reader == nil {
                guard segmentIndex < segments.count else { return nil }
                reader = try store.openSegment(segments[segmentIndex], of: table)
                chunk = 0
            }
            guard let current = reader, chunk < current.chunkCount else {
                reader = nil
                segmentIndex += 1
                continue
            }
            let chunkIndex = chunk
            chunk += 1
            if isPruned(current, chunk: chunkIndex) {
                chunksPruned += 1
                continue
            }
            if let batch = try read(current, chunk: chunkIndex), batch.rowCount > 0 { return batch }
        }
    }

    /// Segments left to read after partition pruning.
    public var segmentCount: Int { segments.count }

    /// Calls `body` with every non-empty batch of segment `index`, in order.
    public func forEachBatch(inSegment index: Int, _ body: (ScanBatch) throws -> Void) throws {
        let reader = try store.openSegment(segments[index], of: table)
        for chunk in 0..<reader.chunkCount where !isPruned(reader, chunk: chunk) {
            if let batch = try read(reader, chunk: chunk), batch.rowCount > 0 { try body(batch) }
        }
    }

    /// Opens every segment left after partition pruning, in scan order.
    public func openSegments() throws -> [SegmentReader] {
        try segments.map { entry in
            let reader = try store.openSegment(entry, of: table)
            // Whole segments are about to be read: let the kernel read ahead.
            reader.adviseSequential()
            return reader
        }
    }

    /// The rows of one chunk of an opened segment that the scan keeps (nil when pruned or empty).
    /// Safe to call from several threads at once.
    public func batch(_ reader: SegmentReader, chunk: Int) throws -> ScanBatch? {
        guard !isPruned(reader, chunk: chunk), let batch = try read(reader, chunk: chunk), batch.rowCount > 0 else { return nil }
        return batch
    }

    /// Whether the chunk's zone map puts it wholly outside the date range.
    private func isPruned(_ reader: SegmentReader, chunk: Int) -> Bool {
        guard let dayRange, let partitionColumnIndex else { return false }
        let entry = reader.footer.chunk(column: partitionColumnIndex, chunk: chunk)
        guard let low = entry.zoneMin, let high = entry.zoneMax else { return false }
        return high < dayRange.lowerBound || low > dayRange.upperBound
    }

    private func read(_ reader: SegmentReader, chunk: Int) throws -> ScanBatch? {
        guard let dayRange, let partitionColumnIndex else {
            return ScanBatch(columns: try columnIndexes.map { try reader.read(column: $0, chunk: chunk) })
        }
        let days = try reader.read(column: partitionColumnIndex, chunk: chunk)
        guard case .integers(let values) = days.values else { preconditionFailure("date column decoded as non-integers") }
        let selected = values.indices.filter { !days.isNull($0) && dayRange.contains(values[$0]) }
        let columns = try columnIndexes.map { try reader.read(column: $0, chunk: chunk) }
        if selected.count == values.count { return ScanBatch(columns: columns) }
        return ScanBatch(columns: columns.map { $0.selecting(selected) })
    }
}

extension ColumnVector {
    /// The rows at `indexes`, in that order.
    public func selecting(_ indexes: [Int]) -> ColumnVector {
        var validityOut: Validity?
        if let validity {
            var selected = Validity()
            for index in indexes { selected.append(validity.isValid(index)) }
            validityOut = selected
        }
        switch values {
        case .integers(let all): return ColumnVector(type: type, values: .integers(indexes.map { all[$0] }), validity: validityOut)
        case .floats(let all): return ColumnVector(type: type, values: .floats(indexes.map { all[$0] }), validity: validityOut)
        case .strings(let all):
            var strings = StringArray()
            for index in indexes { strings.bytes.append(contentsOf: all[index]); strings.offsets.append(UInt32(strings.bytes.count)) }
            return ColumnVector(type: type, values: .strings(strings), validity: validityOut)
        }
    }
}
