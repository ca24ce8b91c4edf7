import StrataFormat

/// A batch of rows from a scan: the requested columns of (part of) one chunk.
public struct ScanBatch: Sendable {
    public var columns: [ColumnVector]
    public var rowCount: Int { columns.first?.count ?? 0 }
}

/// One chunk a scan reads: a segment of the scan (index into `readers`) and a chunk within it.
public struct ScanTask: Sendable, Equatable {
    public let segment: Int
    public let chunk: Int
}

/// The one way every layer reads a table (format-spec §8 row order). A scan is specified by columns,
/// value ranges and the store version it was opened at; opening it prunes partitions (by key) and chunks
/// (by zone map) and leaves the chunk tasks that may hold matching rows, in storage order.
///
/// - `dayRange` keeps exactly the rows whose partition column lies in it (it prunes and filters);
/// - `valueRanges` (by storage column index, inclusive) only prune: the caller filters rows itself
///   (the SQL engine evaluates its WHERE clause on what is left);
/// - `keptRanges` (by storage column index, inclusive) prune and filter, like `dayRange`: the
///   point-in-time engine reads one range of entities at a time this way.
///
/// Tasks are decoded with `batch(_:)` or column by column with `read(_:column:)`; both read immutable
/// state and may run on several threads at once (that is what makes the unchecked Sendable sound).
/// `next()` is a single-threaded cursor over the tasks, `load()` decodes them all in parallel.
public final class TableScan: @unchecked Sendable {
    public let table: TableManifest
    public let columnIndexes: [Int]
    public let readers: [SegmentReader]
    public let tasks: [ScanTask]
    public let segmentsTotal: Int
    /// Segments skipped by partition key, chunks skipped by zone map (for EXPLAIN-style reports).
    public let segmentsPruned: Int
    public let chunksPruned: Int
    public let dayRange: ClosedRange<Int64>?
    /// Every range a kept row lies in, by storage column: the day range and `keptRanges`.
    private let filters: [(column: Int, range: ClosedRange<Int64>)]
    private var cursor = 0

    /// - Parameters:
    ///   - columns: names to return, in this order; nil for all.
    ///   - dayRange: inclusive range of day numbers of the partition column; ignored for unpartitioned tables.
    ///   - valueRanges: allowed values (inclusive) of integer-like columns by storage index; an empty range
    ///     (lower > upper) means no row can match and nothing is read.
    ///   - keptRanges: ranges of integer-like columns by storage index that every returned row lies in.
    public convenience init(store: Store, table name: String, columns: [String]? = nil, dayRange: ClosedRange<Int64>? = nil,
                            valueRanges: [Int: (low: Int64, high: Int64)] = [:], keptRanges: [Int: ClosedRange<Int64>] = [:]) throws {
        try self.init(store: store, manifest: try store.table(name), name: name, columns: columns, dayRange: dayRange,
                      valueRanges: valueRanges, keptRanges: keptRanges)
    }

    /// A scan of a table whose manifest the caller already holds (of `store`'s version).
    public init(store: Store, manifest table: TableManifest, name: String, columns: [String]? = nil, dayRange: ClosedRange<Int64>? = nil,
                valueRanges: [Int: (low: Int64, high: Int64)] = [:], keptRanges: [Int: ClosedRange<Int64>] = [:]) throws {
        self.table = table
        let names = table.columns.map(\.name)
        columnIndexes = try (columns ?? names).map { column in
            guard let index = names.firstIndex(of: column) else { throw StorageError.unknownColumn(table: name, name: column, available: names) }
            return index
        }
        let partitionColumnIndex = table.partitionColumn.flatMap { names.firstIndex(of: $0) }
        let dayRange = partitionColumnIndex == nil ? nil : dayRange
        self.dayRange = dayRange
        var filters = keptRanges.sorted { $0.key < $1.key }.map { (column: $0.key, range: $0.value) }
        if let dayRange, let partitionColumnIndex { filters.insert((partitionColumnIndex, dayRange), at: 0) }
        self.filters = filters
        // Every constraint on a column, as one inclusive range per column.
        var ranges = valueRanges
        for (column, range) in filters {
            let current = ranges[column] ?? (Int64.min, Int64.max)
            ranges[column] = (max(current.low, range.lowerBound), min(current.high, range.upperBound))
        }
        segmentsTotal = table.segments.count
        var kept = table.segments
        if ranges.values.contains(where: { $0.low > $0.high }) {
            kept = []
        } else if table.partitioning == .month, let partitionColumnIndex, let range = ranges[partitionColumnIndex] {
            let low = range.low < Int64(Int32.min) ? Int.min : Dates.monthKey(dayNumber: Int(range.low))
            let high = range.high > Int64(Int32.max) ? Int.max : Dates.monthKey(dayNumber: Int(range.high))
            kept = kept.filter { $0.partition >= low && $0.partition <= high }
        }
        segmentsPruned = segmentsTotal - kept.count
        readers = try kept.map { try store.openSegment($0, of: table) }
        var tasks: [ScanTask] = []
        var pruned = 0
        for (segment, reader) in readers.enumerated() {
            for chunk in 0..<reader.chunkCount {
                let outside = ranges.contains { index, range in
                    let entry = reader.footer.chunk(column: index, chunk: chunk)
                    guard let low = entry.zoneMin, let high = entry.zoneMax else { return false }
                    return high < range.low || low > range.high
                }
                if outside { pruned += 1 } else { tasks.append(ScanTask(segment: segment, chunk: chunk)) }
            }
        }
        self.tasks = tasks
        chunksPruned = pruned
    }

    /// Rows stored in the task's chunk (before any day-range filter).
    public func rowCount(_ task: ScanTask) -> Int {
        Int(readers[task.segment].footer.chunk(column: 0, chunk: task.chunk).rowCount)
    }

    /// One column (by storage index) of the task's chunk, decoded whole.
    public func read(_ task: ScanTask, column: Int) throws -> ColumnVector {
        try readers[task.segment].read(column: column, chunk: task.chunk)
    }

    /// The requested columns of the rows of the task that the scan keeps; nil when none are kept.
    public func batch(_ task: ScanTask) throws -> ScanBatch? {
        let columns = try columnIndexes.map { try read(task, column: $0) }
        if filters.isEmpty { return rowCount(task) == 0 ? nil : ScanBatch(columns: columns) }
        var kept: [Int]?
        for (column, range) in filters {
            let vector = try columnIndexes.firstIndex(of: column).map { columns[$0] } ?? read(task, column: column)
            guard case .integers(let values) = vector.values else { preconditionFailure("a range on a column that decodes as non-integers") }
            // Usually every row of a chunk lies in the range: seen on the values (not the zone map, which
            // a damaged file could get wrong), no list of rows is made.
            if vector.validity == nil, values.allWithin(range) { continue }
            var rows = kept ?? Array(0..<rowCount(task))
            rows.removeAll { vector.isNull($0) || !range.contains(values[$0]) }
            kept = rows
        }
        guard let selected = kept else { return rowCount(task) == 0 ? nil : ScanBatch(columns: columns) }
        if selected.isEmpty { return nil }
        if selected.count == rowCount(task) { return ScanBatch(columns: columns) }
        return ScanBatch(columns: columns.map { $0.selecting(selected) })
    }

    /// The next non-empty batch in storage order, or nil at the end.
    public func next() throws -> ScanBatch? {
        while cursor < tasks.count {
            let task = tasks[cursor]
            cursor += 1
            if let batch = try batch(task) { return batch }
        }
        return nil
    }

    /// Every kept row of the requested columns, in storage order: chunks decode in parallel and are
    /// copied once into columns of the final size.
    public func load() throws -> [ColumnVector] {
        for reader in readers { reader.adviseSequential() }
        let types = columnIndexes.map { table.columns[$0].type }
        let parts = parallelMap(tasks.count) { index -> Result<ScanBatch?, Error> in Result { try self.batch(self.tasks[index]) } }
        let batches = try parts.compactMap { try $0.get() }
        if batches.isEmpty { return types.map { ColumnAccumulator(type: $0).finish() } }
        if batches.count == 1 { return batches[0].columns }
        let rowCount = batches.reduce(0) { $0 + $1.rowCount }
        // Columns are copied independently: one per core at a time (the copy was a serial tail after the
        // parallel decode).
        return parallelMap(types.count) { index in
            var accumulator = ColumnAccumulator(type: types[index], capacity: rowCount)
            for batch in batches { accumulator.append(batch.columns[index]) }
            return accumulator.finish()
        }
    }
}

/// Concatenates column vectors of one type.
public struct ColumnAccumulator {
    public let type: LogicalType
    var integers: [Int64] = []
    var floats: [Double] = []
    var strings = StringArray()
    var validity = Validity()
    var sawNull = false
    var count = 0

    public init(type: LogicalType, capacity: Int = 0) {
        self.type = type
        switch type {
        case .float64: floats.reserveCapacity(capacity)
        case .string: break
        default: integers.reserveCapacity(capacity)
        }
    }

    public mutating func append(_ column: ColumnVector) {
        switch column.values {
        case .integers(let values): integers.append(contentsOf: values)
        case .floats(let values): floats.append(contentsOf: values)
        case .strings(let values):
            for index in 0..<values.count { strings.append(Array(values[index])) }
        }
        if column.validity != nil || sawNull {
            if !sawNull {
                validity = Validity(allValid: count)
                sawNull = true
            }
            for row in 0..<column.count { validity.append(!column.isNull(row)) }
        }
        count += column.count
    }

    public func finish() -> ColumnVector {
        let values: ColumnValues
        switch type {
        case .float64: values = .floats(floats)
        case .string: values = .strings(strings)
        default: values = .integers(integers)
        }
        return ColumnVector(type: type, values: values, validity: sawNull ? validity : nil)
    }
}

extension ColumnVector {
    /// The rows at `indexes`, in that order (a filter's survivors, or a permutation when ingest clusters rows).
    public func selecting(_ indexes: [Int]) -> ColumnVector {
        let count = indexes.count
        var validityOut: Validity?
        if let validity {
            var bits = [UInt8](repeating: 0, count: (count + 7) >> 3)
            validity.bits.withUnsafeBufferPointer { source in
                bits.withUnsafeMutableBufferPointer { bits in
                    for (position, index) in indexes.enumerated() where source[index >> 3] & (1 << UInt8(index & 7)) != 0 {
                        bits[position >> 3] |= 1 << UInt8(position & 7)
                    }
                }
            }
            validityOut = Validity(bits: bits, count: count)
        }
        func gather<T>(_ all: [T]) -> [T] {
            all.withUnsafeBufferPointer { all in
                indexes.withUnsafeBufferPointer { indexes in
                    [T](unsafeUninitializedCapacity: count) { buffer, initialized in
                        for position in 0..<count { (buffer.baseAddress! + position).initialize(to: all[indexes[position]]) }
                        initialized = count
                    }
                }
            }
        }
        switch values {
        case .integers(let all): return ColumnVector(type: type, values: .integers(gather(all)), validity: validityOut)
        case .floats(let all): return ColumnVector(type: type, values: .floats(gather(all)), validity: validityOut)
        case .strings(let all):
            var strings = StringArray()
            var byteCount = 0
            for index in indexes { byteCount += Int(all.offsets[index + 1] - all.offsets[index]) }
            strings.reserveCapacity(count: count, bytes: byteCount)
            all.bytes.withUnsafeBytes { bytes in
                for index in indexes { strings.append(UnsafeRawBufferPointer(rebasing: bytes[Int(all.offsets[index])..<Int(all.offsets[index + 1])])) }
            }
            return ColumnVector(type: type, values: .strings(strings), validity: validityOut)
        }
    }
}
