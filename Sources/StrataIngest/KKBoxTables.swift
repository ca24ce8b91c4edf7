import Foundation
import StrataFormat
import StrataStorage

/// One stored column of a KKBox table and where its value comes from in a CSV record.
public struct ColumnSpec: Sendable {
    public enum Source: Sendable {
        /// The field at this position of the record.
        case field(Int)
        /// The same value for every row (the `--cutoff` of Kaggle's train.csv).
        case constant(Int64)
    }

    public var schema: ColumnSchema
    public var source: Source
}

/// A table Strata knows how to ingest: its CSV header, stored schema and partitioning.
public struct TableSpec: Sendable {
    public var name: String
    /// Kaggle's exact header, in Kaggle's column order.
    public var header: [String]
    public var columns: [ColumnSpec]
    public var partitionColumn: String?

    public var partitioning: Partitioning { partitionColumn == nil ? .none : .month }
    public var schemas: [ColumnSchema] { columns.map(\.schema) }
    public var partitionIndex: Int? { partitionColumn.flatMap { name in columns.firstIndex { $0.schema.name == name } } }
}

/// The KKBox churn tables (Sources/StrataIngest/README.md). Every column is int64 except msno (entity), gender (string),
/// total_secs (float64) and the dates; dirty values such as ages of 1034 or expiries before the
/// transaction are data, kept as they are; only text that is not a value of the type is rejected.
public enum KKBoxTables {
    static func column(_ name: String, _ type: LogicalType, nullable: Bool = false, _ index: Int) -> ColumnSpec {
        ColumnSpec(schema: ColumnSchema(name: name, type: type, nullable: nullable), source: .field(index))
    }

    /// Profiles change little and are small: one partition. Real members files leave gender empty for
    /// about 40% of users; the other attributes may be missing for users added by later dumps.
    public static let members = TableSpec(
        name: "members",
        header: ["msno", "city", "bd", "gender", "registered_via", "registration_init_time"],
        columns: [
            column("msno", .entity, 0),
            column("city", .int64, nullable: true, 1),
            column("bd", .int64, nullable: true, 2),
            column("gender", .string, nullable: true, 3),
            column("registered_via", .int64, nullable: true, 4),
            column("registration_init_time", .date, nullable: true, 5),
        ],
        partitionColumn: nil)

    public static let transactions = TableSpec(
        name: "transactions",
        header: [
            "msno", "payment_method_id", "payment_plan_days", "plan_list_price", "actual_amount_paid", "is_auto_renew",
            "transaction_date", "membership_expire_date", "is_cancel",
        ],
        columns: [
            column("msno", .entity, 0),
            column("payment_method_id", .int64, 1),
            column("payment_plan_days", .int64, 2),
            column("plan_list_price", .int64, 3),
            column("actual_amount_paid", .int64, 4),
            column("is_auto_renew", .int64, 5),
            column("transaction_date", .date, 6),
            column("membership_expire_date", .date, 7),
            column("is_cancel", .int64, 8),
        ],
        partitionColumn: "transaction_date")

    public static let userLogs = TableSpec(
        name: "user_logs",
        header: ["msno", "date", "num_25", "num_50", "num_75", "num_985", "num_100", "num_unq", "total_secs"],
        columns: [
            column("msno", .entity, 0),
            column("date", .date, 1),
            column("num_25", .int64, 2),
            column("num_50", .int64, 3),
            column("num_75", .int64, 4),
            column("num_985", .int64, 5),
            column("num_100", .int64, 6),
            column("num_unq", .int64, 7),
            column("total_secs", .float64, 8),
        ],
        partitionColumn: "date")

    /// `is_churn` is nullable so that unlabelled scoring sets (a cutoff per msno, no outcome yet) fit too.
    public static let labels = TableSpec(
        name: "labels",
        header: ["msno", "cutoff_date", "is_churn"],
        columns: [
            column("msno", .entity, 0),
            column("cutoff_date", .date, 1),
            column("is_churn", .int64, nullable: true, 2),
        ],
        partitionColumn: "cutoff_date")

    /// Randomised retention offers and their outcome (`strata generate` writes them; the uplift model
    /// learns from them): the offer's day, the discount in percent, and whether the user renewed.
    public static let campaigns = TableSpec(
        name: "campaigns",
        header: ["msno", "offer_date", "discount_pct", "renewed"],
        columns: [
            column("msno", .entity, 0),
            column("offer_date", .date, 1),
            column("discount_pct", .int64, 2),
            column("renewed", .int64, 3),
        ],
        partitionColumn: "offer_date")

    public static let all = [members, transactions, userLogs, labels, campaigns]

    /// Kaggle's train.csv / train_v2.csv: `msno,is_churn`, labels whose cutoff is given on the command line.
    public static let kaggleTrainHeader = ["msno", "is_churn"]

    public static func kaggleLabels(cutoffDay: Int64) -> TableSpec {
        var spec = labels
        spec.header = kaggleTrainHeader
        spec.columns = [
            column("msno", .entity, 0),
            ColumnSpec(schema: ColumnSchema(name: "cutoff_date", type: .date, nullable: false), source: .constant(cutoffDay)),
            column("is_churn", .int64, nullable: true, 1),
        ]
        return spec
    }

    public static func named(_ name: String) -> TableSpec? { all.first { $0.name == name } }

    /// The table a header names, or nil. `cutoffDay` is required for Kaggle's train.csv header.
    public static func recognise(header: [String], file: String, cutoffDay: Int64?) throws -> TableSpec? {
        if let spec = all.first(where: { $0.header == header }) { return spec }
        if header == kaggleTrainHeader {
            guard let cutoffDay else { throw IngestError.missingCutoff(file: file) }
            return kaggleLabels(cutoffDay: cutoffDay)
        }
        return nil
    }

    /// The KKBox table whose header shares most names with `header`, when it shares at least half of
    /// them: a misspelt column, one too many or one missing. Names compare without case and spaces.
    public static func nearest(header: [String]) -> (table: TableSpec, missing: [String], unexpected: [String])? {
        func key(_ name: String) -> String { name.trimmingCharacters(in: .whitespaces).lowercased() }
        let given = header.map(key)
        var best: (table: TableSpec, missing: [String], unexpected: [String], shared: Int)?
        for table in all + [kaggleLabels(cutoffDay: 0)] {
            let expected = table.header.map(key)
            let shared = expected.filter(given.contains).count
            guard shared >= 2 || expected.count == 2, shared * 2 >= expected.count, shared > (best?.shared ?? 0) else { continue }
            let missing = zip(table.header, expected).filter { !given.contains($0.1) }.map(\.0)
            let unexpected = zip(header, given).filter { !expected.contains($0.1) }.map { String($0.0.prefix(64)) }
            // Only a different order, or a difference of case or spaces: say so as well.
            best = (table, missing, unexpected, shared)
        }
        return best.map { ($0.table, $0.missing, $0.unexpected) }
    }

    public static var knownHeaders: [String] {
        all.map { "\($0.name): \($0.header.joined(separator: ","))" } + ["labels (Kaggle train.csv, with --cutoff): msno,is_churn"]
    }
}
