import Foundation

/// Prints rows as an aligned text table, CSV (RFC 4180, `\n` line ends, NULL as an empty field) or a
/// JSON array of objects (NULL as null). CSV and JSON stream; the text table is laid out at the end.
final class RowPrinter {
    /// How a column's cells appear in JSON.
    enum JSONKind {
        /// Numbers as numbers, anything else as a string (stored tables, whose text is unambiguous).
        case auto
        /// Always a string, even "123" (a VARCHAR).
        case string
        /// Written as is: true, false, or a number.
        case literal
    }

    let header: [String]
    let format: OutputFormat
    private let jsonKinds: [JSONKind]
    private var buffered: [[String?]] = []
    private var output = ""
    private var jsonRows = 0

    init(header: [String], format: OutputFormat, jsonKinds: [JSONKind]? = nil) {
        self.header = header
        self.format = format
        self.jsonKinds = jsonKinds ?? header.map { _ in .auto }
        switch format {
        case .csv: output = header.map(csvField).joined(separator: ",") + "\n"
        case .json: output = "["
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
            output += row.map { $0.map(csvField) ?? "" }.joined(separator: ",")
            output += "\n"
        case .json:
            output += (jsonRows == 0 ? "\n" : ",\n") + "  {" + header.indices.map { column in
                jsonString(header[column]) + ": " + (row[column].map { jsonCell($0, kind: jsonKinds[column]) } ?? "null")
            }.joined(separator: ", ") + "}"
            jsonRows += 1
        }
        if output.utf8.count >= 1 << 16 { flush() }
    }

    func finish() {
        switch format {
        case .table: output += layout()
        case .csv: break
        case .json: output += jsonRows == 0 ? "]\n" : "\n]\n"
        }
        flush()
    }

    private func flush() {
        Swift.print(output, terminator: "")
        output = ""
    }

    private func layout() -> String {
        let cells = buffered.map { $0.map { $0 ?? "NULL" } }
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

    private func csvField(_ value: String) -> String {
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    private func jsonCell(_ value: String, kind: JSONKind) -> String {
        switch kind {
        case .auto: jsonValue(value)
        case .string: jsonString(value)
        case .literal: value == "nan" || value == "inf" || value == "-inf" ? jsonString(value) : value
        }
    }

    /// Numbers stay numbers; everything else becomes a JSON string. NaN and infinities are not JSON numbers.
    private func jsonValue(_ value: String) -> String {
        if Double(value) != nil, value != "nan", value != "inf", value != "-inf", !value.hasPrefix("+") {
            return value
        }
        return jsonString(value)
    }

    private func jsonString(_ value: String) -> String {
        var result = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default:
                if scalar.value < 0x20 {
                    result += String(format: "\\u%04x", scalar.value)
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
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
