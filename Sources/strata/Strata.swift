import ArgumentParser
import Foundation
import StrataFormat
import StrataFeatures
import StrataIngest
import StrataQuery
import StrataTrain
import StrataMonitor
import StrataReport
import StrataPipeline
import StrataStorage

@main
struct Strata: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "strata",
        abstract: "A feature store for churn prediction: compressed columnar tables of KKBox data.",
        discussion: "Exit status: 0 success, 1 error (input, data, a refused operation, damage found), 2 usage (unknown or malformed flags). `strata --version` prints the release, the storage format and the build.",
        subcommands: [Generate.self, Ingest.self, Tables.self, Versions.self, Describe.self, Verify.self, GC.self, Compact.self, Drop.self, Scan.self, QueryCommand.self,
                      TrainingSet.self, Features.self, Train.self, Runs.self, Models.self, Predict.self, Report.self, MonitorCommand.self, PipelineCommand.self, Serve.self])

    static let version = "0.13.0"

    /// `strata --version`: the release, the storage format it writes, and how it was built.
    static var versionLine: String {
        #if DEBUG
        let build = "debug build"
        #else
        let build = "release build"
        #endif
        #if compiler(>=6.3)
        let compiler = "Swift 6.3+"
        #else
        let compiler = "Swift < 6.3"
        #endif
        return "strata \(version) (format \(SegmentMagic.formatVersion), \(build), \(compiler))"
    }

    /// Exit statuses: 0 success, 1 an error (input, data, a refused operation), 2 a usage error.
    static let usageStatus: Int32 = 2

    /// Runs the command; failures caused by input (files, flags, data) print one clear line and exit 1.
    static func main() {
        keepLargeAllocationsInTheHeap()
        // A closed pipe (`strata query … | head`) shows as EPIPE on write, handled below, not as a signal.
        signal(SIGPIPE, SIG_IGN)
        // Every layer's manifest sections are checked whenever a manifest is opened.
        StrataPipeline.registerManifestSections()
        // Every version this process commits records the command that made it (`strata versions`).
        StoreWriter.commandLine = (["strata"] + CommandLine.arguments.dropFirst().map(shellQuoted)).joined(separator: " ")
        // `strata --version` alone: ArgumentParser's own version flag would also answer `--version` given
        // to any subcommand, where it means a store version (`scan T --version 3`) or is unknown.
        if CommandLine.arguments.dropFirst() == ["--version"] {
            print(versionLine)
            Foundation.exit(0)
        }
        do {
            var command = try parseAsRoot()
            try command.run()
            // Output that could not be written (a full disk, a closed pipe) is a failure, not a success.
            if fflush(nil) != 0 { outputFailed(errno) }
        } catch let error as StorageError {
            fail(error.description)
        } catch let error as IngestError {
            fail(error.description)
        } catch let error as FormatError {
            fail(error.description)
        } catch let error as FeatureDefinitionError {
            fail(error.description)
        } catch let error as FeaturePlanError {
            fail(error.description)
        } catch let error as TrainError {
            fail(error.description)
        } catch let error as MonitorError {
            fail(error.description)
        } catch let error as PipelineError {
            fail(error.description)
        } catch let error as ReportError {
            fail(error.description)
        } catch let error as QueryError {
            fail(error.description)
        } catch let error as ExitCode {
            Foundation.exit(error.rawValue)
        } catch {
            // ArgumentParser's usage errors (EX_USAGE, 64) exit 2, like other Unix tools; --help and
            // --version exit 0; anything else is an error (1).
            let code = exitCode(for: error)
            if code == .success { exit(withError: error) }
            let message = fullMessage(for: error)
            if code.rawValue == 64 {
                printError(message.hasPrefix("Error: ") ? colouredErrorPrefix + String(message.dropFirst(7)) : message)
                Foundation.exit(usageStatus)
            }
            fail(message)
        }
    }

    /// Column buffers of several MB are allocated and freed for every segment. By default glibc serves
    /// them with fresh mmaps that the kernel zeroes page by page (16% of ingest time in profiles); a high
    /// mmap threshold keeps them in the heap, where freed buffers are reused.
    static func keepLargeAllocationsInTheHeap() {
        #if os(Linux)
        // M_MMAP_THRESHOLD and M_TRIM_THRESHOLD of <malloc.h>, which Swift's Glibc module does not import.
        let mmapThreshold: Int32 = -3
        let trimThreshold: Int32 = -1
        _ = mallopt(mmapThreshold, 256 << 20)
        _ = mallopt(trimThreshold, 1 << 30)
        #endif
    }

    /// Standard output could not be written. A reader that closed the pipe has what it wanted: the
    /// command ends quietly with status 0, as `head` expects. Anything else (a full disk) is an error.
    static func outputFailed(_ code: Int32) -> Never {
        if code == EPIPE { Foundation.exit(0) }
        fail("cannot write the output: \(String(cString: strerror(code)))")
    }

    static func fail(_ message: String) -> Never {
        printError(colouredErrorPrefix + message)
        Foundation.exit(1)
    }

    /// `strata: error: `, in red only on a terminal and when NO_COLOR is not set (no-color.org).
    static var colouredErrorPrefix: String {
        useColour(fileDescriptor: 2) ? "strata: \u{1B}[31merror:\u{1B}[0m " : "strata: error: "
    }
}

/// Colour and cursor codes go to terminals only, never to files or pipes, and never when NO_COLOR is set.
func useColour(fileDescriptor: Int32) -> Bool {
    guard isatty(fileDescriptor) == 1 else { return false }
    let noColour = ProcessInfo.processInfo.environment["NO_COLOR"] ?? ""
    return noColour.isEmpty
}

/// `--db PATH`, default `$STRATA_DB`, else `./strata.db` (Sources/strata/README.md).
struct StoreOption: ParsableArguments {
    @Option(name: .long, help: "Store directory (default: $STRATA_DB, else ./strata.db).")
    var db: String?
    @Option(name: .long, parsing: .unconditional, help: "Commands that write: wait up to SECONDS for another writer to finish (default 0: fail at once).")
    var wait: Double = 0

    func validate() throws {
        guard wait >= 0, wait <= 86_400 else { throw ValidationError("--wait must be between 0 and 86400 seconds") }
        // An empty path would make a store of the working directory's parent chain: "" + "/manifest" is the root's.
        guard !path.isEmpty else {
            throw ValidationError(db != nil ? "--db must name a directory, not be empty" : "STRATA_DB is set but empty: unset it or name a directory")
        }
        // A process runs one command: its writers take the wait from here.
        StoreWriter.lockWaitSeconds = wait
    }

    var path: String { db ?? ProcessInfo.processInfo.environment["STRATA_DB"] ?? "./strata.db" }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, csv, json
}

/// Parses a day flag (YYYYMMDD or YYYY-MM-DD, years 0001-9999) into a day number.
func dayNumber(_ text: String, flag: String) throws -> Int64 {
    guard let day = Dates.parse(text) else {
        throw ValidationError("\(flag) must be a date as YYYYMMDD or YYYY-MM-DD (years 0001-9999), got '\(text)'")
    }
    return Int64(day)
}

/// `text` as a shell word: unchanged when it is plain, otherwise in single quotes.
func shellQuoted(_ text: String) -> String {
    let plain = !text.isEmpty && text.unicodeScalars.allSatisfy { scalar in
        (scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "-_./=:@,+%".unicodeScalars.contains(scalar)))
    }
    return plain ? text : "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

/// A name given by a flag (a table, a model) must follow the store's one grammar: a usage error otherwise.
func validateName(_ name: String, flag: String) throws {
    guard StoreNames.isValid(name) else {
        throw ValidationError("\(flag) '\(name.prefix(80))' is not a valid name: letters, digits and _, starting with a letter or _, at most 64 characters")
    }
}

/// `--version N` (time travel) names a committed version: 1 or more.
func validateStoreVersion(_ version: Int?) throws {
    if let version, version < 1 { throw ValidationError("--version must be a committed version, 1 or more (strata versions lists them), got \(version)") }
}

/// `NAME` or `NAME@VERSION` (a feature view, a model version), a usage error otherwise.
func versionedName(_ text: String, flag: String, versionRequired: Bool = false) throws -> (name: String, version: Int?) {
    let parts = text.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
    let version = parts.count == 2 ? Int(parts[1]).flatMap { $0 > 0 ? $0 : nil } : nil
    guard StoreNames.isValid(parts[0]), parts.count == 1 || version != nil, !versionRequired || version != nil else {
        throw ValidationError("\(flag) must be \(versionRequired ? "" : "NAME or ")NAME@VERSION (a positive number), got '\(text.prefix(80))'")
    }
    return (parts[0], version)
}

/// Whether standard output is a terminal: progress is shown only then.
var stdoutIsTerminal: Bool { isatty(1) == 1 }

/// Progress on a terminal, or anywhere when STRATA_PROGRESS=1 (for timing runs in scripts).
var showProgress: Bool { stdoutIsTerminal || ProcessInfo.processInfo.environment["STRATA_PROGRESS"] == "1" }

/// Prints each step of a long command with the seconds since `started`, when progress is shown.
func stepReporter(since started: Date) -> ((String) -> Void)? {
    guard showProgress else { return nil }
    return { step in printError(String(format: "  %6.2f s  %@…", -started.timeIntervalSinceNow, step)) }
}

/// Writes bytes to standard output after anything `print` has buffered, so lines stay in order; a
/// failed write (a full disk, a closed pipe) ends the command with exit status 1.
func writeStandardOutput(_ bytes: [UInt8]) {
    fflush(nil)
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeBytes { write(1, $0.baseAddress! + offset, $0.count - offset) }
        if written < 0 && errno == EINTR { continue }
        if written <= 0 { Strata.outputFailed(errno) }
        offset += written
    }
}

/// Writes a line to standard error.
func printError(_ text: String) { writeStandardError(text + "\n") }

/// Writes to standard error. A failed write is ignored: there is nowhere left to report it (FileHandle's
/// write would trap instead).
func writeStandardError(_ text: String) {
    var bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress! + offset, $0.count - offset) }
        if written <= 0 { return }
        offset += written
    }
}

/// Bytes as a short human figure (1.4 GB).
func humanBytes(_ count: Int) -> String {
    let units = ["B", "KB", "MB", "GB", "TB"]
    var value = Double(count)
    var unit = 0
    while value >= 1000 && unit < units.count - 1 {
        value /= 1000
        unit += 1
    }
    return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
}

func grouped(_ value: Int) -> String { ValueText.grouped(value) }

#if os(Linux)
/// glibc's `mallopt(3)`, declared here because its header is not part of the Glibc module.
@_silgen_name("mallopt")
func mallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif
