import ArgumentParser
import Foundation
import StrataFormat
import StrataFeatures
import StrataQuery
import StrataStorage
import StrataTrain

struct Tables: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the tables of the store with their sizes.")

    @OptionGroup var store: StoreOption
    @Option(help: "Open this committed version instead of the latest.") var version: Int?
    @Option(help: "Output: table, csv or json.") var format: OutputFormat = .table

    func run() throws {
        let opened = try Store(path: store.path, version: version)
        let header = ["table", "rows", "partitions", "segments", "bytes", "csv_bytes", "ratio"]
        let rows: [[String?]] = try opened.tableNames.map { name in
            let table = try opened.table(name)
            return [name, String(table.rowCount), String(table.partitions.count), String(table.segments.count), String(table.sizeBytes),
                    String(table.sourceBytes), table.sourceBytes > 0 ? String(format: "%.3f", Double(table.sizeBytes) / Double(table.sourceBytes)) : nil]
        }
        if format == .table { print("store \(store.path), version \(opened.version), \(grouped(opened.manifest.entities.count)) entities (msno)") }
        RowPrinter.print(header: header, rows: rows, format: format)
    }
}

struct Describe: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Schema, partitions, rows, bytes per column, encodings and the ratio to the CSV of one table.")

    @OptionGroup var store: StoreOption
    @Argument(help: "Table name.") var table: String
    @Option(help: "Open this committed version instead of the latest.") var version: Int?
    @Option(help: "Output: table, csv or json.") var format: OutputFormat = .table

    func run() throws {
        let opened = try Store(path: store.path, version: version)
        let description = try opened.describe(table)
        let manifest = description.manifest
        func summary(_ counts: [String: Int]) -> String {
            counts.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { "\($0.key)×\($0.value)" }.joined(separator: " ")
        }
        let rowCount = manifest.rowCount
        let columnRows: [[String?]] = description.columns.map { column in
            [column.schema.name, column.schema.type.name, column.schema.nullable ? "yes" : "no", String(column.nullCount), String(column.storedBytes),
             String(format: "%.2f", column.bitsPerRow(rowCount: rowCount)), summary(column.encodings), summary(column.codecs)]
        }
        let columnHeader = ["column", "type", "nullable", "nulls", "bytes", "bits/row", "encodings (chunks)", "codecs (chunks)"]
        if format != .table {
            RowPrinter.print(header: columnHeader, rows: columnRows, format: format)
            return
        }
        let ratio = description.diskToSourceRatio.map { String(format: "%.3f", $0) } ?? "n/a"
        print("table \(table) (store version \(opened.version))")
        print("  rows \(grouped(rowCount)), \(manifest.segments.count) segments, \(grouped(manifest.sizeBytes)) bytes on disk; "
            + "CSV ingested \(grouped(manifest.sourceBytes)) bytes; disk/CSV ratio \(ratio)")
        print("  partitioned by \(manifest.partitionColumn.map { "\($0) (monthly)" } ?? "nothing (one partition)")")
        print("")
        RowPrinter.print(header: columnHeader, rows: columnRows, format: .table)
        print("")
        RowPrinter.print(
            header: ["partition", "segments", "rows", "bytes"],
            rows: description.partitions.map { [String($0.key), String($0.segments), String($0.rows), String($0.bytes)] }, format: .table)
    }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check every checksum of every file of every version; exit 1 with a report on damage.")

    @OptionGroup var store: StoreOption

    func run() throws {
        let started = Date()
        let report = try Store.verify(path: store.path, checks: [FeatureStoreVerifier.check, RunVerifier.check])
        let seconds = -started.timeIntervalSinceNow
        print("checked \(report.manifestsChecked) manifests, \(report.filesChecked) files, \(grouped(report.blocksChecked)) blocks, "
            + "\(humanBytes(report.bytesChecked)) in \(String(format: "%.2f", seconds)) s")
        if !report.orphans.isEmpty {
            print("\(report.orphans.count) uncommitted files (left by an interrupted write; `strata gc` deletes them):")
            for orphan in report.orphans.prefix(20) { print("  \(orphan)") }
        }
        for note in report.notes { print("note: \(note)") }
        if report.isClean {
            print("ok: no damage found")
            return
        }
        print("DAMAGE: \(report.problems.count) problems")
        for problem in report.problems { print("  \(problem)") }
        throw ExitCode(1)
    }
}

struct GC: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc", abstract: "Delete files no committed version uses (left by writes killed before their commit).")

    @OptionGroup var store: StoreOption
    @Flag(name: .customLong("dry-run"), help: "Only list them.") var dryRun = false

    func run() throws {
        let (files, bytes) = try Store.collectGarbage(path: store.path, dryRun: dryRun)
        for file in files { print("  \(file)") }
        print("\(dryRun ? "would delete" : "deleted") \(files.count) uncommitted files, \(humanBytes(bytes))")
    }
}

struct Scan: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print rows of a table, optionally a date range and some columns.")

    @OptionGroup var store: StoreOption
    @Argument(help: "Table name.") var table: String
    @Option(help: "Comma-separated columns (default: all).") var columns: String?
    @Option(help: "First day to include, YYYYMMDD (on the table's partition column).") var from: String?
    @Option(help: "Last day to include, YYYYMMDD.") var to: String?
    @Option(help: "Print at most this many rows (table format default: 50).") var limit: Int?
    @Option(help: "Output: table, csv or json.") var format: OutputFormat = .table
    @Option(help: "Open this committed version instead of the latest.") var version: Int?
    @Flag(help: "Print the row count and each column's non-null count and sum instead of the rows (a full-column scan).")
    var summary = false

    func validate() throws {
        if let limit, limit < 0 { throw ValidationError("--limit must be zero or positive") }
        if let from { _ = try dayNumber(from, flag: "--from") }
        if let to { _ = try dayNumber(to, flag: "--to") }
    }

    func run() throws {
        let opened = try Store(path: store.path, version: version)
        let names = columns.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
        let low = try from.map { try dayNumber($0, flag: "--from") } ?? Int64(Int32.min)
        let high = try to.map { try dayNumber($0, flag: "--to") } ?? Int64(Int32.max)
        let scan = try TableScan(store: opened, table: table, columns: names, dayRange: from == nil && to == nil ? nil : low...max(low, high) )
        if low > high {
            RowPrinter.print(header: scan.columnIndexes.map { scan.table.columns[$0].name }, rows: [], format: format)
            return
        }
        if summary {
            try printSummary(scan)
            return
        }
        let needsEntities = scan.columnIndexes.contains { scan.table.columns[$0].type == .entity }
        let entities = needsEntities ? try opened.loadEntities() : nil
        let header = scan.columnIndexes.map { scan.table.columns[$0].name }
        let limit = self.limit ?? (format == .table ? 50 : Int.max)
        let printer = RowPrinter(header: header, format: format)
        var printed = 0
        var truncated = false
        batches: while let batch = try scan.next() {
            for row in 0..<batch.rowCount {
                if printed >= limit {
                    truncated = true
                    break batches
                }
                printer.add(batch.columns.map { column in ValueText.cell(column, row: row) { id in entities.map { Int(id) < $0.count ? $0.string(Int(id)) : "#\(id)" } ?? "#\(id)" } })
                printed += 1
            }
        }
        printer.finish()
        if truncated && format == .table { print("(first \(limit) rows; use --limit N or --format csv for more)") }
    }

    /// Decodes every selected column in full and prints its row count, non-null count and sum.
    func printSummary(_ scan: TableScan) throws {
        let started = Date()
        let summary = try TableSummary.compute(scan)
        let seconds = -started.timeIntervalSinceNow
        let rows: [[String?]] = summary.columns.map { column in
            [column.schema.name, String(summary.rowCount), String(column.nonNull), column.sum.flatMap(ValueText.scalar)]
        }
        RowPrinter.print(header: ["column", "rows", "non_null", "sum"], rows: rows, format: format)
        if format == .table {
            print(String(format: "scanned %@ rows in %.3f s", grouped(summary.rowCount), seconds))
        }
    }
}
