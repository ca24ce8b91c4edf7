/// The parsed form of a query, before names and types are resolved. Every node keeps its span of SQL
/// text so later errors can point at it.
public struct Expression: Sendable {
    public indirect enum Kind: Sendable {
        case column(table: String?, name: String)
        case integer(Int64)
        case decimal(Double)
        case string(String)
        /// `DATE 'YYYY-MM-DD'`, kept as text until binding checks it.
        case date(String)
        case null
        case boolean(Bool)
        case unary(UnaryOperator, Expression)
        case binary(BinaryOperator, Expression, Expression)
        case isNull(Expression, negated: Bool)
        case between(Expression, low: Expression, high: Expression, negated: Bool)
        case inList(Expression, [Expression], negated: Bool)
        /// `CASE [operand] WHEN … THEN … [ELSE …] END`.
        case caseWhen(operand: Expression?, branches: [(when: Expression, then: Expression)], otherwise: Expression?)
        case cast(Expression, typeName: String)
        /// A function call; `star` for `count(*)`.
        case function(name: String, arguments: [Expression], distinct: Bool, star: Bool)
    }

    public var kind: Kind
    public var position: Range<Int>
    /// Levels of the tree below and including this node; bounded by the parser so that every
    /// recursive pass over it (binding, evaluation) stays well inside a thread's stack.
    public var height: Int

    init(kind: Kind, position: Range<Int>) {
        self.kind = kind
        self.position = position
        let children: [Expression]
        switch kind {
        case .column, .integer, .decimal, .string, .date, .null, .boolean: children = []
        case .unary(_, let operand), .isNull(let operand, _), .cast(let operand, _): children = [operand]
        case .binary(_, let left, let right): children = [left, right]
        case .between(let operand, let low, let high, _): children = [operand, low, high]
        // An IN list is evaluated as one node over its items: its length does not add height.
        case .inList(let operand, let list, _): children = [operand] + list
        case .caseWhen(let operand, let branches, let otherwise):
            children = (operand.map { [$0] } ?? []) + branches.flatMap { [$0.when, $0.then] } + (otherwise.map { [$0] } ?? [])
        case .function(_, let arguments, _, _): children = arguments
        }
        height = (children.map(\.height).max() ?? 0) + 1
    }
}

public enum UnaryOperator: String, Sendable {
    case negate = "-"
    case not = "NOT"
}

public enum BinaryOperator: String, Sendable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", integerDivide = "//", modulo = "%"
    case equal = "=", notEqual = "<>", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    case and = "AND", or = "OR"

    var isComparison: Bool {
        switch self {
        case .equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual: true
        default: false
        }
    }

    var isArithmetic: Bool {
        switch self {
        case .add, .subtract, .multiply, .divide, .integerDivide, .modulo: true
        default: false
        }
    }
}

public struct TableReference: Sendable {
    public var name: String
    public var alias: String?
    public var position: Range<Int>
}

public struct JoinClause: Sendable {
    public var isLeft: Bool
    public var table: TableReference
    public var usingColumns: [(name: String, position: Range<Int>)]
}

public enum SelectItem: Sendable {
    case star(position: Range<Int>)
    case expression(Expression, alias: String?)
}

public struct OrderItem: Sendable {
    public var expression: Expression
    public var descending: Bool
    /// nil: the default, NULLS LAST for both directions (as DuckDB).
    public var nullsFirst: Bool?
}

/// One `[EXPLAIN] SELECT` statement.
public struct SelectStatement: Sendable {
    public var explain: Bool
    public var items: [SelectItem]
    public var from: TableReference
    public var join: JoinClause?
    public var filter: Expression?
    public var groupBy: [Expression]
    /// `GROUP BY ALL`: group by every select item that is not an aggregate.
    public var groupByAll = false
    public var having: Expression?
    public var orderBy: [OrderItem]
    /// `ORDER BY ALL [DESC] [NULLS …]`: by every output column, left to right (the expression is unused).
    public var orderByAll: OrderItem?
    public var limit: Int?
    public var offset: Int?
}

extension Expression {
    /// SQL text of the expression in a canonical spelling: the default output column name, the form
    /// EXPLAIN prints, and the identity GROUP BY uses to match select items with group keys.
    public var sql: String {
        switch kind {
        case .column(let table, let name): return table.map { "\($0).\(name)" } ?? name
        case .integer(let value): return String(value)
        case .decimal(let value): return String(value)
        case .string(let value): return "'" + value.replacingOccurrences(of: "'", with: "''") + "'"
        case .date(let text): return "DATE '\(text)'"
        case .null: return "NULL"
        case .boolean(let value): return value ? "TRUE" : "FALSE"
        case .unary(let op, let operand): return op == .not ? "(NOT \(operand.sql))" : "(-\(operand.sql))"
        case .binary(let op, let left, let right): return "(\(left.sql) \(op.rawValue) \(right.sql))"
        case .isNull(let operand, let negated): return "(\(operand.sql) IS \(negated ? "NOT " : "")NULL)"
        case .between(let operand, let low, let high, let negated):
            return "(\(operand.sql) \(negated ? "NOT " : "")BETWEEN \(low.sql) AND \(high.sql))"
        case .inList(let operand, let list, let negated):
            return "(\(operand.sql) \(negated ? "NOT " : "")IN (\(list.map(\.sql).joined(separator: ", "))))"
        case .caseWhen(let operand, let branches, let otherwise):
            var text = "CASE"
            if let operand { text += " " + operand.sql }
            for branch in branches { text += " WHEN \(branch.when.sql) THEN \(branch.then.sql)" }
            if let otherwise { text += " ELSE \(otherwise.sql)" }
            return text + " END"
        case .cast(let operand, let typeName): return "CAST(\(operand.sql) AS \(typeName.uppercased()))"
        case .function(let name, let arguments, let distinct, let star):
            if star { return "\(name)(*)" }
            return "\(name)(\(distinct ? "DISTINCT " : "")\(arguments.map(\.sql).joined(separator: ", ")))"
        }
    }

    /// Whether the expression reads a column (GROUP BY ALL leaves constants out).
    var containsColumn: Bool {
        var found = false
        _ = replacingColumns { _ in
            found = true
            return nil
        }
        if case .column = kind { return true }
        return found
    }

    /// The name of an output column that has no alias: a bare column keeps its name.
    var defaultName: String {
        if case .column(_, let name) = kind { return name }
        var text = sql
        if text.hasPrefix("(") && text.hasSuffix(")") { text = String(text.dropFirst().dropLast()) }
        return text
    }
}

extension Expression {
    /// The expression with each unqualified column that `replacement` maps replaced (not recursively).
    func replacingColumns(_ replacement: (String) -> Expression?) -> Expression {
        func r(_ e: Expression) -> Expression { e.replacingColumns(replacement) }
        let kind: Kind
        switch self.kind {
        case .column(nil, let name):
            return replacement(name) ?? self
        case .column, .integer, .decimal, .string, .date, .null, .boolean:
            return self
        case .unary(let op, let operand): kind = .unary(op, r(operand))
        case .binary(let op, let left, let right): kind = .binary(op, r(left), r(right))
        case .isNull(let operand, let negated): kind = .isNull(r(operand), negated: negated)
        case .between(let operand, let low, let high, let negated): kind = .between(r(operand), low: r(low), high: r(high), negated: negated)
        case .inList(let operand, let list, let negated): kind = .inList(r(operand), list.map(r), negated: negated)
        case .caseWhen(let operand, let branches, let otherwise):
            kind = .caseWhen(operand: operand.map(r), branches: branches.map { (r($0.when), r($0.then)) }, otherwise: otherwise.map(r))
        case .cast(let operand, let typeName): kind = .cast(r(operand), typeName: typeName)
        case .function(let name, let arguments, let distinct, let star):
            kind = .function(name: name, arguments: arguments.map(r), distinct: distinct, star: star)
        }
        return Expression(kind: kind, position: position)
    }
}
