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
        do {
            let flusher = SegmentFlusher(writer: writer)
            var reports: [FileReport] = []
            var rejects = RejectLog(store: path, version: writer.newVersion)
            for file in files {
                reports.append(try ingestFile(file, writer: writer, flusher: flusher, rejects: &rejects, options: options))
            }
            try flusher.drain()
            let rejectsFiles = try rejects.writeFiles()
            let names = Set(reports.map(\.table)).sorted().joined(separator: ", ")
            let manifest = try writer.commit(operation: "ingest \(files.map { ($0 as NSString).lastPathComponent }.joined(separator: " ")) into \(names)")
            return IngestReport(version: manifest.version, files: reports, rejects: rejects.kept, rejectedCount: rejects.count, rejectsFiles: rejectsFiles)
        } catch {
            writer.abort()
            throw error
        }
    }

    static func ingestFile(
        _ file: String, writer: StoreWriter, flusher: SegmentFlusher, rejects: inout RejectLog, options: IngestOptions
    ) throws -> FileReport {
        let started = Date()
        guard let size = try FileSystem.fileSize(file) else {
            throw IngestError.malformed(file: file, line: nil, column: nil, reason: "no such file")
        }
        guard size > 0 else { throw IngestError.emptyFile(file: file) }
        let reader = try CSVReader(path: file)
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

        var parser = RowParser(spec: spec, file: file, entities: writer.entities)
        var buffers: [Int: PartitionBuffer] = [:]
        var bufferedRows = 0
        var rowsIngested = 0
        var rowsRejected = 0
        let progressEvery = 1 << 17

        func flush(_ buffer: PartitionBuffer) throws {
            bufferedRows -= buffer.rowCount
            try flusher.enqueue(table: spec.name, partition: buffer.partition, columns: buffer.takeColumns(), policy: options.policy)
        }

        var pending = !headerConsumed
        while true {
            if !pending {
                guard try reader.next() else { break }
            }
            pending = false
            if reader.isBlankRecord { continue }
            let partition: Int
            switch parser.parse(reader) {
            case .success(let key):
                partition = key
            case .failure(let reject):
                if options.strict {
                    throw IngestError.malformed(file: file, line: reject.line, column: reject.column, reason: reject.reason + " (--strict: nothing was ingested)")
                }
                rowsRejected += 1
                try rejects.add(reject)
                continue
            }
            let buffer = buffers[partition] ?? {
                let created = PartitionBuffer(partition: partition, schemas: spec.schemas)
                buffers[partition] = created
                return created
            }()
            buffer.append(parser.row, reader: reader)
            bufferedRows += 1
            rowsIngested += 1
            if buffer.rowCount >= options.segmentRowCountMax {
                try flush(buffer)
            } else if bufferedRows >= options.bufferedRowCountMax, let largest = buffers.values.max(by: { $0.rowCount < $1.rowCount }) {
                try flush(largest)
            }
            if rowsIngested % progressEvery == 0, let progress = options.progress {
                progress(IngestProgress(file: file, bytesRead: reader.bytesConsumed, fileSizeBytes: size, rowCount: rowsIngested, elapsedSeconds: -started.timeIntervalSinceNow))
            }
        }
        for key in buffers.keys.sorted() where buffers[key]!.rowCount > 0 { try flush(buffers[key]!) }
        options.progress?(IngestProgress(file: file, bytesRead: size, fileSizeBytes: size, rowCount: rowsIngested, elapsedSeconds: -started.timeIntervalSinceNow))
        return FileReport(file: file, table: spec.name, rowsIngested: rowsIngested, rowsRejected: rowsRejected, sizeBytes: size, seconds: -started.timeIntervalSinceNow)
    }
}

/// Parses one CSV record into typed values and its partition key, or says why the line is rejected.
struct RowParser {
    let spec: TableSpec
    let file: String
    let entities: EntityDictionary
    let partitionIndex: Int?
    var row: RowValues
    private var lastPartitionDay: Int64 = .min
    private var lastPartitionKey = 0

    init(spec: TableSpec, file: String, entities: EntityDictionary) {
        self.spec = spec
        self.file = file
        self.entities = entities
        partitionIndex = spec.partitionIndex
        row = RowValues(columnCount: spec.columns.count)
    }

    mutating func parse(_ reader: CSVReader) -> Result<Int, RejectedLine> {
        func reject(_ column: String?, _ reason: String) -> Result<Int, RejectedLine> {
            .failure(RejectedLine(file: file, line: reader.recordLine, column: column, reason: reason, text: reader.recordText()))
        }
        if reader.unterminatedQuote { return reject(nil, "a quoted field is never closed") }
        guard reader.fields.count == spec.header.count else {
            return reject(nil, "expected \(spec.header.count) fields (\(spec.header.joined(separator: ","))), found \(reader.fields.count)")
        }
        for (column, columnSpec) in spec.columns.enumerated() {
            let schema = columnSpec.schema
            guard case .field(let index) = columnSpec.source else {
                if case .constant(let value) = columnSpec.source {
                    row.integers[column] = value
                    row.isNull[column] = false
                }
                continue
            }
            let field = reader.fields[index]
            let bytes = reader.bytes(field)
            if bytes.isEmpty {
                guard schema.nullable else { return reject(schema.name, "empty, but \(schema.name) is required") }
                row.isNull[column] = true
                continue
            }
            row.isNull[column] = false
            switch schema.type {
            case .entity:
                row.integers[column] = Int64(entities.id(for: bytes))
            case .int64:
                guard let value = FieldParsers.int64(bytes) else { return reject(schema.name, "'\(reader.string(field))' is not an integer") }
                row.integers[column] = value
            case .date:
                guard let value = FieldParsers.date(bytes) else {
                    return reject(schema.name, "'\(reader.string(field))' is not a valid date (YYYYMMDD or YYYY-MM-DD, years \(Dates.yearRange.lowerBound)-\(Dates.yearRange.upperBound))")
                }
                row.integers[column] = value
            case .float64:
                guard let value = FieldParsers.float64(bytes) else { return reject(schema.name, "'\(reader.string(field))' is not a finite number") }
                row.floats[column] = value
            case .string:
                row.stringFields[column] = field
            case .bool:
                guard let value = FieldParsers.int64(bytes), value == 0 || value == 1 else { return reject(schema.name, "'\(reader.string(field))' is not 0 or 1") }
                row.integers[column] = value
            }
        }
        guard let partitionIndex else { return .success(0) }
        let day = row.integers[partitionIndex]
        if day != lastPartitionDay {
            lastPartitionDay = day
            lastPartitionKey = Dates.monthKey(dayNumber: Int(day))
        }
        return .success(lastPartitionKey)
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
