/// One token of SQL text, with its span in UTF-8 offsets for error carets.
struct Token: Equatable {
    enum Kind: Equatable {
        /// An unquoted word, lowercased (keywords are words too: the parser decides).
        case word(String)
        /// A "double-quoted" identifier, case kept.
        case quotedIdentifier(String)
        case integer(Int64)
        case decimal(Double)
        case string(String)
        /// Punctuation and operators: ( ) , . ; * + - / // % = <> != < <= > >=
        case symbol(String)
        case end
    }

    let kind: Kind
    let position: Range<Int>
}

/// Splits SQL into tokens. `--` starts a comment to the end of the line; `/* … */` is a comment too.
enum Lexer {
    static func tokens(_ sql: String) throws -> [Token] {
        let bytes = Array(sql.utf8)
        var tokens: [Token] = []
        var index = 0
        func isWordByte(_ byte: UInt8) -> Bool {
            (byte >= 97 && byte <= 122) || (byte >= 65 && byte <= 90) || byte == 95 || (byte >= 48 && byte <= 57) || byte >= 0x80
        }
        func isDigit(_ byte: UInt8) -> Bool { byte >= 48 && byte <= 57 }
        while index < bytes.count {
            let byte = bytes[index]
            let start = index
            if byte == 32 || byte == 9 || byte == 10 || byte == 13 {
                index += 1
            } else if byte == UInt8(ascii: "-") && index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "-") {
                while index < bytes.count && bytes[index] != 10 { index += 1 }
            } else if byte == UInt8(ascii: "/") && index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "*") {
                // Block comments nest, as in DuckDB and PostgreSQL.
                index += 2
                var depth = 1
                while depth > 0 {
                    guard index + 1 < bytes.count else {
                        throw QueryError("unterminated /* comment", at: start..<bytes.count, hint: "close it with */")
                    }
                    if bytes[index] == UInt8(ascii: "/") && bytes[index + 1] == UInt8(ascii: "*") {
                        depth += 1
                        index += 2
                    } else if bytes[index] == UInt8(ascii: "*") && bytes[index + 1] == UInt8(ascii: "/") {
                        depth -= 1
                        index += 2
                    } else {
                        index += 1
                    }
                }
            } else if isDigit(byte) || (byte == UInt8(ascii: ".") && index + 1 < bytes.count && isDigit(bytes[index + 1])) {
                var isDecimal = false
                while index < bytes.count && isDigit(bytes[index]) { index += 1 }
                if index < bytes.count && bytes[index] == UInt8(ascii: ".") {
                    isDecimal = true
                    index += 1
                    while index < bytes.count && isDigit(bytes[index]) { index += 1 }
                }
                if index < bytes.count && (bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E")) {
                    var look = index + 1
                    if look < bytes.count && (bytes[look] == UInt8(ascii: "+") || bytes[look] == UInt8(ascii: "-")) { look += 1 }
                    if look < bytes.count && isDigit(bytes[look]) {
                        isDecimal = true
                        index = look
                        while index < bytes.count && isDigit(bytes[index]) { index += 1 }
                    }
                }
                if index < bytes.count && isWordByte(bytes[index]) {
                    throw QueryError("malformed number", at: start..<(index + 1))
                }
                let text = String(decoding: bytes[start..<index], as: UTF8.self)
                if !isDecimal, let value = Int64(text) {
                    tokens.append(Token(kind: .integer(value), position: start..<index))
                } else if let value = Double(text) {
                    tokens.append(Token(kind: .decimal(value), position: start..<index))
                } else {
                    throw QueryError("malformed number '\(text)'", at: start..<index)
                }
            } else if isWordByte(byte) {
                while index < bytes.count && isWordByte(bytes[index]) { index += 1 }
                tokens.append(Token(kind: .word(String(decoding: bytes[start..<index], as: UTF8.self).lowercased()), position: start..<index))
            } else if byte == UInt8(ascii: "'") || byte == UInt8(ascii: "\"") {
                let quote = byte
                var value: [UInt8] = []
                index += 1
                while true {
                    guard index < bytes.count else {
                        throw QueryError(quote == UInt8(ascii: "'") ? "unterminated string literal" : "unterminated quoted identifier",
                                         at: start..<bytes.count, hint: "close it with \(quote == UInt8(ascii: "'") ? "'" : "\"")")
                    }
                    if bytes[index] == quote {
                        if index + 1 < bytes.count && bytes[index + 1] == quote {
                            value.append(quote)
                            index += 2
                            continue
                        }
                        index += 1
                        break
                    }
                    value.append(bytes[index])
                    index += 1
                }
                let text = String(decoding: value, as: UTF8.self)
                tokens.append(Token(kind: quote == UInt8(ascii: "'") ? .string(text) : .quotedIdentifier(text), position: start..<index))
            } else {
                let two = index + 1 < bytes.count ? String(decoding: bytes[index...(index + 1)], as: UTF8.self) : ""
                if ["<>", "!=", "<=", ">=", "//"].contains(two) {
                    tokens.append(Token(kind: .symbol(two), position: start..<(index + 2)))
                    index += 2
                } else if "(),.;*+-/%=<>".utf8.contains(byte) {
                    tokens.append(Token(kind: .symbol(String(UnicodeScalar(byte))), position: start..<(index + 1)))
                    index += 1
                } else {
                    var end = index + 1
                    while end < bytes.count && bytes[end] & 0xC0 == 0x80 { end += 1 }
                    throw QueryError("unexpected character '\(String(decoding: bytes[start..<end], as: UTF8.self))'", at: start..<end)
                }
            }
        }
        tokens.append(Token(kind: .end, position: bytes.count..<bytes.count))
        return tokens
    }
}
