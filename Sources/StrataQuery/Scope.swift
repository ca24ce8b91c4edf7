import StrataFormat
import StrataStorage

/// A column of a FROM table, as the binder sees it.
struct SourceColumn {
    let tableName: String
    /// The alias, or the table name when there is none.
    let qualifier: String
    let name: String
    /// Index of the column in the table's schema.
    let storageIndex: Int
    let logicalType: LogicalType
    /// 0: the FROM table, 1: the joined table.
    let side: Int

    var type: SQLType { SQLType(logicalType) }
}

/// The columns the FROM clause makes visible, and the slots of the input layout that the query uses.
/// A slot is allocated the first time a column is referenced, so the scan decodes only what is used.
final class InputScope {
    let tables: [(reference: TableReference, manifest: TableManifest)]
    private(set) var columns: [SourceColumn] = []
    /// Slot -> column (index into `columns`).
    private(set) var slotColumns: [Int] = []
    private var slotOfColumn: [Int: Int] = [:]
    /// The column shared through USING, resolved to the FROM table's copy when unqualified.
    let usingColumn: String?
    /// When set, names without a qualifier resolve among the columns of this side only (a derived
    /// feature's `city` is the feature, `member.city` the group's column).
    var unqualifiedSide: Int?

    init(tables: [(reference: TableReference, manifest: TableManifest)], usingColumn: String?) {
        self.tables = tables
        self.usingColumn = usingColumn
        for (side, table) in tables.enumerated() {
            for (index, schema) in table.manifest.columns.enumerated() {
                columns.append(SourceColumn(tableName: table.reference.name, qualifier: (table.reference.alias ?? table.reference.name).lowercased(),
                                            name: schema.name, storageIndex: index, logicalType: schema.type, side: side))
            }
        }
    }

    var slotCount: Int { slotColumns.count }

    func column(ofSlot slot: Int) -> SourceColumn { columns[slotColumns[slot]] }

    /// The slot of a column already referenced, without allocating one.
    func existingSlot(forColumn index: Int) -> Int? { slotOfColumn[index] }

    func slot(forColumn index: Int) -> Int {
        if let slot = slotOfColumn[index] { return slot }
        slotColumns.append(index)
        slotOfColumn[index] = slotColumns.count - 1
        return slotColumns.count - 1
    }

    /// The columns `SELECT *` expands to: every column of the FROM table, then the joined table's
    /// columns except the USING column.
    var starColumns: [Int] {
        columns.indices.filter { columns[$0].side == 0 || columns[$0].name != usingColumn }
    }

    /// Resolves `[qualifier.]name` to a column index. Names match without regard to case, as in DuckDB
    /// (`"City"` is `city`).
    func resolve(qualifier: String?, name: String, position: Range<Int>) throws -> Int {
        let qualifier = qualifier?.lowercased()
        let name = name.lowercased()
        if let qualifier {
            guard let table = tables.first(where: { ($0.reference.alias ?? $0.reference.name).lowercased() == qualifier }) else {
                let names = tables.map { $0.reference.alias ?? $0.reference.name }
                throw QueryError("unknown table or alias '\(qualifier)'", at: position, hint: "in this query: \(names.joined(separator: ", "))")
            }
            guard let index = columns.firstIndex(where: { $0.qualifier == qualifier && $0.name.lowercased() == name }) else {
                throw QueryError("unknown column '\(name)' in \(qualifier)", at: position,
                                 hint: "columns of \(table.reference.name): \(table.manifest.columns.map(\.name).joined(separator: ", "))")
            }
            return index
        }
        let matches = columns.indices.filter { columns[$0].name.lowercased() == name && (unqualifiedSide == nil || columns[$0].side == unqualifiedSide) }
        if matches.isEmpty {
            let hint = tables.map { "columns of \($0.reference.name): \($0.manifest.columns.map(\.name).joined(separator: ", "))" }
            throw QueryError("unknown column '\(name)'", at: position, hint: hint.joined(separator: "\n"))
        }
        if matches.count > 1 && name != usingColumn?.lowercased() {
            throw QueryError("column '\(name)' is ambiguous: it is in both tables", at: position, hint: "qualify it, e.g. \(columns[matches[0]].qualifier).\(name)")
        }
        return matches[0]
    }
}
