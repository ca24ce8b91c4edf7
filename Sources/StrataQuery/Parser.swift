/// A recursive-descent parser for Strata's SQL subset (see README, "Querying"). Precedence, lowest
/// first: OR, AND, NOT, comparisons / IS / BETWEEN / IN, + -, * / // %, unary minus.
public struct Parser {
    private let tokens: [Token]
    private var index = 0
    /// Nesting of expressions being parsed; bounded so a pathological query is an error, not a stack overflow.
    private var depth = 0
    static let depthMax = 256

    /// Words that end an expression or a clause, so they can never be read as an alias.
    private static let reserved: Set<String> = [
        "select", "from", "where", "group", "by", "having", "order", "limit", "offset", "join", "inner", "left",
        "outer", "using", "on", "and", "or", "not", "as", "asc", "desc", "nulls", "is", "in", "between", "case",
        "when", "then", "else", "end", "union", "cross", "right", "full", "distinct",
    ]

    public static func parse(_ sql: String) throws -> SelectStatement {
        var parser = Parser(tokens: try Lexer.tokens(sql))
        return try parser.statement()
    }

    /// One scalar expression and nothing after it (a derived feature, a window filter).
    package static func parseExpression(_ sql: String) throws -> Expression {
        var parser = Parser(tokens: try Lexer.tokens(sql))
        let expression = try parser.expression()
        guard parser.current.kind == .end else {
            throw QueryError("unexpected \(parser.describe(parser.current)) after the expression", at: parser.current.position)
        }
        return expression
    }

    private init(tokens: [Token]) { self.tokens = tokens }

    // MARK: Statement

    private mutating func statement() throws -> SelectStatement {
        let explain = accept("explain")
        try expect("select", what: "SELECT")
        if peekWord("distinct") { throw QueryError("SELECT DISTINCT is not supported", at: current.position, hint: "use GROUP BY over the selected columns") }
        var items: [SelectItem] = []
        repeat {
            if case .symbol("*") = current.kind {
                items.append(.star(position: current.position))
                advance()
            } else {
                let expression = try self.expression()
                items.append(.expression(expression, alias: try alias()))
            }
        } while accept(symbol: ",")
        try expect("from", what: "FROM")
        let from = try tableReference()
        var join: JoinClause?
        if peekWord("join") || peekWord("inner") || peekWord("left") {
            join = try joinClause()
        } else if peekWord("right") || peekWord("full") || peekWord("cross") || accept(symbol: ",") {
            throw QueryError("only [INNER] JOIN and LEFT JOIN ... USING (msno) are supported", at: tokens[index - (tokens[index - 1].kind == .symbol(",") ? 1 : 0)].position)
        }
        var statement = SelectStatement(explain: explain, items: items, from: from, join: join, filter: nil, groupBy: [],
                                        having: nil, orderBy: [], orderByAll: nil, limit: nil, offset: nil)
        if accept("where") { statement.filter = try expression() }
        if accept("group") {
            try expect("by", what: "BY after GROUP")
            if peekWord("all") && !(tokens[index + 1].kind == .symbol(".")) && !(tokens[index + 1].kind == .symbol("(")) {
                advance()
                statement.groupByAll = true
            } else {
                repeat { statement.groupBy.append(try expression()) } while accept(symbol: ",")
            }
        }
        if accept("having") { statement.having = try expression() }
        if accept("order") {
            try expect("by", what: "BY after ORDER")
            let orderByAll = peekWord("all") && !(tokens[index + 1].kind == .symbol(".")) && !(tokens[index + 1].kind == .symbol("("))
            if orderByAll { advance() }
            repeat {
                let expression = orderByAll ? Expression(kind: .null, position: current.position) : try self.expression()
                var descending = false
                if accept("desc") { descending = true } else { _ = accept("asc") }
                var nullsFirst: Bool?
                if accept("nulls") {
                    if accept("first") { nullsFirst = true } else if accept("last") { nullsFirst = false } else {
                        throw QueryError("expected FIRST or LAST after NULLS", at: current.position)
                    }
                }
                let item = OrderItem(expression: expression, descending: descending, nullsFirst: nullsFirst)
                if orderByAll {
                    statement.orderByAll = item
                    break
                }
                statement.orderBy.append(item)
            } while accept(symbol: ",")
        }
        if accept("limit") { statement.limit = try count("LIMIT") }
        if accept("offset") { statement.offset = try count("OFFSET") }
        _ = accept(symbol: ";")
        guard current.kind == .end else {
            throw QueryError("unexpected \(describe(current)) after the end of the query", at: current.position)
        }
        return statement
    }

    private mutating func count(_ clause: String) throws -> Int {
        guard case .integer(let value) = current.kind, value >= 0 else {
            throw QueryError("\(clause) takes a non-negative integer", at: current.position)
        }
        advance()
        return Int(value)
    }

    private mutating func tableReference() throws -> TableReference {
        let token = current
        let name = try identifier(what: "a table name")
        return TableReference(name: name, alias: try alias(), position: token.position)
    }

    private mutating func joinClause() throws -> JoinClause {
        var isLeft = false
        if accept("left") {
            isLeft = true
            _ = accept("outer")
        } else {
            _ = accept("inner")
        }
        try expect("join", what: "JOIN")
        let table = try tableReference()
        if peekWord("on") {
            throw QueryError("JOIN ... ON is not supported", at: current.position, hint: "join on the entity with USING (msno)")
        }
        try expect("using", what: "USING (msno)")
        try expect(symbol: "(")
        var columns: [(String, Range<Int>)] = []
        repeat {
            let position = current.position
            columns.append((try identifier(what: "a column name"), position))
        } while accept(symbol: ",")
        try expect(symbol: ")")
        return JoinClause(isLeft: isLeft, table: table, usingColumns: columns)
    }

    /// `[AS] name`, or nil when no alias follows.
    private mutating func alias() throws -> String? {
        if accept("as") { return try identifier(what: "an alias") }
        switch current.kind {
        case .word(let word) where !Self.reserved.contains(word): return try identifier(what: "an alias")
        case .quotedIdentifier: return try identifier(what: "an alias")
        default: return nil
        }
    }

    // MARK: Expressions

    mutating func expression() throws -> Expression {
        try nest()
        defer { depth -= 1 }
        return try or()
    }

    private mutating func nest() throws {
        depth += 1
        if depth > Self.depthMax {
            throw QueryError("the expression nests deeper than \(Self.depthMax) levels", at: current.position, hint: "simplify it")
        }
    }

    private mutating func or() throws -> Expression {
        var terms = [try and()]
        while peekWord("or") {
            advance()
            terms.append(try and())
        }
        return try balanced(.or, terms[...])
    }

    private mutating func and() throws -> Expression {
        var terms = [try not()]
        while peekWord("and") {
            advance()
            terms.append(try not())
        }
        return try balanced(.and, terms[...])
    }

    /// A chain of ANDs (or ORs) as a balanced tree: the same result in three-valued logic, and a
    /// height of log2(n), so hundreds of conditions nest no deeper than a few.
    private func balanced(_ op: BinaryOperator, _ terms: ArraySlice<Expression>) throws -> Expression {
        if terms.count == 1 { return terms.first! }
        let middle = terms.startIndex + terms.count / 2
        let left = try balanced(op, terms[..<middle])
        let right = try balanced(op, terms[middle...])
        return try checked(Expression(kind: .binary(op, left, right), position: left.position.lowerBound..<right.position.upperBound))
    }

    /// The expression, unless its tree is too deep to evaluate safely.
    private func checked(_ expression: Expression) throws -> Expression {
        guard expression.height <= Self.depthMax else {
            throw QueryError("the expression is more than \(Self.depthMax) operators deep", at: expression.position,
                             hint: "split it, or use IN (…) for a long list of alternatives")
        }
        return expression
    }

    private mutating func not() throws -> Expression {
        if peekWord("not") {
            let start = current.position.lowerBound
            advance()
            try nest()
            defer { depth -= 1 }
            let operand = try not()
            return Expression(kind: .unary(.not, operand), position: start..<operand.position.upperBound)
        }
        return try comparison()
    }

    private mutating func comparison() throws -> Expression {
        var left = try comparisonOperand()
        // `x < 13 IS NULL` tests the comparison.
        while peekWord("is") {
            advance()
            let negated = accept("not")
            let end = current.position.upperBound
            try expect("null", what: "NULL after IS")
            left = try checked(Expression(kind: .isNull(left, negated: negated), position: left.position.lowerBound..<end))
        }
        return left
    }

    private mutating func comparisonOperand() throws -> Expression {
        let left = try additive()
        let start = left.position.lowerBound
        if case .symbol(let symbol) = current.kind, let op = Self.comparisonOperators[symbol] {
            advance()
            let right = try additive()
            return try checked(Expression(kind: .binary(op, left, right), position: start..<right.position.upperBound))
        }
        let negated = peekWord("not") && (peekWord("between", offset: 1) || peekWord("in", offset: 1))
        if negated { advance() }
        if accept("between") {
            let low = try additive()
            try expect("and", what: "AND in BETWEEN")
            let high = try additive()
            return try checked(Expression(kind: .between(left, low: low, high: high, negated: negated), position: start..<high.position.upperBound))
        }
        if accept("in") {
            try expect(symbol: "(")
            if peekWord("select") { throw QueryError("subqueries are not supported", at: current.position) }
            var list: [Expression] = []
            repeat { list.append(try expression()) } while accept(symbol: ",")
            let end = current.position.upperBound
            try expect(symbol: ")")
            return try checked(Expression(kind: .inList(left, list, negated: negated), position: start..<end))
        }
        return left
    }

    private static let comparisonOperators: [String: BinaryOperator] = [
        "=": .equal, "<>": .notEqual, "!=": .notEqual, "<": .less, "<=": .lessOrEqual, ">": .greater, ">=": .greaterOrEqual,
    ]

    private mutating func additive() throws -> Expression {
        var left = try multiplicative()
        while case .symbol(let symbol) = current.kind, symbol == "+" || symbol == "-" {
            advance()
            let right = try multiplicative()
            left = try checked(Expression(kind: .binary(symbol == "+" ? .add : .subtract, left, right),
                                          position: left.position.lowerBound..<right.position.upperBound))
        }
        return left
    }

    private mutating func multiplicative() throws -> Expression {
        var left = try unary()
        while case .symbol(let symbol) = current.kind, let op = ["*": BinaryOperator.multiply, "/": .divide, "//": .integerDivide, "%": .modulo][symbol] {
            advance()
            let right = try unary()
            left = try checked(Expression(kind: .binary(op, left, right), position: left.position.lowerBound..<right.position.upperBound))
        }
        return left
    }

    private mutating func unary() throws -> Expression {
        if case .symbol(let symbol) = current.kind, symbol == "-" || symbol == "+" {
            let start = current.position.lowerBound
            advance()
            try nest()
            defer { depth -= 1 }
            let operand = try unary()
            if symbol == "+" { return operand }
            // Fold a negative literal so that -9223372036854775808 stays an integer.
            switch operand.kind {
            case .decimal(let value): return Expression(kind: .decimal(-value), position: start..<operand.position.upperBound)
            case .integer(let value): return Expression(kind: .integer(-value), position: start..<operand.position.upperBound)
            default: return Expression(kind: .unary(.negate, operand), position: start..<operand.position.upperBound)
            }
        }
        return try primary()
    }

    private mutating func primary() throws -> Expression {
        let token = current
        switch token.kind {
        case .integer(let value):
            advance()
            return Expression(kind: .integer(value), position: token.position)
        case .decimal(let value):
            advance()
            return Expression(kind: .decimal(value), position: token.position)
        case .string(let value):
            advance()
            return Expression(kind: .string(value), position: token.position)
        case .symbol("("):
            advance()
            if peekWord("select") { throw QueryError("subqueries are not supported", at: current.position) }
            var inner = try expression()
            let end = current.position.upperBound
            try expect(symbol: ")")
            inner.position = token.position.lowerBound..<end
            return inner
        case .quotedIdentifier:
            return try columnReference()
        case .word(let word):
            switch word {
            case "null":
                advance()
                return Expression(kind: .null, position: token.position)
            case "true", "false":
                advance()
                return Expression(kind: .boolean(word == "true"), position: token.position)
            case "date":
                if case .string(let text) = tokens[index + 1].kind {
                    advance()
                    advance()
                    return Expression(kind: .date(text), position: token.position.lowerBound..<tokens[index - 1].position.upperBound)
                }
                return try columnReference()
            case "case": return try caseExpression()
            case "cast": return try castExpression()
            default:
                if Self.reserved.contains(word) {
                    throw QueryError("expected an expression but found \(describe(token))", at: token.position)
                }
                if case .symbol("(") = tokens[index + 1].kind { return try functionCall() }
                return try columnReference()
            }
        default:
            throw QueryError("expected an expression but found \(describe(token))", at: token.position)
        }
    }

    private mutating func columnReference() throws -> Expression {
        let start = current.position.lowerBound
        let first = try identifier(what: "a column name")
        if accept(symbol: ".") {
            let name = try identifier(what: "a column name after '\(first).'")
            return Expression(kind: .column(table: first, name: name), position: start..<tokens[index - 1].position.upperBound)
        }
        return Expression(kind: .column(table: nil, name: first), position: start..<tokens[index - 1].position.upperBound)
    }

    private mutating func functionCall() throws -> Expression {
        let start = current.position.lowerBound
        let name = try identifier(what: "a function name")
        try expect(symbol: "(")
        if case .symbol("*") = current.kind {
            advance()
            let end = current.position.upperBound
            try expect(symbol: ")")
            return Expression(kind: .function(name: name, arguments: [], distinct: false, star: true), position: start..<end)
        }
        let distinct = accept("distinct")
        var arguments: [Expression] = []
        if !accept(symbol: ")") {
            repeat { arguments.append(try expression()) } while accept(symbol: ",")
            try expect(symbol: ")")
        }
        return Expression(kind: .function(name: name, arguments: arguments, distinct: distinct, star: false),
                          position: start..<tokens[index - 1].position.upperBound)
    }

    private mutating func caseExpression() throws -> Expression {
        let start = current.position.lowerBound
        advance()
        let operand = peekWord("when") ? nil : try expression()
        var branches: [(when: Expression, then: Expression)] = []
        while accept("when") {
            let condition = try expression()
            try expect("then", what: "THEN")
            branches.append((condition, try expression()))
        }
        guard !branches.isEmpty else { throw QueryError("CASE needs at least one WHEN ... THEN", at: current.position) }
        let otherwise = accept("else") ? try expression() : nil
        let end = current.position.upperBound
        try expect("end", what: "END to close CASE")
        return Expression(kind: .caseWhen(operand: operand, branches: branches, otherwise: otherwise), position: start..<end)
    }

    private mutating func castExpression() throws -> Expression {
        let start = current.position.lowerBound
        advance()
        try expect(symbol: "(")
        let operand = try expression()
        try expect("as", what: "AS in CAST")
        let typeName = try identifier(what: "a type name")
        let end = current.position.upperBound
        try expect(symbol: ")")
        return Expression(kind: .cast(operand, typeName: typeName), position: start..<end)
    }

    // MARK: Tokens

    private var current: Token { tokens[index] }

    private mutating func advance() { if index < tokens.count - 1 { index += 1 } }

    private func peekWord(_ word: String, offset: Int = 0) -> Bool {
        guard index + offset < tokens.count, case .word(let found) = tokens[index + offset].kind else { return false }
        return found == word
    }

    private mutating func accept(_ word: String) -> Bool {
        guard peekWord(word) else { return false }
        advance()
        return true
    }

    private mutating func accept(symbol: String) -> Bool {
        guard current.kind == .symbol(symbol) else { return false }
        advance()
        return true
    }

    private mutating func expect(_ word: String, what: String) throws {
        guard accept(word) else { throw QueryError("expected \(what) but found \(describe(current))", at: current.position) }
    }

    private mutating func expect(symbol: String) throws {
        guard accept(symbol: symbol) else { throw QueryError("expected '\(symbol)' but found \(describe(current))", at: current.position) }
    }

    private mutating func identifier(what: String) throws -> String {
        switch current.kind {
        case .word(let word) where !Self.reserved.contains(word):
            advance()
            return word
        case .quotedIdentifier(let name):
            guard !name.isEmpty else { throw QueryError("a name cannot be empty", at: current.position) }
            advance()
            return name
        default:
            throw QueryError("expected \(what) but found \(describe(current))", at: current.position)
        }
    }

    private func describe(_ token: Token) -> String {
        switch token.kind {
        case .word(let word): return Self.reserved.contains(word) ? word.uppercased() : "'\(word)'"
        case .quotedIdentifier(let name): return "\"\(name)\""
        case .integer(let value): return String(value)
        case .decimal(let value): return String(value)
        case .string(let value): return "'\(value)'"
        case .symbol(let symbol): return "'\(symbol)'"
        case .end: return "the end of the query"
        }
    }
}
