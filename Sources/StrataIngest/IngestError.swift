import Foundation
import StrataFormat

/// Errors of ingest: bad input that stops the whole ingest (in strict mode, or a file that cannot be
/// read as any table), each naming the file and, where there is one, the line and column.
public enum IngestError: Error, CustomStringConvertible, Equatable {
    case malformed(file: String, line: Int?, column: String?, reason: String)
    case unrecognisedHeader(file: String, header: String, known: [String])
    /// A header close to a KKBox table's, with the columns that differ.
    case nearMiss(file: String, table: String, missing: [String], unexpected: [String], header: [String])
    case missingCutoff(file: String)
    case emptyFile(file: String)
    case unknownTable(name: String, known: [String])
    case schema(file: String, reason: String)
    /// The file's content was ingested into the table before.
    case duplicate(file: String, table: String, earlier: String, version: Int?)
    /// More lines were rejected than `--max-rejects` allows (all of them, when `allowed` is nil).
    case tooManyRejects(file: String, rejected: Int, lines: Int, allowed: String?, first: [RejectedLine])

    public var description: String {
        switch self {
        case .malformed(let file, let line, let column, let reason):
            var location = file
            if let line { location += ":\(line)" }
            if let column { location += " column \(column)" }
            return "\(location): \(reason)"
        case .nearMiss(let file, let table, let missing, let unexpected, let header):
            guard !missing.isEmpty || !unexpected.isEmpty else {
                return "\(file): the header has the columns of table \(table), but not exactly as \(header.joined(separator: ",")) "
                    + "(a name differs in case or spaces, a column is repeated, or the order differs). Fix the file's header to that line"
            }
            var parts: [String] = []
            if !missing.isEmpty { parts.append("missing \(missing.joined(separator: ", "))") }
            if !unexpected.isEmpty { parts.append("unexpected \(unexpected.joined(separator: ", "))") }
            return "\(file): the header is almost that of table \(table), which is \(header.joined(separator: ",")): \(parts.joined(separator: "; ")). "
                + "Fix the file's header, or ingest it as a table of your own with --table NAME --schema FILE"
        case .unrecognisedHeader(let file, let header, let known):
            return "\(file): header '\(header)' is not a KKBox table. Known headers:\n  " + known.joined(separator: "\n  ")
                + "\nRename the columns, pass --table NAME if the file has no header, or ingest a table of your own with --table NAME --schema FILE (or --infer-schema)."
        case .missingCutoff(let file):
            return "\(file): Kaggle's train.csv has no cutoff column; pass --cutoff DAY (2017-02-01 for train.csv, 2017-03-01 for train_v2.csv)"
        case .emptyFile(let file):
            return "\(file): the file is empty (0 bytes): there is no header to recognise the table"
        case .unknownTable(let name, let known):
            return "table '\(name)' is not a KKBox table (\(known.joined(separator: ", "))) and does not exist yet: "
                + "describe its columns with --schema FILE, or let Strata propose them with --infer-schema"
        case .schema(let file, let reason):
            return "schema \(file): \(reason)"
        case .duplicate(let file, let table, let earlier, let version):
            return "\(file) has the same size and CRC-32C as \(earlier), ingested into \(table) \(version.map { "at version \($0)" } ?? "earlier in this command"): "
                + "ingesting it again would duplicate every row. Nothing was ingested; pass --allow-duplicate if that is what you want"
        case .tooManyRejects(let file, let rejected, let lines, let allowed, let first):
            let share = String(format: "%.1f", 100 * Double(rejected) / Double(max(lines, 1)))
            let head = allowed.map { "\(file): \(ValueText.grouped(rejected)) of \(ValueText.grouped(lines)) lines rejected (\(share)%), more than --max-rejects \($0) allows" }
                ?? "\(file): every one of its \(ValueText.grouped(lines)) lines was rejected (is it the right file for this table?)"
            return head + ". Nothing was ingested. First rejects:\n" + first.map { reject in
                "  line \(reject.line)\(reject.column.map { " column \($0)" } ?? ""): \(reject.reason)"
            }.joined(separator: "\n")
        }
    }
}

