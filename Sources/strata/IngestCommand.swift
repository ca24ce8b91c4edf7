import ArgumentParser
import Foundation
import StrataFormat
import StrataIngest
import StrataStorage

struct Ingest: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load CSV files into the store in one atomic commit (KKBox tables recognised by header, or tables of your own).",
        discussion: """
            Protections: a file whose lines are all rejected, or more of them than --max-rejects allows, \
            commits nothing; content ingested into the same table before is refused unless --allow-duplicate. \
            Tables of your own: --table NAME with --schema FILE (YAML: columns with name, type, nullable; \
            optional partition_by) or --infer-schema (printed for review; with --dry-run only printed).
            """)

    @OptionGroup var store: StoreOption
    @Argument(help: "CSV files: members, transactions, user_logs, labels (or Kaggle's train.csv with --cutoff), or a table of your own with --table.")
    var files: [String]
    @Option(help: "Read every file as this table: a KKBox table, or one of your own (with --schema or --infer-schema when it is new).") var table: String?
    @Option(help: "Cutoff date (YYYYMMDD or YYYY-MM-DD) for Kaggle's train.csv, which has none.") var cutoff: String?
    @Option(help: "Codec: auto (zstd where it pays), lz4, zstd or none.") var compression: CompressionPolicy = .auto
    @Flag(help: "Reject the whole ingest at the first bad line; the store stays as it was.") var strict = false
    @Option(name: .customLong("max-rejects"), parsing: .unconditional, help: "Lines a file may have rejected, as a number or a share (default 1%); beyond it nothing is committed.")
    var maxRejects = "1%"
    @Flag(name: .customLong("allow-duplicate"), help: "Ingest a file even when the same content was ingested into the table before.")
    var allowDuplicate = false
    @Option(help: "Schema file (YAML) of a table of your own, with --table.") var schema: String?
    @Flag(name: .customLong("infer-schema"), help: "Infer the schema of a new table of your own from the first 10,000 lines, and print it.")
    var inferSchema = false
    @Flag(name: .customLong("dry-run"), help: "With --infer-schema: only print the inferred schema, ingest nothing.") var dryRun = false
    @Option(help: "Output: table, csv or json.") var format: OutputFormat = .table

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one CSV file") }
        if let cutoff { _ = try dayNumber(cutoff, flag: "--cutoff") }
        guard RejectLimit(maxRejects) != nil else {
            throw ValidationError("--max-rejects must be a number of lines (0 or more, e.g. 100) or a share from 0% to 100% (e.g. 5%), got '\(maxRejects.prefix(40))'")
        }
        if let table { try validateName(table, flag: "--table") }
        if (schema != nil || inferSchema) && table == nil { throw ValidationError("--schema and --infer-schema need --table NAME") }
        if schema != nil && inferSchema { throw ValidationError("give --schema or --infer-schema, not both") }
        if dryRun && !inferSchema { throw ValidationError("--dry-run goes with --infer-schema") }
    }

    func run() throws {
        var options = IngestOptions()
        options.policy = compression
        options.strict = strict
        options.forcedTable = table
        options.cutoffDay = try cutoff.map { try dayNumber($0, flag: "--cutoff") }
        options.maxRejects = RejectLimit(maxRejects)!
        options.allowDuplicate = allowDuplicate
        if let schema { options.customSchema = try CustomTableSchema.load(file: schema) }
        if inferSchema {
            let inferred = try CustomTableSchema.infer(path: files[0])
            if dryRun {
                if format == .table {
                    print(inferred.yaml, terminator: "")
                } else {
                    RowPrinter.print(header: ["name", "type", "nullable", "partition"], rows: inferred.columns.map {
                        [$0.name, $0.type.name, String($0.nullable), String($0.name == inferred.partitionColumn)]
                    }, format: format)
                }
                return
            }
            options.customSchema = inferred
        }
        if stdoutIsTerminal {
            options.progress = { progress in
                let percent = 100 * Double(progress.bytesRead) / Double(max(1, progress.fileSizeBytes))
                let rate = Double(progress.bytesRead) / max(progress.elapsedSeconds, 1e-9)
                let name = (progress.file as NSString).lastPathComponent
                writeStandardError(String(format: "\r%@: %5.1f%%  %@ rows  %@/s   ", name, percent, grouped(progress.rowCount), humanBytes(Int(rate))))
            }
        }
        let report: IngestReport
        do {
            report = try Ingester.ingest(store: store.path, files: files, options: options)
        } catch {
            if stdoutIsTerminal { writeStandardError("\r\u{1B}[K") }
            throw error
        }
        if stdoutIsTerminal { writeStandardError("\r\u{1B}[K") }
        if inferSchema, let inferred = options.customSchema {
            printError("inferred schema of \(table!) from \(files[0]) (save it with --dry-run, edit, and pass --schema FILE to change it):\n" + inferred.yaml)
        }
        if format == .json {
            struct File: Encodable { var file, table: String; var rows, rejected, bytes: Int; var seconds: Double }
            struct Output: Encodable { var committedVersion: Int; var files: [File]; var rejected: Int; var rejectsFiles: [String] }
            try JSONOutput.print(Output(
                committedVersion: report.version,
                files: report.files.map { File(file: $0.file, table: $0.table, rows: $0.rowsIngested, rejected: $0.rowsRejected, bytes: $0.sizeBytes, seconds: $0.seconds) },
                rejected: report.rejectedCount, rejectsFiles: report.rejectsFiles.map { store.path + "/" + $0 }))
        } else if format == .csv {
            RowPrinter.print(header: ["file", "table", "rows", "rejected", "bytes", "seconds", "committed_version"], rows: report.files.map { file in
                [file.file, file.table, String(file.rowsIngested), String(file.rowsRejected), String(file.sizeBytes), String(format: "%.3f", file.seconds), String(report.version)]
            }, format: format)
        } else {
            for file in report.files {
                let rate = Double(file.sizeBytes) / max(file.seconds, 1e-9)
                print("\(file.file) → \(file.table): \(grouped(file.rowsIngested)) rows, \(grouped(file.rowsRejected)) rejected, \(humanBytes(file.sizeBytes)) in \(String(format: "%.2f", file.seconds)) s (\(humanBytes(Int(rate)))/s)")
            }
            print("committed version \(report.version)")
        }
        if report.rejectedCount > 0 {
            printError("\(grouped(report.rejectedCount)) line\(report.rejectedCount == 1 ? "" : "s") rejected; all of them are listed in \(report.rejectsFiles.map { store.path + "/" + $0 }.joined(separator: ", ")). First ones:")
            for reject in report.rejects.prefix(10) {
                printError("  \(reject.file):\(reject.line)\(reject.column.map { " column \($0)" } ?? ""): \(reject.reason)")
            }
        }
    }
}

extension CompressionPolicy: ExpressibleByArgument {}
