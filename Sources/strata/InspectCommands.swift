import ArgumentParser
import Foundation
import StrataFormat
import StrataFeatures
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

    struct ColumnStats {
        var storedBytes = 0
        var encodedBytes = 0
        var nullCount = 0
        var encodings: [String: Int] = [:]
        var codecs: [String: Int] = [:]
    }

    func run() throws {
        let opened = try Store(path: store.path, version: version)
        let manifest = try opened.table(table)
        var stats = Array(repeating: ColumnStats(), count: manifest.columns.count)
        var partitions: [Int: (segments: Int, rows: Int, bytes: Int)] = [:]
        for segment in manifest.segments {
            let reader = try opened.openSegment(segment, of: manifest)
            partitions[segment.partition, default: (0, 0, 0)].segments += 1
            partitions[segment.partition]!.rows += segment.rowCount
            partitions[segment.partition]!.bytes += segment.sizeBytes
            for column in 0..<manifest.columns.count {
                for chunk in 0..<reader.chunkCount {
                    let entry = reader.footer.chunk(column: column, chunk: chunk)
                    stats[column].storedBytes += Int(entry.storedSizeBytes)
                    stats[column].encodedBytes += Int(entry.encodedSizeBytes)
                    stats[column].nullCount += Int(entry.nullCount)
                    stats[column].encodings[entry.encoding.description, default: 0] += 1
                    stats[column].codecs[entry.codec.description, default: 0] += 1
                }
            }
        }
        func summary(_ counts: [String: Int]) -> String {
            counts.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { "\($0.key)×\($0.value)" }.joined(separator: " ")
        }
        let rowCount = manifest.rowCount
        let columnRows: [[String?]] = zip(manifest.columns, stats).map { column, stat in
            [column.name, column.type.name, column.nullable ? "yes" : "no", String(stat.nullCount), String(stat.storedBytes),
             rowCount > 0 ? String(format: "%.2f", Double(stat.storedBytes) * 8 / Double(rowCount)) : "0",
             summary(stat.encodings), summary(stat.codecs)]
        }
        let columnHeader = ["column", "type", "nullable", "nulls", "bytes", "bits/row", "encodings (chunks)", "codecs (chunks)"]
        if format != .table {
            RowPrinter.print(header: columnHeader, rows: columnRows, format: format)
            return
        }
        let ratio = manifest.sourceBytes > 0 ? String(format: "%.3f", Double(manifest.sizeBytes) / Double(manifest.sourceBytes)) : "n/a"
        print("table \(table) (store version \(opened.version))")
        print("  rows \(grouped(rowCount)), \(manifest.segments.count) segments, \(grouped(manifest.sizeBytes)) bytes on disk; "
            + "CSV ingested \(grouped(manifest.sourceBytes)) bytes; disk/CSV ratio \(ratio)")
        print("  partitioned by \(manifest.partitionColumn.map { "\($0) (monthly)" } ?? "nothing (one partition)")")
        print("")
        RowPrinter.print(header: columnHeader, rows: columnRows, format: .table)
        print("")
        RowPrinter.print(
            header: ["partition", "segments", "rows", "bytes"],
            rows: partitions.keys.sorted().map { key in
                let value = partitions[key]!
                return [String(key), String(value.segments), String(value.rows), String(value.bytes)]
            }, format: .table)
    }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check every checksum of every file of every version; exit 1 with a report on damage.")

    @OptionGroup var store: StoreOption

    func run() throws {
        let started = Date()
        var report = try Store.verify(path: store.path)
        report.merge(try FeatureStoreVerifier.verify(path: store.path))
        report.merge(try RunVerifier.verify(path: store.path))
        let seconds = -started.timeIntervalSinceNow
        print("checked \(report.manifestsChecked) manifests, \(report.filesChecked) files, \(grouped(report.blocksChecked)) blocks, "
            + "\(humanBytes(report.bytesChecked)) in \(String(format: "%.2f", seconds)) s")
        if !report.orphans.isEmpty {
            print("\(report.orphans.count) uncommitted files (left by an interrupted write; `strata gc` deletes them):")
            for orphan in report.orphans.prefix(20) { print("  \(orphan)") }
        }
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
                printer.add(batch.columns.map { ValueFormatter.text($0, row: row, entities: entities) })
                printed += 1
            }
        }
        printer.finish()
        if truncated && format == .table { print("(first \(limit) rows; use --limit N or --format csv for more)") }
    }

    /// Partial count and sums of one segment.
    struct Totals: Sendable {
        var rowCount = 0
        var nonNull: [Int]
        var integerSums: [Int64]
        var floatSums: [Double]

        init(columnCount: Int) {
            nonNull = Array(repeating: 0, count: columnCount)
            integerSums = Array(repeating: 0, count: columnCount)
            floatSums = Array(repeating: 0, count: columnCount)
        }

        mutating func add(_ batch: ScanBatch) {
            rowCount += batch.rowCount
            for (index, column) in batch.columns.enumerated() {
                nonNull[index] += column.count - column.nullCount
                switch column.values {
                case .integers(let values):
                    var sum: Int64 = 0
                    if column.validity == nil {
                        for value in values { sum &+= value }
                    } else {
                        for row in values.indices where !column.isNull(row) { sum &+= values[row] }
                    }
                    integerSums[index] &+= sum
                case .floats(let values):
                    var sum = 0.0
                    if column.validity == nil {
                        for value in values { sum += value }
                    } else {
                        for row in values.indices where !column.isNull(row) { sum += values[row] }
                    }
                    floatSums[index] += sum
                case .strings: break
                }
            }
        }

        mutating func add(_ other: Totals) {
            rowCount += other.rowCount
            for index in nonNull.indices {
                nonNull[index] += other.nonNull[index]
                integerSums[index] &+= other.integerSums[index]
                floatSums[index] += other.floatSums[index]
            }
        }
    }

    /// Decodes every selected column in full, segments in parallel, and folds it into a count and a sum
    /// per column (partial sums are combined in segment order, so the result is the same every run).
    func printSummary(_ scan: TableScan) throws {
        let started = Date()
        let columns = scan.columnIndexes.map { scan.table.columns[$0] }
        let partials = parallelMap(scan.segmentCount) { segment -> Result<Totals, Error> in
            Result {
                var totals = Totals(columnCount: columns.count)
                try scan.forEachBatch(inSegment: segment) { totals.add($0) }
                return totals
            }
        }
        var totals = Totals(columnCount: columns.count)
        for partial in partials { totals.add(try partial.get()) }
        let seconds = -started.timeIntervalSinceNow
        let rows: [[String?]] = columns.enumerated().map { index, column in
            let sum: String?
            switch column.type {
            case .float64: sum = ValueFormatter.float(totals.floatSums[index])
            case .string, .entity, .date: sum = nil
            default: sum = String(totals.integerSums[index])
            }
            return [column.name, String(totals.rowCount), String(totals.nonNull[index]), sum]
        }
        RowPrinter.print(header: ["column", "rows", "non_null", "sum"], rows: rows, format: format)
        if format == .table {
            print(String(format: "scanned %@ rows in %.3f s", grouped(totals.rowCount), seconds))
        }
    }
}
