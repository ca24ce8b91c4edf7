import Foundation

/// One line of `strata tables` (and of `GET /v1/tables`): a table's size against its CSV.
public struct TableListing: Codable, Equatable, Sendable {
    public var table: String
    public var rows: Int
    public var partitions: Int
    public var segments: Int
    public var bytes: Int
    /// Bytes of the CSV files ingested into it; nil for derived tables (training sets, predictions, logs).
    public var csvBytes: Int?
    /// Stored bytes over CSV bytes.
    public var ratio: Double?
    /// `ingested` or `derived`.
    public var kind: String
}

extension Store {
    /// Every table of this version, by name.
    public func tableListing() throws -> [TableListing] {
        try tableNames.map { name in
            let table = try self.table(name)
            let derived = table.lineage != nil
            return TableListing(table: name, rows: table.rowCount, partitions: table.partitions.count, segments: table.segments.count,
                                bytes: table.sizeBytes, csvBytes: derived ? nil : table.sourceBytes,
                                ratio: table.sourceBytes > 0 ? Double(table.sizeBytes) / Double(table.sourceBytes) : nil,
                                kind: derived ? "derived" : "ingested")
        }
    }
}
