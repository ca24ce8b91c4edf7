import Foundation
import StrataFormat
import StrataStorage
import Yams

/// A table that is not one of KKBox's (campaigns, songs, support tickets): its columns and partitioning,
/// from a schema file (`strata ingest --table NAME --schema FILE`) or inferred from a sample of the CSV.
///
/// The schema file is YAML:
/// ```yaml
/// columns:
///   - {name: msno, type: entity}          # entity, int64, float64, string, date, bool
///   - {name: offer_date, type: date}
///   - {name: renewed, type: int64, nullable: true}
/// partition_by: offer_date                # optional: a non-nullable date column, monthly partitions
/// ```
/// An `entity` column holds msno strings, stored as the store's entity ids, so the table joins with the
/// KKBox tables and can feed feature views.
public struct CustomTableSchema: Equatable, Sendable {
    public var columns: [ColumnSchema]
    public var partitionColumn: String?

    public init(columns: [ColumnSchema], partitionColumn: String?) throws {
        self.columns = columns
        self.partitionColumn = partitionColumn
        try check()
    }

    /// Schema files are a few lines; a larger one is refused before it is parsed.
    static let fileBytesMax = 1 << 20

    /// Reads a schema file; every mistake is reported with the file's name.
    public static func load(file: String) throws -> CustomTableSchema {
        guard FileSystem.isRegularFile(file) else { throw IngestError.schema(file: file, reason: "no such file") }
        if let size = try? FileSystem.fileSize(file), size > fileBytesMax {
            throw IngestError.schema(file: file, reason: "is \(size) bytes; a schema file is at most \(fileBytesMax) bytes (1,024 columns)")
        }
        let text: String
        do {
            text = String(decoding: try FileSystem.readFile(file), as: UTF8.self)
        } catch {
            throw IngestError.schema(file: file, reason: "cannot be read: \(error)")
        }
        return try parse(text, file: file)
    }

    /// Parses schema YAML. The document is walked as composed nodes, never expanded into values, so
    /// aliases that repeat a node a billion times cost nothing.
    public static func parse(_ text: String, file: String) throws -> CustomTableSchema {
        func fail(_ reason: String) -> IngestError { .schema(file: file, reason: reason) }
        guard text.utf8.count <= fileBytesMax else { throw fail("a schema file is at most \(fileBytesMax) bytes") }
        let document: Node?
        do {
            document = try Yams.compose(yaml: text)
        } catch {
            throw fail("is not valid YAML: \(String(describing: error).prefix(300))")
        }
        guard let root = document?.mapping else { throw fail("must be a mapping with `columns:` (and optionally `partition_by:`)") }
        var columnsNode: Node?
        var partitionNode: Node?
        for (key, value) in root {
            switch key.string {
            case "columns": columnsNode = value
            case "partition_by": partitionNode = value
            default: throw fail("unknown key '\((key.string ?? "?").prefix(64))' (known: columns, partition_by)")
            }
        }
        guard let list = columnsNode?.sequence, list.count > 0 else { throw fail("`columns:` must be a non-empty list of {name, type, nullable}") }
        guard list.count <= FormatLimits.columnCountMax else { throw fail("a table has 1 to \(FormatLimits.columnCountMax) columns, the schema lists \(list.count)") }
        var columns: [ColumnSchema] = []
        for (index, item) in list.enumerated() {
            guard let entry = item.mapping else { throw fail("column \(index + 1) must be a mapping {name: ..., type: ...}") }
            var name: String?
            var typeName: String?
            var nullable = false
            for (key, value) in entry {
                switch key.string {
                case "name": name = value.scalar?.string
                case "type": typeName = value.scalar?.string
                case "nullable":
                    guard let flag = value.bool else { throw fail("column \(index + 1): `nullable:` must be true or false") }
                    nullable = flag
                default: throw fail("column \(index + 1): unknown key '\((key.string ?? "?").prefix(64))' (known: name, type, nullable)")
                }
            }
            guard let name else { throw fail("column \(index + 1) needs a `name:` string") }
            guard let typeName, let type = LogicalType(name: typeName) else {
                throw fail("column \(name.prefix(64)): `type:` must be one of \(LogicalType.allCases.map(\.name).joined(separator: ", "))")
            }
            columns.append(ColumnSchema(name: name, type: type, nullable: nullable))
        }
        var partition: String?
        if let partitionNode {
            guard let name = partitionNode.scalar?.string else { throw fail("`partition_by:` must be a column name") }
            partition = name
        }
        do {
            return try CustomTableSchema(columns: columns, partitionColumn: partition)
        } catch let IngestError.schema(_, reason) {
            throw fail(reason)
        }
    }

    /// The rules a stored table's schema follows (format-spec §7): distinct non-empty names, at most
    /// 1,024 columns, a partition column that is a non-nullable date.
    func check() throws {
        func fail(_ reason: String) -> IngestError { .schema(file: "schema", reason: reason) }
        guard (1...FormatLimits.columnCountMax).contains(columns.count) else { throw fail("a table has 1 to \(FormatLimits.columnCountMax) columns") }
        var seen = Set<String>()
        for column in columns {
            guard !column.name.isEmpty, column.name.utf8.count <= 255 else { throw fail("column names are 1 to 255 bytes") }
            // A name is printed in headers and messages: no control characters, no spaces around it.
            guard !column.name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F || (0x80..<0xA0).contains($0.value) }),
                  column.name == column.name.trimmingCharacters(in: .whitespaces) else {
                throw fail("column name '\(column.name.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "?" : String($0) }.joined().prefix(64))' "
                    + "has a control character or spaces around it; rename the column")
            }
            guard seen.insert(column.name.lowercased()).inserted else { throw fail("column '\(column.name)' is listed twice") }
        }
        // The store has one entity dictionary, of msno: another column of ids would add its values to it.
        if let other = columns.first(where: { $0.type == .entity && $0.name != "msno" }) {
            throw fail("only a column named msno can be of type entity (the store's one entity is msno); make \(other.name.prefix(64)) a string")
        }
        if let partitionColumn {
            guard let column = columns.first(where: { $0.name == partitionColumn }) else {
                throw fail("partition_by names '\(partitionColumn.prefix(64))', which is not a column")
            }
            guard column.type == .date, !column.nullable else { throw fail("partition_by must name a non-nullable date column; \(partitionColumn) is \(column.nullable ? "nullable " : "")\(column.type.name)") }
        }
    }

    /// The schema as a schema file.
    public var yaml: String {
        var text = "columns:\n"
        for column in columns {
            text += "  - {name: \(Self.quoted(column.name)), type: \(column.type.name)\(column.nullable ? ", nullable: true" : "")}\n"
        }
        if let partitionColumn { text += "partition_by: \(Self.quoted(partitionColumn))\n" }
        return text
    }

    static func quoted(_ name: String) -> String {
        let plain = name.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "_") }
            && !(name.first?.isNumber ?? true) && !["true", "false", "null", "yes", "no", "on", "off", "y", "n"].contains(name.lowercased())
        return plain ? name : "\"" + name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// How to read a CSV with this header into the table: each column from the header field of its name
    /// (in any order). A column the header lacks, or a header field no column has, is an error.
    public func spec(table: String, header: [String], file: String) throws -> TableSpec {
        let missing = columns.map(\.name).filter { !header.contains($0) }
        let unexpected = header.filter { name in !columns.contains { $0.name == name } }
        guard missing.isEmpty, unexpected.isEmpty else {
            var parts: [String] = []
            if !missing.isEmpty { parts.append("missing column\(missing.count == 1 ? "" : "s") \(missing.joined(separator: ", "))") }
            if !unexpected.isEmpty { parts.append("column\(unexpected.count == 1 ? "" : "s") not in the schema: \(unexpected.map { String($0.prefix(64)) }.joined(separator: ", "))") }
            throw IngestError.malformed(file: file, line: 1, column: nil, reason: "the header does not match table \(table)'s schema: " + parts.joined(separator: "; "))
        }
        guard Set(header).count == header.count else {
            throw IngestError.malformed(file: file, line: 1, column: nil, reason: "the header names a column twice")
        }
        return TableSpec(
            name: table, header: header,
            columns: columns.map { ColumnSpec(schema: $0, source: .field(header.firstIndex(of: $0.name)!)) },
            partitionColumn: partitionColumn)
    }

    /// Infers a schema from the header and the first `sampleLines` records of a CSV: `msno` is an
    /// entity; a column whose values are all integers is int64, or a date when they are all YYYYMMDD or
    /// YYYY-MM-DD dates and its name mentions a date or time; all numbers: float64; otherwise string.
    /// Columns are nullable (a later row may leave them empty) except msno and the partition column:
    /// the first date column with no empty value in the sample. Print it for review before relying on it.
    public static func infer(path: String, sampleLines: Int = 10_000) throws -> CustomTableSchema {
        guard FileSystem.isRegularFile(path) else { throw IngestError.malformed(file: path, line: nil, column: nil, reason: "no such file") }
        let reader = try CSVReader(path: path)
        guard try reader.next() else { throw IngestError.emptyFile(file: path) }
        let header = (0..<reader.fields.count).map { reader.string(reader.fields[$0]) }
        var kinds = Array(repeating: Kind.unknown, count: header.count)
        var hasEmpty = Array(repeating: false, count: header.count)
        var lines = 0
        while lines < sampleLines, try reader.next() {
            lines += 1
            for index in 0..<min(header.count, reader.fields.count) {
                let text = reader.string(reader.fields[index])
                if text.isEmpty {
                    hasEmpty[index] = true
                    continue
                }
                kinds[index] = kinds[index].widened(by: text)
            }
        }
        var columns: [ColumnSchema] = []
        for (index, name) in header.enumerated() {
            let mentionsTime = ["date", "time", "day"].contains { name.lowercased().contains($0) }
            let type: LogicalType
            if name == "msno" {
                type = .entity
            } else {
                switch kinds[index] {
                case .unknown: type = .string
                case .integerDate: type = mentionsTime ? .date : .int64
                case .isoDate: type = .date
                case .integer: type = .int64
                case .number: type = .float64
                case .text: type = .string
                }
            }
            columns.append(ColumnSchema(name: name, type: type, nullable: type != .entity))
        }
        let partition = columns.indices.first { columns[$0].type == .date && !hasEmpty[$0] }
        if let partition { columns[partition].nullable = false }
        do {
            return try CustomTableSchema(columns: columns, partitionColumn: partition.map { columns[$0].name })
        } catch let IngestError.schema(_, reason) {
            throw IngestError.malformed(file: path, line: 1, column: nil, reason: "the header cannot be a table's: \(reason)")
        }
    }

    /// The narrowest type the values seen so far fit.
    enum Kind {
        case unknown, integerDate, isoDate, integer, number, text

        func widened(by text: String) -> Kind {
            let isInteger = Int64(text) != nil
            let isDate = Array(text.utf8).withUnsafeBytes { FieldParsers.date($0) != nil }
            let isNumber = isInteger || (Double(text).map { $0.isFinite } ?? false)
            let seen: Kind = isDate ? (isInteger ? .integerDate : .isoDate) : isInteger ? .integer : isNumber ? .number : .text
            return Self.join(self, seen)
        }

        static func join(_ a: Kind, _ b: Kind) -> Kind {
            if a == .unknown { return b }
            if b == .unknown || a == b { return a }
            switch (a, b) {
            case (.integerDate, .isoDate), (.isoDate, .integerDate): return .isoDate
            case (.integerDate, .integer), (.integer, .integerDate): return .integer
            case (.integerDate, .number), (.number, .integerDate), (.integer, .number), (.number, .integer): return .number
            default: return .text
            }
        }
    }
}
