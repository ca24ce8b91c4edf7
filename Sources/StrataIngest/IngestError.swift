/// Errors of ingest: bad input that stops the whole ingest (in strict mode, or a file that cannot be
/// read as any table), each naming the file and, where there is one, the line and column.
public enum IngestError: Error, CustomStringConvertible, Equatable {
    case malformed(file: String, line: Int?, column: String?, reason: String)
    case unrecognisedHeader(file: String, header: String, known: [String])
    case missingCutoff(file: String)
    case emptyFile(file: String)
    case unknownTable(name: String, known: [String])

    public var description: String {
        switch self {
        case .malformed(let file, let line, let column, let reason):
            var location = file
            if let line { location += ":\(line)" }
            if let column { location += " column \(column)" }
            return "\(location): \(reason)"
        case .unrecognisedHeader(let file, let header, let known):
            return "\(file): header '\(header)' is not a KKBox table. Known headers:\n  " + known.joined(separator: "\n  ")
                + "\nRename the columns, or pass --table NAME if the file has no header."
        case .missingCutoff(let file):
            return "\(file): Kaggle's train.csv has no cutoff column; pass --cutoff YYYYMMDD (e.g. 20170301 for train_v2.csv)"
        case .emptyFile(let file):
            return "\(file): the file is empty (0 bytes): there is no header to recognise the table"
        case .unknownTable(let name, let known):
            return "unknown table '\(name)'; --table takes one of: \(known.joined(separator: ", "))"
        }
    }
}
