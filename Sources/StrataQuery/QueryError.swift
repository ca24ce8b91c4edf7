/// Anything wrong with a query that a user can fix: bad syntax, an unknown table or column, a type
/// mismatch, a failed cast, a division by zero, a limit hit. `position` is the span of SQL text the error
/// is about (UTF-8 offsets), shown under the query with a caret line.
public struct QueryError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public let position: Range<Int>?
    /// A line of advice printed after the caret (the columns that exist, the flag to raise a limit).
    public let hint: String?

    public init(_ message: String, at position: Range<Int>? = nil, hint: String? = nil) {
        self.message = message
        self.position = position
        self.hint = hint
    }

    public var description: String { message }

    /// The message, the offending line of `sql` with a caret under the span, and the hint.
    public func rendered(sql: String) -> String {
        var text = message
        if let position {
            let bytes = Array(sql.utf8)
            let start = min(position.lowerBound, bytes.count)
            var lineStart = start
            while lineStart > 0 && bytes[lineStart - 1] != UInt8(ascii: "\n") { lineStart -= 1 }
            var lineEnd = start
            while lineEnd < bytes.count && bytes[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
            let lineNumber = bytes[..<lineStart].filter { $0 == UInt8(ascii: "\n") }.count + 1
            let column = String(decoding: bytes[lineStart..<start], as: UTF8.self).count
            text += " (line \(lineNumber), column \(column + 1))\n"
            // A long line is shown as a window around the error, so the caret stays on screen.
            var line = Array(String(decoding: bytes[lineStart..<lineEnd], as: UTF8.self))
            var caretColumn = column
            var width = max(1, String(decoding: bytes[start..<min(max(position.upperBound, start), lineEnd)], as: UTF8.self).count)
            let before = 40, after = 60
            if caretColumn > before {
                line = Array("…") + line[(caretColumn - before)...]
                caretColumn = before + 1
            }
            if line.count > caretColumn + after {
                line = Array(line[..<(caretColumn + after)]) + Array("…")
                width = min(width, after)
            }
            text += "  " + String(line) + "\n"
            text += "  " + String(repeating: " ", count: caretColumn) + "^" + String(repeating: "~", count: width - 1)
        }
        if let hint { text += "\n" + hint }
        return text
    }
}
