import Foundation
import StrataFormat

/// Prints rows as an aligned text table, CSV (RFC 4180, `\n` line ends, NULL as an empty field) or a
/// compact JSON array of objects, one object per line (NULL as null). CSV and JSON stream; the text
/// table is laid out at the end. Every command that prints rows prints them through here
/// (Sources/strata/README.md, "Output").
final class RowPrinter {
    /// How a column's cells appear in JSON.
    enum JSONKind {
        /// Numbers as numbers, anything else as a string (stored tables, whose text is unambiguous).
        case auto
        /// Always a string, even "123" (a VARCHAR).
        case string
        /// Written as is: true, false, or a number.
        case literal

        /// How a stored column's values appear: text, dates and msno as strings, numbers as numbers.
        static func of(_ type: LogicalType) -> JSONKind {
            switch type {
            case .string, .entity, .date: .string
            case .int64, .float64, .bool: .literal
            }
        }
    }

    let header: [String]
    let format: OutputFormat
    private let jsonKinds: [JSONKind]
    private var buffered: [[String?]] = []
    /// CSV and JSON are built as bytes and written in 64 KiB pieces: exports of millions of rows spend
    /// their time formatting values, not concatenating Strings.
    private var output: [UInt8] = []
    private var jsonRows = 0

    init(header: [String], format: OutputFormat, jsonKinds: [JSONKind]? = nil) {
        self.header = header
        self.format = format
        self.jsonKinds = jsonKinds ?? header.map { _ in .auto }
        output.reserveCapacity(1 << 17)
        switch format {
        case .csv:
            for (index, name) in header.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                appendCSVField(name)
            }
            output.append(UInt8(ascii: "\n"))
        case .json: output.append(UInt8(ascii: "["))
        case .table: break
        }
    }

    static func print(header: [String], rows: [[String?]], format: OutputFormat) {
        let printer = RowPrinter(header: header, format: format)
        for row in rows { printer.add(row) }
        printer.finish()
    }

    func add(_ row: [String?]) {
        switch format {
        case .table:
            buffered.append(row)
        case .csv:
            for (index, cell) in row.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                // An empty string is written quoted, so that it differs from NULL (nothing).
                if let cell { if cell.isEmpty { append("\"\"") } else { appendCSVField(cell) } }
            }
            output.append(UInt8(ascii: "\n"))
        case .json:
            append(jsonRows == 0 ? "{" : ",\n{")
            for (column, cell) in row.enumerated() {
                if column > 0 { output.append(UInt8(ascii: ",")) }
                appendJSONString(header[column])
                output.append(UInt8(ascii: ":"))
                if let cell { appendJSONCell(cell, kind: jsonKinds[column]) } else { append("null") }
            }
            output.append(UInt8(ascii: "}"))
            jsonRows += 1
        }
        if output.count >= 1 << 16 { flush() }
    }

    func finish() {
        switch format {
        case .table: append(layout())
        case .csv: break
        case .json: append("]\n")
        }
        flush()
    }

    private func flush() {
        writeStandardOutput(output)
        output.removeAll(keepingCapacity: true)
    }

    private func append(_ text: String) { output.append(contentsOf: text.utf8) }

    /// RFC 4180: quoted when it holds a comma, a quote or a line break; quotes doubled.
    private func appendCSVField(_ value: String) {
        let bytes = value.utf8
        guard bytes.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 10 || $0 == 13 }) else {
            output.append(contentsOf: bytes)
            return
        }
        output.append(UInt8(ascii: "\""))
        for byte in bytes {
            if byte == UInt8(ascii: "\"") { output.append(byte) }
            output.append(byte)
        }
        output.append(UInt8(ascii: "\""))
    }

    private func appendJSONCell(_ value: String, kind: JSONKind) {
        switch kind {
        case .auto where isJSONNumber(value) || value == "true" || value == "false": append(value)
        case .literal where value != "nan" && value != "inf" && value != "-inf": append(value)
        default: appendJSONString(value)
        }
    }

    /// Numbers stay numbers; everything else becomes a JSON string. NaN and infinities are not JSON numbers.
    private func isJSONNumber(_ value: String) -> Bool {
        Double(value) != nil && value != "nan" && value != "inf" && value != "-inf" && !value.hasPrefix("+")
    }

    private func appendJSONString(_ value: String) { JSONText.appendString(value, to: &output) }

    private func layout() -> String {
        // Control characters in data would move the cursor or drive the terminal: shown as escapes.
        let cells = buffered.map { $0.map { $0.map(Self.visible) ?? "NULL" } }
        let header = self.header.map(Self.visible)
        var widths = header.map(\.count)
        for row in cells { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        func line(_ values: [String]) -> String {
            values.enumerated().map { index, value in
                value + String(repeating: " ", count: widths[index] - value.count)
            }.joined(separator: "  ").trimmingTrailingSpaces() + "\n"
        }
        var text = line(header)
        text += line(widths.map { String(repeating: "-", count: $0) })
        for row in cells { text += line(row) }
        return text
    }
}

/// Results that are one record rather than rows (a training run, a verification report) as JSON: compact,
/// snake_case keys, keys sorted, non-finite numbers as the strings "nan", "inf", "-inf".
enum JSONOutput {
    static func print<T: Encodable>(_ value: T) throws {
        writeStandardOutput(Array(try JSONText.recordEncoder.encode(value)) + [10])
    }
}

/// A result of a command: a record in JSON, its fields as a one-row table in CSV, and `text` otherwise.
struct RecordPrinter {
    var format: OutputFormat

    /// `fields` in order (name, text) for the table and CSV forms; `record` for JSON.
    func print<T: Encodable>(_ record: T, fields: [(String, String?)], text: () -> Void) throws {
        switch format {
        case .json: try JSONOutput.print(record)
        case .csv: RowPrinter.print(header: fields.map(\.0), rows: [fields.map(\.1)], format: .csv)
        case .table: text()
        }
    }
}

extension RowPrinter {
    /// `text` with control characters written as escapes (`\n`, `\t`, `\u{1B}`), for the text table.
    static func visible(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F || (0x80..<0xA0).contains($0.value) }) else { return text }
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": result += "\\n"
            case "\t": result += "\\t"
            case "\r": result += "\\r"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F || (0x80..<0xA0).contains(scalar.value):
                result += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}

extension String {
    /// Without the padding after the last column (leading spaces are data).
    func trimmingTrailingSpaces() -> String {
        var end = endIndex
        while end > startIndex && self[index(before: end)] == " " { end = index(before: end) }
        return String(self[..<end])
    }
}
