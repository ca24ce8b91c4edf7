import StrataFormat

/// Everything that can go wrong with a store that is not a bug in Strata. Each case says where and,
/// when there is one, what to do about it.
public enum StorageError: Error, CustomStringConvertible, Equatable {
    /// A system call failed on `path`.
    case io(path: String, operation: String, errno: Int32)
    /// Bytes on disk fail a checksum or a structural check.
    case corrupt(file: String, column: String?, chunk: Int?, reason: String)
    case notAStore(path: String)
    case unknownTable(name: String, available: [String])
    case unknownColumn(table: String, name: String, available: [String])
    case unknownVersion(requested: Int, latest: Int)
    case locked(path: String)
    /// A file written by a newer Strata: intact, but this build cannot read it.
    case newerFormat(file: String, reason: String)
    case invalid(String)

    /// `.newerFormat` when the error says so, `.corrupt` otherwise.
    public static func from(_ error: FormatError, file: String, column: String? = nil, chunk: Int? = nil) -> StorageError {
        error.needsNewerReader ? .newerFormat(file: file, reason: error.message) : .corrupt(file: file, column: column, chunk: chunk, reason: error.message)
    }

    public var description: String {
        switch self {
        case .io(let path, let operation, let errno):
            return "\(operation) \(path): \(String(cString: strerror(errno)))"
        case .corrupt(let file, let column, let chunk, let reason):
            var location = file
            if let column { location += ", column \(column)" }
            if let chunk { location += ", block \(chunk)" }
            return "corruption in \(location): \(reason). Run `strata verify` for a full report; restore the file from a backup or open an earlier version with --version."
        case .notAStore(let path):
            return "\(path) is not a Strata store (no manifest/ directory). Create one with `strata ingest --db \(path) FILE...`."
        case .unknownTable(let name, let available):
            return "no table named '\(name)'. Tables: \(available.isEmpty ? "(none: ingest some CSV first)" : available.joined(separator: ", "))"
        case .unknownColumn(let table, let name, let available):
            return "table \(table) has no column '\(name)'. Columns: \(available.joined(separator: ", "))"
        case .unknownVersion(let requested, let latest):
            return latest == 0 ? "version \(requested) does not exist: the store has no committed version yet"
                : "version \(requested) does not exist; the store's latest version is \(latest) (strata versions lists those kept)"
        case .locked(let path):
            return "another process is writing to \(path) (it holds \(path)/LOCK); wait for it to finish, or pass --wait SECONDS"
        case .newerFormat(let file, let reason):
            return "\(file): \(reason)"
        case .invalid(let message):
            return message
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A decoding failure of JSON read from disk, in one line: what was wrong and where (the key path),
/// without Swift's debug text.
public func describeDecodingError(_ error: Error) -> String {
    func path(_ context: DecodingError.Context) -> String {
        let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? "." + $0.stringValue }.joined()
        return keys.isEmpty ? "at the top level" : "at \(keys.hasPrefix(".") ? String(keys.dropFirst()) : keys)"
    }
    guard let error = error as? DecodingError else { return "\(error)" }
    switch error {
    case .typeMismatch(let type, let context): return "\(path(context)): expected \(type)"
    case .valueNotFound(let type, let context): return "\(path(context)): a \(type) is missing"
    case .keyNotFound(let key, let context): return "\(path(context)): the key '\(key.stringValue)' is missing"
    case .dataCorrupted(let context):
        return "\(path(context)): " + (context.underlyingError != nil ? "not valid JSON" : context.debugDescription)
    @unknown default: return "not valid"
    }
}
