/// Arithmetic over feature values for derived features: numbers, names (`cutoff`, an earlier feature,
/// or `group.column` of a last/attributes group), `+ - * /`, unary minus and parentheses.
/// Dates are day numbers, so `cutoff - member.registration_init_time` is a count of days.
/// NULL in, NULL out; division by zero gives NULL.
public indirect enum Expression: Equatable, Sendable {
    case integer(Int64)
    case float(Double)
    case reference([String])
    case negate(Expression)
    case binary(Character, Expression, Expression)

    /// Bounds that keep every recursion over an expression shallow (parsing, compiling, evaluating).
    public static let textLengthMax = 4096
    public static let nestingMax = 256
    public static let operatorCountMax = 256

    public static func parse(_ text: String) throws -> Expression {
        guard text.count <= textLengthMax else {
            throw ExpressionError(message: "the expression is \(text.count) characters long; at most \(textLengthMax) are allowed", position: textLengthMax)
        }
        var parser = ExpressionParser(characters: Array(text))
        let expression = try parser.expression()
        parser.skipSpaces()
        guard parser.position == parser.characters.count else { throw ExpressionError(message: "unexpected '\(parser.characters[parser.position])'", position: parser.position) }
        return expression
    }

    /// Every name the expression uses.
    public var references: [[String]] {
        switch self {
        case .integer, .float: []
        case .reference(let path): [path]
        case .negate(let inner): inner.references
        case .binary(_, let left, let right): left.references + right.references
        }
    }

    /// Whether the result is a float (any float operand or a division), given which names are floats.
    func isFloat(_ floatNames: (([String]) -> Bool)) -> Bool {
        switch self {
        case .integer: false
        case .float: true
        case .reference(let path): floatNames(path)
        case .negate(let inner): inner.isFloat(floatNames)
        case .binary(let op, let left, let right): op == "/" || left.isFloat(floatNames) || right.isFloat(floatNames)
        }
    }
}

public struct ExpressionError: Error, Equatable {
    public var message: String
    public var position: Int
}

/// A value during evaluation.
public enum FeatureValue: Equatable, Sendable {
    case null
    case integer(Int64)
    case float(Double)
    case string(String)

    var asDouble: Double? {
        switch self {
        case .integer(let value): Double(value)
        case .float(let value): value
        case .null, .string: nil
        }
    }
}

extension Expression {
    /// `left op right` with NULL propagation; integer arithmetic stays integer except division.
    static func combine(_ op: Character, _ left: FeatureValue, _ right: FeatureValue) -> FeatureValue {
        if case .integer(let a) = left, case .integer(let b) = right, op != "/" {
            switch op {
            case "+": return .integer(a &+ b)
            case "-": return .integer(a &- b)
            default: return .integer(a &* b)
            }
        }
        guard let a = left.asDouble, let b = right.asDouble else { return .null }
        switch op {
        case "+": return .float(a + b)
        case "-": return .float(a - b)
        case "*": return .float(a * b)
        default: return b == 0 ? .null : .float(a / b)
        }
    }
}

struct ExpressionParser {
    let characters: [Character]
    var position = 0
    /// Open parentheses and unary minus signs around the current position.
    var nesting = 0
    var operatorCount = 0

    mutating func countOperator() throws {
        operatorCount += 1
        guard operatorCount <= Expression.operatorCountMax else {
            throw ExpressionError(message: "more than \(Expression.operatorCountMax) operators", position: position)
        }
    }

    mutating func nest() throws {
        nesting += 1
        guard nesting <= Expression.nestingMax else {
            throw ExpressionError(message: "parentheses and minus signs nest deeper than \(Expression.nestingMax)", position: position)
        }
    }

    mutating func skipSpaces() {
        while position < characters.count && characters[position].isWhitespace { position += 1 }
    }

    mutating func expression() throws -> Expression {
        var left = try term()
        while true {
            skipSpaces()
            guard position < characters.count, characters[position] == "+" || characters[position] == "-" else { return left }
            let op = characters[position]
            position += 1
            try countOperator()
            left = .binary(op, left, try term())
        }
    }

    mutating func term() throws -> Expression {
        var left = try factor()
        while true {
            skipSpaces()
            guard position < characters.count, characters[position] == "*" || characters[position] == "/" else { return left }
            let op = characters[position]
            position += 1
            try countOperator()
            left = .binary(op, left, try factor())
        }
    }

    mutating func factor() throws -> Expression {
        skipSpaces()
        guard position < characters.count else { throw ExpressionError(message: "expected a value", position: position) }
        let character = characters[position]
        if character == "(" {
            position += 1
            try nest()
            defer { nesting -= 1 }
            let inner = try expression()
            skipSpaces()
            guard position < characters.count, characters[position] == ")" else { throw ExpressionError(message: "expected ')'", position: position) }
            position += 1
            return inner
        }
        if character == "-" {
            position += 1
            try nest()
            defer { nesting -= 1 }
            return .negate(try factor())
        }
        if character.isNumber || character == "." {
            let start = position
            while position < characters.count && (characters[position].isNumber || characters[position] == ".") { position += 1 }
            let text = String(characters[start..<position])
            if let integer = Int64(text) { return .integer(integer) }
            guard let value = Double(text) else { throw ExpressionError(message: "'\(text)' is not a number", position: start) }
            return .float(value)
        }
        if character.isLetter || character == "_" {
            var path: [String] = []
            repeat {
                if !path.isEmpty { position += 1 }
                let start = position
                while position < characters.count && (characters[position].isLetter || characters[position].isNumber || characters[position] == "_") { position += 1 }
                guard position > start else { throw ExpressionError(message: "expected a name after '.'", position: position) }
                path.append(String(characters[start..<position]))
            } while position < characters.count && characters[position] == "."
            guard path.count <= 2 else { throw ExpressionError(message: "a name is 'feature' or 'group.column'", position: position) }
            return .reference(path)
        }
        throw ExpressionError(message: "unexpected '\(character)'", position: position)
    }
}
