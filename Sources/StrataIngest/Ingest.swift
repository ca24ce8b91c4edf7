import Foundation
import StrataFormat
import StrataStorage

/// How an ingest runs.
public struct IngestOptions: Sendable {
    public var policy: CompressionPolicy = .auto
    /// Stop at the first bad line and leave the store exactly as it was.
    public var strict = false
    /// Read every file as this table instead of recognising it by header.
    public var forcedTable: String?
    /// Cutoff (day number) for Kaggle's train.csv, which has no cutoff column.
    public var cutoffDay: Int64?
    /// The columns of `forcedTable` when it is a table of the user's own (`--schema`, `--infer-schema`).
    public var customSchema: CustomTableSchema?
    /// How many rejected lines a file may have before the ingest is refused (`--max-rejects`).
    public var maxRejects: RejectLimit = .fraction(0.01)
    /// Ingest content that was ingested into the same table before (`--allow-duplicate`).
    public var allowDuplicate = false
    /// Rows per segment file, and rows buffered across all partitions: together they bound memory.
    public var segmentRowCountMax = 1 << 20
    public var bufferedRowCountMax = 2 << 20
    /// Called now and then with progress; nil for silence.
    public var progress: (@Sendable (IngestProgress) -> Void)?

    public init() {}
}

/// `--max-rejects`: a number of lines, or a share of a file's lines.
public enum RejectLimit: Sendable, Equatable, CustomStringConvertible {
    case count(Int)
    case fraction(Double)

    /// `N` or `P%`.
    public init?(_ text: String) {
        if text.hasSuffix("%") {
            guard let percent = Double(text.dropLast()), percent >= 0, percent <= 100 else { return nil }
            self = .fraction(percent / 100)
        } else {
            guard let count = Int(text), count >= 0 else { return nil }
            self = .count(count)
        }
    }

    public func allows(rejected: Int, of lines: Int) -> Bool {
        switch self {
        case .count(let count): rejected <= count
        case .fraction(let fraction): Double(rejected) <= fraction * Double(lines)
        }
    }

    public var description: String {
        switch self {
        case .count(let count): String(count)
        case .fraction(let fraction): "\(FloatText.python(fraction * 100).replacingOccurrences(of: ".0", with: ""))%"
        }
    }
}

public struct IngestProgress: Sendable {
    public var file: String
    public var bytesRead: Int
    public var fileSizeBytes: Int
    public var rowCount: Int
    public var elapsedSeconds: Double
}

/// One rejected input line.
public struct RejectedLine: Error, Sendable, Equatable {
    public var file: String
    public var line: Int
    public var column: String?
    public var reason: String
    public var text: String
}

public struct FileReport: Sendable {
    public var file: String
    public var table: String
    /// The file took its cutoff from `--cutoff` (Kaggle's train.csv layout).
    public var usedCutoff = false
    public var rowsIngested: Int
    public var rowsRejected: Int
    public var sizeBytes: Int
    public var seconds: Double
}

public struct IngestReport: Sendable {
    public var version: Int
    public var files: [FileReport]
    /// The first rejected lines (all of them are in `rejectsFile`).
    public var rejects: [RejectedLine]
    public var rejectedCount: Int
    /// Store-relative paths of the rejects files written.
    public var rejectsFiles: [String]
}

/// CSV files → one atomic commit. Rows stream through bounded buffers; a failure or a `--strict`
/// reject anywhere leaves the store at the version it had.
public enum Ingester {
    /// How many rejected lines the report keeps in memory (the rejects file has them all).
    static let rejectsKeptMax = 100

    public static func ingest(store path: String, files: [String], options: IngestOptions = IngestOptions()) throws -> IngestReport {
        let writer = try StoreWriter(path: path, create: true)
        let flusher = SegmentFlusher(writer: writer)
        do {
            var reports: [FileReport] = []
            var rejects = RejectLog(store: path, version: writer.newVersion)
            for (index, file) in files.enumerated() {
                // A pipe or device (`-`, /dev/stdin, <(…)) is read once into a file inside the store:
                // ingest reads its input twice (header, then blocks in parallel).
                if ((try? FileSystem.fileSize(file)) ?? nil) != nil && !FileSystem.isRegularFile(file) && !FileSystem.isDirectory(file) {
                    try FileSystem.createDirectories(path + "/tmp")
                    let spooled = path + "/tmp/stream-\(writer.newVersion)-\(index).csv"
                    try? FileSystem.remove(spooled)
                    defer { try? FileSystem.remove(spooled) }
                    _ = try FileSystem.copyStream(from: file, to: spooled)
                    var report = try ingestFile(spooled, name: file, writer: writer, flusher: flusher, rejects: &rejects, options: options)
                    report.file = file
                    reports.append(report)
                    continue
                }
                reports.append(try ingestFile(file, name: file, writer: writer, flusher: flusher, rejects: &rejects, options: options))
            }
            // A --cutoff that no file took (none has Kaggle's msno,is_churn layout) is a mistake, not a no-op.
            if options.cutoffDay != nil && !reports.contains(where: \.usedCutoff) {
                throw IngestError.malformed(file: files.joined(separator: ", "), line: nil, column: nil,
                                            reason: "--cutoff is for Kaggle's train.csv layout (msno,is_churn), and no file has it: ingest without --cutoff")
            }
            try flusher.drain()
            let rejectsFiles = try rejects.writeFiles()
            let names = Set(reports.map(\.table)).sorted().joined(separator: ", ")
            let manifest = try writer.commit(operation: "ingest \(files.map { ($0 as NSString).lastPathComponent }.joined(separator: " ")) into \(names)")
            return IngestReport(version: manifest.version, files: reports, rejects: rejects.kept, rejectedCount: rejects.count, rejectsFiles: rejectsFiles)
        } catch {
            // Segments still being written must finish before abort removes every file of this write.
            try? flusher.drain()
            writer.abort()
            throw error
        }
    }

    /// Ingests the CSV at `path`; messages and reports name it `file`.
    static func ingestFile(
        _ path: String, name file: String, writer: StoreWriter, flusher: SegmentFlusher, rejects: inout RejectLog, options: IngestOptions
    ) throws -> FileReport {
        let started = Date()
        guard FileSystem.isRegularFile(path) else {
            throw IngestError.malformed(file: file, line: nil, column: nil, reason: FileSystem.isDirectory(path) ? "is a directory, not a CSV file" : "no such file")
        }
        guard let size = try FileSystem.fileSize(path) else {
            throw IngestError.malformed(file: file, line: nil, column: nil, reason: "no such file")
        }
        guard size > 0 else { throw IngestError.emptyFile(file: file) }
        let reader = try CSVReader(path: path)
        guard try reader.next() else { throw IngestError.emptyFile(file: file) }
        let firstRecord = (0..<reader.fields.count).map { reader.string(reader.fields[$0]) }
        let (spec, headerConsumed) = try tableSpec(firstRecord: firstRecord, file: file, writer: writer, options: options)
        try writer.ensureTable(spec.name, columns: spec.schemas, partitionColumn: spec.partitionColumn, partitioning: spec.partitioning)
        // Data starts after the header, or at the first record when the file has none.
        let dataOffset = headerConsumed ? reader.fileOffset : reader.recordFileOffset
        let firstDataLine = headerConsumed ? reader.linesConsumed + 1 : 1
        let merger = BlockMerger(
            spec: spec, file: file, writer: writer, flusher: flusher, options: options, firstLine: firstDataLine,
            progress: { bytes, rows in
                options.progress?(IngestProgress(file: file, bytesRead: bytes, fileSizeBytes: size, rowCount: rows, elapsedSeconds: -started.timeIntervalSinceNow))
            })
        let splitter = try BlockSplitter(path: path, offset: dataOffset)
        // Blocks are parsed on all cores and merged in file order; a bounded window keeps memory flat.
        var inFlight: [Future<ParsedBlock>] = []
        let inFlightMax = max(2, ProcessInfo.processInfo.activeProcessorCount + 1)
        while let block = try splitter.next() {
            if inFlight.count >= inFlightMax { try merger.merge(inFlight.removeFirst().wait(), rejects: &rejects) }
            inFlight.append(Future { BlockParser.parse(block, spec: spec, file: file) })
        }
        for future in inFlight { try merger.merge(future.wait(), rejects: &rejects) }
        // The header's bytes, then the blocks': the checksum of the whole file.
        var crc = try headerChecksum(path, count: dataOffset)
        crc = Checksum.crc32cCombine(crc, merger.crc, secondLength: size - dataOffset)
        let lines = merger.rowsIngested + merger.rowsRejected
        if merger.rowsRejected > 0 && merger.rowsIngested == 0 {
            throw IngestError.tooManyRejects(file: file, rejected: merger.rowsRejected, lines: lines, allowed: nil, first: merger.firstRejects)
        }
        if !options.maxRejects.allows(rejected: merger.rowsRejected, of: lines) {
            throw IngestError.tooManyRejects(file: file, rejected: merger.rowsRejected, lines: lines, allowed: options.maxRejects.description, first: merger.firstRejects)
        }
        // The same bytes with another --cutoff are other rows (Kaggle's train.csv labels a given month).
        let cutoff: Int? = spec.columns.lazy.compactMap { column -> Int? in
            if case .constant(let day) = column.source { return Dates.yyyymmdd(dayNumber: Int(day)) }
            return nil
        }.first
        if !options.allowDuplicate, merger.rowsIngested > 0,
           let earlier = writer.table(spec.name)?.sourceFiles?.first(where: { $0.sizeBytes == size && $0.crc32c == crc && $0.cutoff == cutoff }) {
            throw IngestError.duplicate(file: file, table: spec.name, earlier: earlier.name, version: earlier.version == writer.newVersion ? nil : earlier.version)
        }
        try merger.finish()
        writer.addSourceBytes(size, to: spec.name)
        writer.addSourceFile(name: (file as NSString).lastPathComponent, sizeBytes: size, crc32c: crc, rows: merger.rowsIngested, cutoff: cutoff, to: spec.name)
        options.progress?(IngestProgress(file: file, bytesRead: size, fileSizeBytes: size, rowCount: merger.rowsIngested, elapsedSeconds: -started.timeIntervalSinceNow))
        var report = FileReport(file: file, table: spec.name, rowsIngested: merger.rowsIngested, rowsRejected: merger.rowsRejected, sizeBytes: size,
                                seconds: -started.timeIntervalSinceNow)
        report.usedCutoff = cutoff != nil
        return report
    }
}

extension Ingester {
    /// The table a file goes to and how its fields map to columns; whether its first record is a header.
    static func tableSpec(firstRecord: [String], file: String, writer: StoreWriter, options: IngestOptions) throws -> (TableSpec, Bool) {
        guard let forced = options.forcedTable else {
            if let recognised = try KKBoxTables.recognise(header: firstRecord, file: file, cutoffDay: options.cutoffDay) { return (recognised, true) }
            if let near = KKBoxTables.nearest(header: firstRecord) {
                throw IngestError.nearMiss(file: file, table: near.table.name, missing: near.missing, unexpected: near.unexpected, header: near.table.header)
            }
            throw IngestError.unrecognisedHeader(file: file, header: firstRecord.joined(separator: ","), known: KKBoxTables.knownHeaders)
        }
        if var spec = KKBoxTables.named(forced) {
            guard options.customSchema == nil else {
                throw IngestError.malformed(file: file, line: nil, column: nil,
                                            reason: "\(forced) is a KKBox table with a fixed schema; --schema and --infer-schema are for tables of your own (choose another --table)")
            }
            if forced == "labels", firstRecord.count == 2 || firstRecord == KKBoxTables.kaggleTrainHeader {
                guard let cutoff = options.cutoffDay else { throw IngestError.missingCutoff(file: file) }
                spec = KKBoxTables.kaggleLabels(cutoffDay: cutoff)
            }
            // With --table the header is optional: a first line that is not the header is data.
            return (spec, firstRecord == spec.header)
        }
        try StoreNames.validate(forced, what: "--table")
        // Kaggle's train.csv layout under a name of one's own (sample_submission_v2.csv as `submission`).
        if firstRecord == KKBoxTables.kaggleTrainHeader, options.customSchema == nil, let cutoff = options.cutoffDay {
            var spec = KKBoxTables.kaggleLabels(cutoffDay: cutoff)
            spec.name = forced
            return (spec, true)
        }
        let existing = writer.table(forced)
        var schema = options.customSchema
        if let existing {
            let stored = try CustomTableSchema(columns: existing.columns, partitionColumn: existing.partitionColumn)
            if let schema, schema != stored {
                throw IngestError.malformed(file: file, line: nil, column: nil, reason: "table \(forced) exists with another schema "
                    + "(\(stored.columns.map { "\($0.name) \($0.type.name)" }.joined(separator: ", "))); match it, or drop the table first (strata drop \(forced))")
            }
            schema = stored
        }
        guard let schema else {
            throw IngestError.unknownTable(name: forced, known: KKBoxTables.all.map(\.name))
        }
        if options.cutoffDay != nil {
            throw IngestError.malformed(file: file, line: nil, column: nil,
                                        reason: "--cutoff is for Kaggle's train.csv layout (msno,is_churn); table \(forced) has its own columns, so leave it out")
        }
        return (try schema.spec(table: forced, header: firstRecord, file: file), true)
    }

    /// CRC-32C of the first `count` bytes of a file (its header line).
    static func headerChecksum(_ path: String, count: Int) throws -> UInt32 {
        guard count > 0 else { return 0 }
        let fd = try FileSystem.open(path, O_RDONLY)
        defer { FileSystem.close(fd) }
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + filled, count - filled, off_t(filled)) }
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else { throw IngestError.malformed(file: path, line: nil, column: nil, reason: "the file shrank while it was read") }
            filled += got
        }
        return Checksum.crc32c(bytes)
    }
}

/// Parses one CSV record into typed values and its partition key, or says why the line is rejected.
struct RowParser {
    let spec: TableSpec
    let file: String
    let partitionIndex: Int?
    /// msno bytes of the block, referenced from entity columns as `offset << 16 | length` until the
    /// merge gives them ids in file order (ids follow first appearance, so they cannot be given in parallel).
    var entityBytes: [UInt8] = []
    let row: RowValues
    /// Column fed by each CSV field, in field order; and the columns that take a constant instead.
    private let columnOfField: [Int]
    private let types: [LogicalType]
    private let nullable: [Bool]
    private var lastPartitionDay: Int64 = .min
    private var lastPartitionKey = 0
    /// Each date column's last text (its first 8 bytes, then the last 2 with bit 16 set for YYYY-MM-DD, 0
    /// for YYYYMMDD) and its day number; `tail` is never 2 before the first date, so nothing matches then.
    private struct LastDate {
        var word: UInt64 = 0
        var tail: UInt64 = 2
        var value: Int64 = 0
    }
    private var lastDates: [LastDate]

    init(spec: TableSpec, file: String) {
        self.spec = spec
        self.file = file
        partitionIndex = spec.partitionIndex
        row = RowValues(columnCount: spec.columns.count)
        types = spec.columns.map(\.schema.type)
        nullable = spec.columns.map(\.schema.nullable)
        lastDates = Array(repeating: LastDate(), count: spec.columns.count)
        var columnOfField = Array(repeating: -1, count: spec.header.count)
        for (column, columnSpec) in spec.columns.enumerated() {
            switch columnSpec.source {
            case .field(let index): columnOfField[index] = column
            case .constant(let value):
                row.integers[column] = value
                row.isNull[column] = false
            }
        }
        self.columnOfField = columnOfField
    }

    /// Converts one non-empty field into `row`; false when the text is not a value of the column's type.
    @inline(__always) private mutating func convert(_ bytes: UnsafeRawBufferPointer, column: Int) -> Bool {
        row.isNull[column] = false
        switch types[column] {
        case .entity:
            // Ids are given per byte string and printed as text: a string that is not UTF-8 would print
            // like another one (U+FFFD), so it is rejected here.
            guard bytes.count <= Int(UInt16.max), FieldParsers.isValidUTF8(bytes) else { return false }
            row.integers[column] = Int64(entityBytes.count) << 16 | Int64(bytes.count)
            entityBytes.append(contentsOf: bytes)
        case .int64:
            guard let value = FieldParsers.int64(bytes) else { return false }
            row.integers[column] = value
        case .date:
            // Dates repeat from row to row (a log is written day by day): the last text of each column and
            // its day number are kept, and the same 8 or 10 bytes again skip the calendar arithmetic.
            if bytes.count == 8 || bytes.count == 10 {
                let word = bytes.loadUnaligned(as: UInt64.self)
                let tail = bytes.count == 10 ? UInt64(bytes.loadUnaligned(fromByteOffset: 8, as: UInt16.self)) | 1 << 16 : 0
                if lastDates[column].word == word && lastDates[column].tail == tail {
                    row.integers[column] = lastDates[column].value
                    return true
                }
                guard let value = FieldParsers.date(bytes) else { return false }
                lastDates[column] = LastDate(word: word, tail: tail, value: value)
                row.integers[column] = value
                return true
            }
            guard let value = FieldParsers.date(bytes) else { return false }
            row.integers[column] = value
        case .float64:
            guard let value = FieldParsers.float64(bytes) else { return false }
            row.floats[column] = value
        case .string:
            guard FieldParsers.isValidUTF8(bytes) else { return false }
            row.strings[column].removeAll(keepingCapacity: true)
            row.strings[column].append(contentsOf: bytes)
        case .bool:
            guard let value = FieldParsers.int64(bytes), value == 0 || value == 1 else { return false }
            row.integers[column] = value
        }
        return true
    }

    private mutating func partitionKey() -> Int {
        guard let partitionIndex else { return 0 }
        let day = row.integers[partitionIndex]
        if day != lastPartitionDay {
            lastPartitionDay = day
            lastPartitionKey = Dates.monthKey(dayNumber: Int(day))
        }
        return lastPartitionKey
    }

    /// The fast path for a line without quotes, `bytes[start..<end]` without its line end: fields are
    /// split and converted in one pass. nil when anything is off; the caller then runs `parse(_:)` on the
    /// line, which finds the same outcome and says why.
    @inline(__always) mutating func parseUnquoted(_ bytes: UnsafeRawBufferPointer, start: Int, end: Int) -> Int? {
        var position = start
        let fieldCount = columnOfField.count
        let entityMark = entityBytes.count
        for field in 0..<fieldCount {
            let fieldEnd = Self.comma(in: bytes, from: position, to: end)
            // Every field but the last ends at a comma; the last ends the line.
            guard (field == fieldCount - 1) == (fieldEnd == end) else { entityBytes.removeSubrange(entityMark...); return nil }
            let column = columnOfField[field]
            if fieldEnd == position {
                guard nullable[column] else { entityBytes.removeSubrange(entityMark...); return nil }
                row.isNull[column] = true
            } else if !convert(UnsafeRawBufferPointer(rebasing: bytes[position..<fieldEnd]), column: column) {
                entityBytes.removeSubrange(entityMark...)
                return nil
            }
            position = fieldEnd &+ 1
        }
        return partitionKey()
    }

    /// The position of the first comma in `bytes[from..<to]`, or `to`. Eight bytes at a time: in a word
    /// XORed with commas a comma is a zero byte, and `(x - 0x01…) & ~x & 0x80…` sets the high bit of the
    /// first zero byte (bits above it may be wrong, never below), so its trailing zeros count the bytes
    /// before the comma. A 44-byte msno is six words instead of 44 compares.
    @inline(__always) static func comma(in bytes: UnsafeRawBufferPointer, from: Int, to end: Int) -> Int {
        var position = from
        while position &+ 8 <= end {
            let word = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self)) ^ 0x2C2C_2C2C_2C2C_2C2C
            let found = (word &- 0x0101_0101_0101_0101) & ~word & 0x8080_8080_8080_8080
            if found != 0 { return position &+ found.trailingZeroBitCount &>> 3 }
            position &+= 8
        }
        while position < end && bytes[position] != UInt8(ascii: ",") { position &+= 1 }
        return position
    }

    mutating func parse(_ reader: CSVReader) -> Result<Int, RejectedLine> {
        func reject(_ column: String?, _ reason: String) -> Result<Int, RejectedLine> {
            .failure(RejectedLine(file: file, line: reader.recordLine, column: column, reason: reason, text: reader.recordText()))
        }
        if reader.unterminatedQuote { return reject(nil, "a quoted field is never closed") }
        guard reader.fields.count == spec.header.count else {
            return reject(nil, "expected \(spec.header.count) fields (\(spec.header.joined(separator: ","))), found \(reader.fields.count)")
        }
        for (index, column) in columnOfField.enumerated() {
            let schema = spec.columns[column].schema
            let field = reader.fields[index]
            let bytes = reader.bytes(field)
            if bytes.isEmpty {
                guard schema.nullable else { return reject(schema.name, "empty, but \(schema.name) is required") }
                row.isNull[column] = true
                continue
            }
            if convert(bytes, column: column) { continue }
            let text = reader.string(field)
            switch schema.type {
            case .entity, .string:
                if !FieldParsers.isValidUTF8(bytes) { return reject(schema.name, "not valid UTF-8 text (the file's encoding must be UTF-8)") }
                return reject(schema.name, "longer than \(UInt16.max) bytes")
            case .int64: return reject(schema.name, "'\(text)' is not an integer")
            case .date:
                return reject(schema.name, "'\(text)' is not a valid date (YYYYMMDD or YYYY-MM-DD, years \(Dates.yearRange.lowerBound)-\(Dates.yearRange.upperBound))")
            case .float64: return reject(schema.name, "'\(text)' is not a finite number")
            case .bool: return reject(schema.name, "'\(text)' is not 0 or 1")
            }
        }
        return .success(partitionKey())
    }
}

/// Rejected lines: all go to `rejects/<table>-vN.csv` in the store, the first few stay in memory.
struct RejectLog {
    let store: String
    let version: Int
    private(set) var kept: [RejectedLine] = []
    private(set) var count = 0
    private var lines: [String: [String]] = [:]

    init(store: String, version: Int) {
        self.store = store
        self.version = version
    }

    mutating func add(_ reject: RejectedLine) throws {
        count += 1
        if kept.count < Ingester.rejectsKeptMax { kept.append(reject) }
        let table = (reject.file as NSString).lastPathComponent
        lines[table, default: []].append([reject.file, String(reject.line), reject.column ?? "", reject.reason, reject.text].map(csvQuoted).joined(separator: ","))
    }

    /// Writes one rejects file per input file that had rejects; returns their store-relative paths.
    func writeFiles() throws -> [String] {
        var written: [String] = []
        for (name, rows) in lines.sorted(by: { $0.key < $1.key }) {
            let base = (name as NSString).deletingPathExtension
            let relative = StorePaths.rejectsName(table: base, version: version)
            try FileSystem.createDirectories(store + "/rejects")
            let text = "file,line,column,reason,text\n" + rows.joined(separator: "\n") + "\n"
            try FileSystem.writeAtomically(Array(text.utf8), to: store + "/" + relative, temporaryPath: store + "/rejects/.tmp-" + base)
            written.append(relative)
        }
        return written
    }
}

/// RFC 4180 quoting, only where needed.
public func csvQuoted(_ value: String) -> String {
    guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
    return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}
