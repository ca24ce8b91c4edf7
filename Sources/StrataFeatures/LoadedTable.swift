import StrataFormat
import StrataStorage

/// Some columns of a source table in memory, rows in storage order (format-spec §8), so a row's
/// position is its ingestion order within its partition.
struct LoadedTable {
    var columns: [ColumnVector]
    var rowCount: Int { columns.first?.count ?? 0 }

    /// Reads `columns` of `table`; with `dayRange`, only rows whose partition column lies in it
    /// (partitions and chunks outside are skipped unread). Chunks decode in parallel.
    static func load(store: Store, table: String, columns: [String], dayRange: ClosedRange<Int64>?) throws -> LoadedTable {
        LoadedTable(columns: try TableScan(store: store, table: table, columns: columns, dayRange: dayRange).load())
    }
}

extension ColumnVector {
    var integerValues: [Int64] {
        guard case .integers(let values) = values else { preconditionFailure("not an integer column") }
        return values
    }
}
