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

    /// One chunk to read (a task of the table's scan).
    typealias WorkItem = ScanTask

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

    /// The scan, once opened: partitions and chunks left after pruning by `ranges`.
    private(set) var scan: TableScan?

    init(name: String, manifest: TableManifest, columns: [Column], filter: BoundExpression?, ranges: [Int: ValueRange], slotCount: Int) {
        self.name = name
        self.manifest = manifest
        self.columns = columns
        self.filter = filter
        self.filterSlots = filter?.slots ?? []
        self.ranges = ranges
        self.slotCount = slotCount
    }

    var readers: [SegmentReader] { scan?.readers ?? [] }
    var workItems: [WorkItem] { scan?.tasks ?? [] }
    var segmentsTotal: Int { scan?.segmentsTotal ?? manifest.segments.count }
    var segmentsRead: Int { readers.count }
    var chunksRead: Int { workItems.count }
    var chunksPrunedByZoneMap: Int { scan?.chunksPruned ?? 0 }

    /// Opens the table's scan: the segments that partition pruning keeps and the chunks zone maps keep.
    func open(store: Store) throws {
        scan = try TableScan(store: store, manifest: manifest, name: name, columns: [], valueRanges: ranges.mapValues { ($0.low, $0.high) })
    }

    /// The rows of one chunk that pass this table's filter, in a batch laid out by slot; nil when none do.
    /// Filter columns are decoded first and the rest only when some row survives (late materialisation).
    func read(_ item: WorkItem, evaluator: Evaluator) throws -> Batch? {
        let scan = self.scan!
        var slots = [Vector?](repeating: nil, count: slotCount)
        var selection: [Int32]?
        let rowCount = scan.rowCount(item)
        if let filter {
            for column in columns where filterSlots.contains(column.slot) {
                slots[column.slot] = try Self.vector(scan.read(item, column: column.storageIndex))
            }
            let batch = Batch(columns: slots.map { $0 ?? Self.placeholder(rowCount) }, count: rowCount)
            selection = try evaluator.selection(filter, batch)
            if let selection, selection.isEmpty { return nil }
        }
        for column in columns where slots[column.slot] == nil {
            slots[column.slot] = try Self.vector(scan.read(item, column: column.storageIndex))
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
