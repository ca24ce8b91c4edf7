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
    /// Rows per segment file, and rows buffered across all partitions: together they bound memory.
    public var segmentRowCountMax = 1 << 20
    public var bufferedRowCountMax = 2 << 20
    /// Called now and then with progress; nil for silence.
    public var progress: (@Sendable (IngestProgress) -> Void)?

    public init() {}
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
        let spec: TableSpec
        var headerConsumed = true
        if let forced = options.forcedTable {
            guard var forcedSpec = KKBoxTables.named(forced) else {
                throw IngestError.unknownTable(name: forced, known: KKBoxTables.all.map(\.name))
            }
            if forced == "labels", firstRecord.count == 2 || firstRecord == KKBoxTables.kaggleTrainHeader {
                guard let cutoff = options.cutoffDay else { throw IngestError.missingCutoff(file: file) }
                forcedSpec = KKBoxTables.kaggleLabels(cutoffDay: cutoff)
            }
            spec = forcedSpec
            // With --table the header is optional: a first line that is not the header is data.
            headerConsumed = firstRecord == spec.header
        } else {
            guard let recognised = try KKBoxTables.recognise(header: firstRecord, file: file, cutoffDay: options.cutoffDay) else {
                throw IngestError.unrecognisedHeader(file: file, header: firstRecord.joined(separator: ","), known: KKBoxTables.knownHeaders)
            }
            spec = recognised
        }
        try writer.ensureTable(spec.name, columns: spec.schemas, partitionColumn: spec.partitionColumn, partitioning: spec.partitioning)
        writer.addSourceBytes(size, to: spec.name)
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
        try merger.finish()
        options.progress?(IngestProgress(file: file, bytesRead: size, fileSizeBytes: size, rowCount: merger.rowsIngested, elapsedSeconds: -started.timeIntervalSinceNow))
        return FileReport(file: file, table: spec.name, rowsIngested: merger.rowsIngested, rowsRejected: merger.rowsRejected, sizeBytes: size, seconds: -started.timeIntervalSinceNow)
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
    var row: RowValues
    /// Column fed by each CSV field, in field order; and the columns that take a constant instead.
    private let columnOfField: [Int]
    private let types: [LogicalType]
    private let nullable: [Bool]
    private var lastPartitionDay: Int64 = .min
    private var lastPartitionKey = 0

    init(spec: TableSpec, file: String) {
        self.spec = spec
        self.file = file
        partitionIndex = spec.partitionIndex
        row = RowValues(columnCount: spec.columns.count)
        types = spec.columns.map(\.schema.type)
        nullable = spec.columns.map(\.schema.nullable)
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
            var fieldEnd = position
            while fieldEnd < end && bytes[fieldEnd] != UInt8(ascii: ",") { fieldEnd &+= 1 }
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
