import ArgumentParser
import Foundation
import StrataFormat
import StrataIngest
import StrataStorage

struct Ingest: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load KKBox CSV files into the store in one atomic commit (tables recognised by header).")

    @OptionGroup var store: StoreOption
    @Argument(help: "CSV files: members, transactions, user_logs, labels (or Kaggle's train.csv with --cutoff).") var files: [String]
    @Option(help: "Read every file as this table instead of recognising its header.") var table: String?
    @Option(help: "Cutoff date (YYYYMMDD) for Kaggle's train.csv, which has none.") var cutoff: String?
    @Option(help: "Codec: auto (zstd where it pays), lz4, zstd or none.") var compression: CompressionPolicy = .auto
    @Flag(help: "Reject the whole ingest at the first bad line; the store stays as it was.") var strict = false

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one CSV file") }
        if let cutoff { _ = try dayNumber(cutoff, flag: "--cutoff") }
        if let table, KKBoxTables.named(table) == nil {
            throw ValidationError("--table must be one of \(KKBoxTables.all.map(\.name).joined(separator: ", "))")
        }
    }

    func run() throws {
        var options = IngestOptions()
        options.policy = compression
        options.strict = strict
        options.forcedTable = table
        options.cutoffDay = try cutoff.map { try dayNumber($0, flag: "--cutoff") }
        if stdoutIsTerminal {
            options.progress = { progress in
                let percent = 100 * Double(progress.bytesRead) / Double(max(1, progress.fileSizeBytes))
                let rate = Double(progress.bytesRead) / max(progress.elapsedSeconds, 1e-9)
                let name = (progress.file as NSString).lastPathComponent
                writeStandardError(String(format: "\r%@: %5.1f%%  %@ rows  %@/s   ", name, percent, grouped(progress.rowCount), humanBytes(Int(rate))))
            }
        }
        let report = try Ingester.ingest(store: store.path, files: files, options: options)
        if stdoutIsTerminal { writeStandardError("\r\u{1B}[K") }
        for file in report.files {
            let rate = Double(file.sizeBytes) / max(file.seconds, 1e-9)
            print("\(file.file) → \(file.table): \(grouped(file.rowsIngested)) rows, \(grouped(file.rowsRejected)) rejected, \(humanBytes(file.sizeBytes)) in \(String(format: "%.2f", file.seconds)) s (\(humanBytes(Int(rate)))/s)")
        }
        print("committed version \(report.version)")
        if report.rejectedCount > 0 {
            printError("\(grouped(report.rejectedCount)) lines rejected; all of them are listed in \(report.rejectsFiles.map { store.path + "/" + $0 }.joined(separator: ", ")). First ones:")
            for reject in report.rejects.prefix(10) {
                printError("  \(reject.file):\(reject.line)\(reject.column.map { " column \($0)" } ?? ""): \(reject.reason)")
            }
        }
    }
}

extension CompressionPolicy: ExpressibleByArgument {}
