import StrataFormat
import StrataStorage

/// One table of a query: the columns to decode into which slots, and the value ranges WHERE allows for
/// some columns, which prune partitions (by key) and chunks (by zone map) before anything is decoded.
final class TableSource: @unchecked Sendable {
    struct Column {
        let storageIndex: Int
        let slot: Int
        let logicalType: LogicalType
    }

    /// One chunk to read: segment (index into `readers`) and chunk within it.
    struct WorkItem {
        let segment: Int
        let chunk: Int
    }

    let name: String
    let manifest: TableManifest
    let columns: [Column]
    /// Slots read first, to evaluate `filter` before the other columns are decoded.
    let filterSlots: Set<Int>
    /// Conjuncts of WHERE that read this table only, applied while scanning it.
    let filter: BoundExpression?
    /// Allowed values per storage column (inclusive), from `column op constant` conjuncts.
    let ranges: [Int: ValueRange]
    let slotCount: Int

    private(set) var readers: [SegmentReader] = []
    private(set) var workItems: [WorkItem] = []
    private(set) var segmentsTotal = 0
    private(set) var chunksPrunedByZoneMap = 0

    init(name: String, manifest: TableManifest, columns: [Column], filter: BoundExpression?, ranges: [Int: ValueRange], slotCount: Int) {
        self.name = name
        self.manifest = manifest
        self.columns = columns
        self.filter = filter
        self.filterSlots = filter?.slots ?? []
        self.ranges = ranges
        self.slotCount = slotCount
    }

    var segmentsRead: Int { readers.count }
    var chunksRead: Int { workItems.count }

    /// Opens the segments that partition pruning keeps and lists the chunks zone maps keep.
    func open(store: Store) throws {
        segmentsTotal = manifest.segments.count
        var kept = manifest.segments
        if ranges.values.contains(where: \.isEmpty) {
            // WHERE can hold for no row (say, an msno no table has): nothing to read.
            readers = []
            workItems = []
            return
        }
        if manifest.partitioning == .month, let column = manifest.partitionColumn,
           let index = manifest.columns.firstIndex(where: { $0.name == column }), let range = ranges[index] {
            let low = range.low < Int64(Int32.min) ? Int.min : Dates.monthKey(dayNumber: Int(range.low))
            let high = range.high > Int64(Int32.max) ? Int.max : Dates.monthKey(dayNumber: Int(range.high))
            kept = range.isEmpty ? [] : kept.filter { $0.partition >= low && $0.partition <= high }
        }
        readers = try kept.map { try store.openSegment($0, of: manifest) }
        workItems = []
        for (segment, reader) in readers.enumerated() {
            for chunk in 0..<reader.chunkCount {
                if isPruned(reader, chunk: chunk) {
                    chunksPrunedByZoneMap += 1
                } else {
                    workItems.append(WorkItem(segment: segment, chunk: chunk))
                }
            }
        }
    }

    private func isPruned(_ reader: SegmentReader, chunk: Int) -> Bool {
        for (index, range) in ranges {
            let entry = reader.footer.chunk(column: index, chunk: chunk)
            guard let low = entry.zoneMin, let high = entry.zoneMax else { continue }
            if range.isEmpty || high < range.low || low > range.high { return true }
        }
        return false
    }

    /// The rows of one chunk that pass this table's filter, in a batch laid out by slot; nil when none do.
    /// Filter columns are decoded first and the rest only when some row survives (late materialisation).
    func read(_ item: WorkItem, evaluator: Evaluator) throws -> Batch? {
        let reader = readers[item.segment]
        var slots = [Vector?](repeating: nil, count: slotCount)
        var selection: [Int32]?
        let rowCount = Int(reader.footer.chunk(column: 0, chunk: item.chunk).rowCount)
        if let filter {
            for column in columns where filterSlots.contains(column.slot) {
                slots[column.slot] = try Self.vector(reader.read(column: column.storageIndex, chunk: item.chunk))
            }
            let batch = Batch(columns: slots.map { $0 ?? Self.placeholder(rowCount) }, count: rowCount)
            selection = try evaluator.selection(filter, batch)
            if let selection, selection.isEmpty { return nil }
        }
        for column in columns where slots[column.slot] == nil {
            slots[column.slot] = try Self.vector(reader.read(column: column.storageIndex, chunk: item.chunk))
        }
        let batch = Batch(columns: slots.map { $0 ?? Self.placeholder(rowCount) }, count: rowCount)
        guard let selection else { return rowCount == 0 ? nil : batch }
        return batch.gather(selection)
    }

    static func placeholder(_ count: Int) -> Vector { .constant(.null, type: .null, count: count) }

    /// A decoded chunk as a query vector: validity bits become a NULL mask, msno stays an entity id.
    static func vector(_ column: ColumnVector) -> Vector {
        let count = column.count
        var nulls: [Bool]?
        if let validity = column.validity {
            nulls = (0..<count).map { !validity.isValid($0) }
        }
        let type = SQLType(column.type)
        switch column.values {
        case .integers(let values):
            return Vector(type: type, values: column.type == .entity ? .entities(values) : .integers(values), nulls: nulls, count: count)
        case .floats(let values):
            return Vector(type: type, values: .doubles(values), nulls: nulls, count: count)
        case .strings(let strings):
            return Vector(type: type, values: .strings((0..<count).map { strings.string(at: $0) }), nulls: nulls, count: count)
        }
    }
}
