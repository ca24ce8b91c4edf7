import StrataFormat
import StrataStorage

/// Some columns of a source table in memory, rows in storage order (format-spec §8), so a row's
/// position is its ingestion order within its partition.
struct LoadedTable {
    var columns: [ColumnVector]
    var rowCount: Int { columns.first?.count ?? 0 }

    /// Reads `columns` of `table`; with `dayRange`, only rows whose partition column lies in it, and with
    /// `entities`, only rows whose entity column (`columns[0]`) lies in that range of ids (partitions
    /// and chunks outside are skipped unread: in clustered segments one range of entities is a few
    /// chunks). Chunks decode in parallel.
    static func load(store: Store, table: String, columns: [String], dayRange: ClosedRange<Int64>?,
                     entities: ClosedRange<Int64>? = nil) throws -> LoadedTable {
        let manifest = try store.table(table)
        var kept: [Int: ClosedRange<Int64>] = [:]
        if let entities, let column = manifest.columns.firstIndex(where: { $0.name == columns[0] }) { kept[column] = entities }
        return LoadedTable(columns: try TableScan(store: store, manifest: manifest, name: table, columns: columns, dayRange: dayRange,
                                                  keptRanges: kept).load())
    }
}

extension ColumnVector {
    var integerValues: [Int64] {
        guard case .integers(let values) = values else { preconditionFailure("not an integer column") }
        return values
    }
}
