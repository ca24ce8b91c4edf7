import ArgumentParser
import Foundation
import StrataFormat
import StrataFeatures
import StrataQuery
import StrataMonitor
import StrataStorage
import StrataTrain

struct Tables: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the tables of the store with their sizes.")

    @OptionGroup var store: StoreOption
    @Option(parsing: .unconditional, help: "Open this committed version instead of the latest.") var version: Int?
    @Option(help: "Output: table, csv or json.") var format: OutputFormat = .table

    func validate() throws { try validateStoreVersion(version) }

    func run() throws {
        let opened = try Store(path: store.path, version: version)
        let header = ["table", "rows", "partitions", "segments", "bytes", "csv_bytes", "ratio", "kind"]
        let rows: [[String?]] = try opened.tableListing().map { table in
            [table.table, String(table.rows), String(table.partitions), String(table.segments), String(table.bytes),
             table.csvBytes.map(String.init), table.ratio.map { String(format: "%.3f", $0) }, table.kind]
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
    @Option(parsing: .unconditional, help: "Open this committed version instead of the latest.") var version: Int?
    @Option(help: "Output: table, csv or json.") var format: OutputFormat = .table

    func validate() throws { try validateStoreVersion(version) }

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
        if format == .csv {
            RowPrinter.print(header: ["column", "type", "nullable", "nulls", "bytes", "bits_per_row", "encodings", "codecs"], rows: columnRows, format: format)
            return
        }
        if format == .json {
            struct Column: Encodable { var name, type: String; var nullable: Bool; var nulls, bytes: Int; var bitsPerRow: Double; var encodings, codecs: [String: Int] }
            struct Partition: Encodable { var partition, segments, rows, bytes: Int }
            struct Output: Encodable {
                var table: String; var storeVersion, rows, segments, bytes: Int; var kind: String; var sourceBytes: Int?
                var partitionColumn: String?; var lineage: Lineage?; var sourceFiles: [SourceFile]?; var columns: [Column]; var partitions: [Partition]
            }
            try JSONOutput.print(Output(
                table: table, storeVersion: opened.version, rows: rowCount, segments: manifest.segments.count, bytes: manifest.sizeBytes,
                kind: manifest.lineage == nil ? "ingested" : "derived", sourceBytes: manifest.lineage == nil ? manifest.sourceBytes : nil,
                partitionColumn: manifest.partitionColumn, lineage: try manifest.featureLineage(), sourceFiles: manifest.sourceFiles,
                columns: description.columns.map {
                    Column(name: $0.schema.name, type: $0.schema.type.name, nullable: $0.schema.nullable, nulls: $0.nullCount, bytes: $0.storedBytes,
                           bitsPerRow: $0.bitsPerRow(rowCount: rowCount), encodings: $0.encodings, codecs: $0.codecs)
                },
                partitions: description.partitions.map { Partition(partition: $0.key, segments: $0.segments, rows: $0.rows, bytes: $0.bytes) }))
            return
        }
        let columnHeader = ["column", "type", "nullable", "nulls", "bytes", "bits/row", "encodings (chunks)", "codecs (chunks)"]
        print("table \(table) (store version \(opened.version))")
        if manifest.lineage != nil {
            // A derived table: where it came from instead of CSV figures it never had.
            print("  rows \(grouped(rowCount)), \(manifest.segments.count) segments, \(grouped(manifest.sizeBytes)) bytes on disk; derived, not ingested")
            if let lineage = try manifest.featureLineage(), let model = lineage.model {
                print("  lineage: predictions of model \(model) (\(lineage.runId ?? "?")) with feature view \(lineage.featureView) v\(lineage.featureViewVersion), "
                    + (lineage.asOf.map { "every entity as of \($0)" } ?? "the rows of \(lineage.labelsTable)") + " at store version \(lineage.storeVersion)")
            } else if let lineage = try manifest.featureLineage() {
                print("  lineage: \(lineage.kind) from feature view \(lineage.featureView) v\(lineage.featureViewVersion) (hash \(lineage.featureViewHash)) "
                    + "and labels \(lineage.labelsTable) (\(grouped(lineage.labelsRowCount)) rows) at store version \(lineage.storeVersion), \(lineage.semantics)")
            }
        } else {
            let ratio = description.diskToSourceRatio.map { String(format: "%.3f", $0) } ?? "n/a"
            print("  rows \(grouped(rowCount)), \(manifest.segments.count) segments, \(grouped(manifest.sizeBytes)) bytes on disk; "
                + "CSV ingested \(grouped(manifest.sourceBytes)) bytes; disk/CSV ratio \(ratio)")
            for file in manifest.sourceFiles ?? [] {
                print("  from \(file.name) (\(grouped(file.sizeBytes)) bytes, CRC-32C \(String(file.crc32c, radix: 16)), \(grouped(file.rows)) rows) at version \(file.version)")
            }
        }
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
    @Option(help: "Output: table, csv or json.") var format: OutputFormat = .table

    func run() throws {
        let started = Date()
        let report = try Store.verify(path: store.path, checks: [FeatureStoreVerifier.check, RunVerifier.check, DriftVerifier.check])
        let seconds = -started.timeIntervalSinceNow
        struct Output: Encodable {
            var ok: Bool
            var manifests, files, blocks, bytes: Int
            var seconds: Double
            var problems, uncommittedFiles, notes: [String]
        }
        let output = Output(ok: report.isClean, manifests: report.manifestsChecked, files: report.filesChecked, blocks: report.blocksChecked,
                            bytes: report.bytesChecked, seconds: seconds, problems: report.problems, uncommittedFiles: report.orphans, notes: report.notes)
        try RecordPrinter(format: format).print(output, fields: [
            ("ok", String(report.isClean)), ("manifests", String(output.manifests)), ("files", String(output.files)), ("blocks", String(output.blocks)),
            ("bytes", String(output.bytes)), ("problems", String(report.problems.count)), ("uncommitted_files", String(report.orphans.count)),
        ]) {
            print("checked \(report.manifestsChecked) manifests, \(report.filesChecked) files, \(grouped(report.blocksChecked)) blocks, "
                + "\(humanBytes(report.bytesChecked)) in \(String(format: "%.2f", seconds)) s")
            if !report.orphans.isEmpty {
                print("\(report.orphans.count) uncommitted files (left by an interrupted write; `strata gc` deletes them):")
                for orphan in report.orphans.prefix(20) { print("  \(orphan)") }
            }
            for note in report.notes { print("note: \(note)") }
            if report.isClean {
                print("ok: no damage found")
            } else {
                print("DAMAGE: \(report.problems.count) problems")
                for problem in report.problems { print("  \(problem)") }
            }
        }
        if !report.isClean { throw ExitCode(1) }
    }
}

struct GC: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Delete files no committed version uses; with --keep-versions N, also the versions before the newest N.")

    @OptionGroup var store: StoreOption
    @Flag(name: .customLong("dry-run"), help: "Only list them.") var dryRun = false
    @Option(name: .customLong("keep-versions"), parsing: .unconditional, help: "Keep only the newest N versions (time travel to older ones ends) and delete the files only they used.")
    var keepVersions: Int?
    @Option(help: "Output: table, csv or json.") var format: OutputFormat = .table

    func validate() throws {
        if let keepVersions, keepVersions < 1 { throw ValidationError("--keep-versions must be at least 1 (the latest version is always kept)") }
    }

    func run() throws {
        let report = try Store.collectGarbage(path: store.path, dryRun: dryRun, keepVersions: keepVersions)
        struct Output: Encodable { var dryRun: Bool; var files: [String]; var bytes: Int; var removedVersions: [Int] }
        let verb = dryRun ? "would delete" : "deleted"
        try RecordPrinter(format: format).print(
            Output(dryRun: dryRun, files: report.files, bytes: report.bytes, removedVersions: report.removedVersions),
            fields: [("files", String(report.files.count)), ("bytes", String(report.bytes)), ("removed_versions", String(report.removedVersions.count))]) {
                for file in report.files { print("  \(file)") }
                if let first = report.removedVersions.first, let last = report.removedVersions.last {
                    print("\(dryRun ? "would remove" : "removed") versions \(first)...\(last) (\(report.removedVersions.count) manifests)")
                }
                print("\(verb) \(report.files.count) files no kept version uses, \(humanBytes(report.bytes))")
            }
    }
}

/// `strata compact`: one clustered segment per partition (format-spec §8).
struct Compact: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rewrite each partition of a table as one segment sorted by user and time, in one commit.",
        discussion: """
            Ingest writes every segment sorted by (msno, date), stably; appending to a month adds another \
            sorted segment, and reads merge them. compact rewrites each partition that holds several segments \
            (or segments written before clustering) as one, keeping each user's rows in ingestion order among \
            equal keys: the table's rows and values do not change, and readers see the old partitions or the \
            new ones, never a mix. Earlier versions keep the old segments until `strata gc`.
            """)

    @OptionGroup var store: StoreOption
    @Argument(help: "The table (an ingested one: training sets and predictions keep their own order).") var table: String
    @Option(name: .customLong("partition"), parsing: .singleValue, help: "Only this partition (YYYYMM; repeatable). Default: every partition.")
    var partitions: [Int] = []
    @Option(help: "Output: table, csv or json.") var format: OutputFormat = .table

    func validate() throws {
        for partition in partitions where !((101...999_912).contains(partition) && (1...12).contains(partition % 100)) {
            throw ValidationError("--partition \(partition) is not a month: give YYYYMM, such as 201601")
        }
    }

    func run() throws {
        let started = Date()
        let report = try Store.compact(path: store.path, table: table, partitions: partitions.isEmpty ? nil : partitions) { done, total in
            if showProgress { printError(String(format: "  %6.2f s  compact %@: %d of %d partitions", -started.timeIntervalSinceNow, table, done, total)) }
        }
        let rows = report.partitions.map { part in
            [String(part.partition), String(part.segmentsBefore), String(part.rows), String(part.bytesBefore), String(part.bytesAfter)]
        }
        switch format {
        case .json:
            try JSONOutput.print(report)
        case .csv:
            RowPrinter.print(header: ["partition", "segments_before", "rows", "bytes_before", "bytes_after"], rows: rows, format: format)
        case .table:
            for part in report.partitions {
                print("\(part.partition): \(part.segmentsBefore) segment\(part.segmentsBefore == 1 ? "" : "s") → 1, \(grouped(part.rows)) rows, "
                    + "\(humanBytes(part.bytesBefore)) → \(humanBytes(part.bytesAfter))")
            }
            if let version = report.committedVersion {
                print("compacted \(report.partitions.count) partition\(report.partitions.count == 1 ? "" : "s") of \(table)"
                    + (report.alreadyCompact > 0 ? " (\(report.alreadyCompact) already one clustered segment)" : "")
                    + "; committed version \(version) (earlier versions keep the old segments until strata gc)")
            } else {
                print("nothing to compact: every partition of \(table) asked for is one clustered segment already")
            }
        }
    }
}

struct Scan: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print rows of a table, optionally a date range and some columns.")

    @OptionGroup var store: StoreOption
    @Argument(help: "Table name.") var table: String
    @Option(help: "Comma-separated columns (default: all).") var columns: String?
    @Option(help: "First day to include, YYYYMMDD or YYYY-MM-DD (on the table's partition column).") var from: String?
    @Option(help: "Last day to include, YYYYMMDD or YYYY-MM-DD.") var to: String?
    @Option(parsing: .unconditional, help: "Print at most this many rows (table format default: 50).") var limit: Int?
    @Option(help: "Output: table, csv or json.") var format: OutputFormat = .table
    @Option(parsing: .unconditional, help: "Open this committed version instead of the latest.") var version: Int?
    @Flag(help: "Print the row count and each column's non-null count and sum instead of the rows (a full-column scan).")
    var summary = false

    func validate() throws {
        if let limit, limit < 0 { throw ValidationError("--limit must be zero or positive") }
        if let from { _ = try dayNumber(from, flag: "--from") }
        if let to { _ = try dayNumber(to, flag: "--to") }
        if let from, let to, try dayNumber(from, flag: "--from") > dayNumber(to, flag: "--to") {
            throw ValidationError("--from \(from) is after --to \(to): the range would hold no day")
        }
        if let columns {
            let names = columns.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            if names.contains(where: \.isEmpty) { throw ValidationError("--columns '\(columns.prefix(80))' has an empty column name") }
            if let repeated = names.first(where: { name in names.filter { $0 == name }.count > 1 }) {
                throw ValidationError("--columns names \(repeated.prefix(64)) twice")
            }
        }
        try validateStoreVersion(version)
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
        let printer = RowPrinter(header: header, format: format, jsonKinds: scan.columnIndexes.map { .of(scan.table.columns[$0].type) })
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
        if truncated && format == .table {
            print("(first \(grouped(limit)) of \(grouped(try rowsInRange(opened, dayRange: scan.dayRange))) rows; --limit N to change, or --format csv for all)")
        }
    }

    /// How many rows the scan would print without a limit: the manifest's count, or with a day range
    /// a scan of the partition column alone.
    func rowsInRange(_ store: Store, dayRange: ClosedRange<Int64>?) throws -> Int {
        let manifest = try store.table(table)
        guard dayRange != nil, let partitionColumn = manifest.partitionColumn else { return manifest.rowCount }
        let counter = try TableScan(store: store, table: table, columns: [partitionColumn], dayRange: dayRange)
        var rows = 0
        while let batch = try counter.next() { rows += batch.rowCount }
        return rows
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
