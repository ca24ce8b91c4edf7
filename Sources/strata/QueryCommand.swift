import ArgumentParser
import StrataQuery
import StrataStorage

/// `strata query`: SQL over the store (README, "Querying", lists the dialect).
struct QueryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Run a SQL query over the store; EXPLAIN SELECT … prints the plan and what pruning skips.")

    @OptionGroup var store: StoreOption
    @Argument(help: "The query, e.g. \"SELECT city, count(*) FROM members GROUP BY city ORDER BY city\".") var sql: String
    @Option(help: "Output: table, csv or json.") var format: OutputFormat = .table
    @Option(parsing: .unconditional, help: "Open this committed version instead of the latest.") var version: Int?
    @Option(name: .customLong("memory-limit"), parsing: .unconditional, help: "MiB that GROUP BY tables, join tables and rows held for ORDER BY may take.")
    var memoryLimitMiB = 4096

    /// The text table is laid out at the end, so it holds its rows; past this many it stops and says so.
    static let tableRowsMax = 10_000

    func validate() throws {
        if memoryLimitMiB < 1 || memoryLimitMiB > 1 << 30 { throw ValidationError("--memory-limit must be between 1 and \(1 << 30) (MiB)") }
        try validateStoreVersion(version)
    }

    func run() throws {
        let opened = try Store(path: store.path, version: version)
        do {
            let query = try Query(sql, store: opened, memoryLimitBytes: memoryLimitMiB << 20)
            if query.isExplain {
                // As text on a terminal; as a one-column table of lines for csv and json.
                let plan = query.explain()
                if format == .table {
                    print(plan, terminator: "")
                } else {
                    RowPrinter.print(header: ["plan"], rows: plan.split(separator: "\n").map { [String($0)] }, format: format)
                }
                return
            }
            let jsonKinds = query.columnTypes.map { type -> RowPrinter.JSONKind in
                switch type {
                case .varchar, .date: .string
                case .bigint, .double, .boolean: .literal
                case .null: .auto
                }
            }
            let printer = RowPrinter(header: query.columnNames, format: format, jsonKinds: jsonKinds)
            let columnCount = query.columnNames.count
            var printed = 0
            var total = 0
            try query.run { rows in
                // Past the table's cap the rest is only counted, so the note can say how many rows there were.
                for row in 0..<rows.count where format != .table || printed < Self.tableRowsMax {
                    printer.add(try (0..<columnCount).map { try rows.text(row: row, column: $0) })
                    printed += 1
                }
                total += rows.count
                return true
            }
            printer.finish()
            if total > printed { print("(first \(grouped(printed)) of \(grouped(total)) rows; add a LIMIT, or use --format csv for all)") }
        } catch let error as QueryError {
            Strata.fail(error.rendered(sql: sql))
        }
    }
}
