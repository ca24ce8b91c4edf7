import StrataFormat
import StrataStorage

/// Turns parsed expressions into typed `BoundExpression`s: resolves names to slots, checks types,
/// inserts the implicit casts DuckDB makes (a string literal met by a date or a number), and folds
/// constant subexpressions.
struct Binder {
    let scope: InputScope
    /// Set for expressions evaluated after a GROUP BY: they may read only group keys and aggregates.
    var aggregation: AggregationScope?

    init(scope: InputScope, aggregation: AggregationScope? = nil) {
        self.scope = scope
        self.aggregation = aggregation
    }

    func bind(_ expression: Expression) throws -> BoundExpression {
        if let aggregation {
            if let slot = try aggregation.match(expression, binder: self) {
                return BoundExpression(.slot(slot), type: aggregation.slotTypes[slot], position: expression.position)
            }
        }
        let position = expression.position
        switch expression.kind {
        case .column(let table, let name):
            let column = try scope.resolve(qualifier: table, name: name, position: position)
            if aggregation != nil {
                throw QueryError("column '\(expression.sql)' must appear in the GROUP BY clause or be used in an aggregate function", at: position)
            }
            return BoundExpression(.slot(scope.slot(forColumn: column)), type: scope.columns[column].type, position: position)
        case .integer(let value): return BoundExpression(.constant(.integer(value)), type: .bigint, position: position)
        case .decimal(let value): return BoundExpression(.constant(.double(value)), type: .double, position: position)
        case .string(let value): return BoundExpression(.constant(.string(value)), type: .varchar, position: position)
        case .null: return BoundExpression(.constant(.null), type: .null, position: position)
        case .boolean(let value): return BoundExpression(.constant(.integer(value ? 1 : 0)), type: .boolean, position: position)
        case .date(let text):
            guard let day = SQLDates.parse(text) else {
                throw QueryError("invalid date '\(text)'", at: position, hint: "write dates as DATE 'YYYY-MM-DD'")
            }
            return BoundExpression(.constant(.integer(day)), type: .date, position: position)
        case .unary(.negate, let operand):
            let bound = try bind(operand)
            guard bound.type.isNumeric || bound.type == .null else {
                throw QueryError("cannot negate a \(bound.type.rawValue)", at: position)
            }
            return try fold(BoundExpression(.negate(bound), type: bound.type == .null ? .bigint : bound.type, position: position))
        case .unary(.not, let operand):
            return try fold(BoundExpression(.not(try boolean(operand, "NOT")), type: .boolean, position: position))
        case .binary(let op, let left, let right):
            return try fold(try binary(op, left, right, position: position))
        case .isNull(let operand, let negated):
            return try fold(BoundExpression(.isNull(try bind(operand), negated: negated), type: .boolean, position: position))
        case .between(let operand, let low, let high, let negated):
            let lower = Expression(kind: .binary(.greaterOrEqual, operand, low), position: position)
            let upper = Expression(kind: .binary(.lessOrEqual, operand, high), position: position)
            let both = try fold(try binary(.and, lower, upper, position: position))
            return negated ? try fold(BoundExpression(.not(both), type: .boolean, position: position)) : both
        case .inList(let operand, let list, let negated):
            let equalities = try list.map { try fold(try binary(.equal, operand, $0, position: $0.position)) }
            let any = equalities.count == 1 ? equalities[0] : try fold(BoundExpression(.anyOf(equalities), type: .boolean, position: position))
            return negated ? try fold(BoundExpression(.not(any), type: .boolean, position: position)) : any
        case .caseWhen(let operand, let branches, let otherwise):
            var bound: [(when: BoundExpression, then: BoundExpression)] = []
            for branch in branches {
                let condition: BoundExpression
                if let operand {
                    condition = try binary(.equal, operand, branch.when, position: branch.when.position)
                } else {
                    condition = try boolean(branch.when, "WHEN")
                }
                bound.append((condition, try bind(branch.then)))
            }
            let boundOtherwise = try otherwise.map(bind)
            let type = try commonType(bound.map(\.then) + (boundOtherwise.map { [$0] } ?? []), what: "CASE results", position: position)
            let coerced = try bound.map { ($0.when, try coerce($0.then, to: type)) }
            return try fold(BoundExpression(.caseWhen(coerced, otherwise: try boundOtherwise.map { try coerce($0, to: type) }),
                                            type: type, position: position))
        case .cast(let operand, let typeName):
            guard let target = SQLDates.castTarget(typeName) else {
                throw QueryError("unknown type '\(typeName)'", at: position, hint: "cast to BIGINT, INTEGER, DOUBLE, VARCHAR, DATE or BOOLEAN")
            }
            let converted = try cast(try bind(operand), to: target, position: position)
            if ["int", "integer", "int4", "int32"].contains(typeName.lowercased()) {
                // INTEGER is 32-bit, as in DuckDB: values are BIGINT here, range-checked.
                return try fold(BoundExpression(.function(.int32Check, [converted]), type: .bigint, position: position))
            }
            return converted
        case .function(let name, let arguments, let distinct, let star):
            if AggregationScope.aggregateNames.contains(name) {
                throw QueryError("aggregate function \(name)() is not allowed here", at: position,
                                 hint: aggregation == nil ? "aggregates belong in SELECT, HAVING or ORDER BY" : "aggregates cannot be nested")
            }
            if distinct || star { throw QueryError("\(name)() takes no DISTINCT or *", at: position) }
            return try function(name, arguments, position: position)
        }
    }

    // MARK: Operators

    private func binary(_ op: BinaryOperator, _ left: Expression, _ right: Expression, position: Range<Int>) throws -> BoundExpression {
        switch op {
        case .and, .or:
            let l = try boolean(left, op.rawValue)
            let r = try boolean(right, op.rawValue)
            return BoundExpression(op == .and ? .and(l, r) : .or(l, r), type: .boolean, position: position)
        case _ where op.isComparison:
            var l = try bind(left)
            var r = try bind(right)
            (l, r) = try comparable(l, r, position: position)
            return BoundExpression(.compare(op, l, r), type: .boolean, position: position)
        default:
            var l = try bind(left)
            var r = try bind(right)
            l = try numericLiteral(l, other: r)
            r = try numericLiteral(r, other: l)
            let type = try arithmeticType(op, l.type, r.type, position: position)
            return BoundExpression(.arithmetic(op, l, r), type: type, position: position)
        }
    }

    /// A string literal used with a number is read as that number, as DuckDB does.
    private func numericLiteral(_ expression: BoundExpression, other: BoundExpression) throws -> BoundExpression {
        guard expression.type == .varchar, case .constant(.string) = expression.kind, other.type.isNumeric || other.type == .date else { return expression }
        return try cast(expression, to: other.type == .date ? .bigint : other.type, position: expression.position)
    }

    private func arithmeticType(_ op: BinaryOperator, _ left: SQLType, _ right: SQLType, position: Range<Int>) throws -> SQLType {
        func mismatch() -> QueryError {
            QueryError("cannot apply \(op.rawValue) to \(left.rawValue) and \(right.rawValue)", at: position)
        }
        switch (left, right) {
        case (.null, .null): return op == .divide ? .double : .bigint
        case (.null, let other), (let other, .null):
            if other == .date { return op == .subtract ? .null : .date }
            guard other.isNumeric else { throw mismatch() }
            return op == .divide ? .double : other
        case (.date, .bigint) where op == .add || op == .subtract: return .date
        case (.bigint, .date) where op == .add: return .date
        case (.date, .date) where op == .subtract: return .bigint
        case (.bigint, .bigint): return op == .divide ? .double : .bigint
        case _ where left.isNumeric && right.isNumeric: return .double
        default: throw mismatch()
        }
    }

    /// Makes two operands comparable: numbers with numbers, and a string literal read as the other
    /// side's type (a date or a number).
    private func comparable(_ left: BoundExpression, _ right: BoundExpression, position: Range<Int>) throws -> (BoundExpression, BoundExpression) {
        if left.type == right.type || left.type == .null || right.type == .null || (left.type.isNumeric && right.type.isNumeric) {
            return (left, right)
        }
        if case .constant(.string) = right.kind { return (left, try cast(right, to: left.type, position: right.position)) }
        if case .constant(.string) = left.kind { return (try cast(left, to: right.type, position: left.position), right) }
        throw QueryError("cannot compare \(left.type.rawValue) with \(right.type.rawValue)", at: position,
                         hint: "cast one side, e.g. CAST(x AS \(left.type.rawValue))")
    }

    private func boolean(_ expression: Expression, _ context: String) throws -> BoundExpression {
        let bound = try bind(expression)
        guard bound.type == .boolean || bound.type == .null else {
            throw QueryError("\(context) needs a BOOLEAN, not \(bound.type.rawValue)", at: expression.position)
        }
        return bound
    }

    func commonType(_ expressions: [BoundExpression], what: String, position: Range<Int>) throws -> SQLType {
        var type = SQLType.null
        for expression in expressions where expression.type != .null {
            if type == .null || type == expression.type { type = expression.type; continue }
            if type.isNumeric && expression.type.isNumeric { type = .double; continue }
            if expression.type == .varchar, case .constant(.string) = expression.kind { continue }
            if type == .varchar, expressions.allSatisfy({ $0.type != .varchar || $0.constantValue != nil }) { type = expression.type; continue }
            throw QueryError("\(what) mix \(type.rawValue) and \(expression.type.rawValue)", at: expression.position)
        }
        return type
    }

    func coerce(_ expression: BoundExpression, to type: SQLType) throws -> BoundExpression {
        if expression.type == type || type == .null { return expression }
        return try cast(expression, to: type, position: expression.position)
    }

    func cast(_ operand: BoundExpression, to target: SQLType, position: Range<Int>) throws -> BoundExpression {
        if operand.type == target { return operand }
        let allowed: Bool
        switch (operand.type, target) {
        case (.null, _), (_, .varchar), (.varchar, _): allowed = true
        case (.bigint, .double), (.double, .bigint), (.bigint, .boolean), (.boolean, .bigint), (.boolean, .double), (.double, .boolean): allowed = true
        default: allowed = false
        }
        guard allowed else {
            throw QueryError("cannot cast \(operand.type.rawValue) to \(target.rawValue)", at: position,
                             hint: operand.type == .date ? "for a day number use date_diff('day', DATE '1970-01-01', d)" : nil)
        }
        return try fold(BoundExpression(.cast(operand), type: target, position: position))
    }

    // MARK: Functions

    static let functionNames = ["year", "month", "day", "date_trunc", "date_diff", "abs", "round", "coalesce"]

    private func function(_ name: String, _ arguments: [Expression], position: Range<Int>) throws -> BoundExpression {
        func arity(_ counts: ClosedRange<Int>) throws {
            guard counts.contains(arguments.count) else {
                let expected = counts.lowerBound == counts.upperBound ? "\(counts.lowerBound)" : "\(counts.lowerBound) to \(counts.upperBound)"
                throw QueryError("\(name)() takes \(expected) arguments, not \(arguments.count)", at: position)
            }
        }
        func date(_ index: Int) throws -> BoundExpression {
            let bound = try bind(arguments[index])
            if bound.type == .date || bound.type == .null { return bound }
            if case .constant(.string) = bound.kind { return try cast(bound, to: .date, position: bound.position) }
            throw QueryError("\(name)() needs a DATE, not \(bound.type.rawValue)", at: arguments[index].position)
        }
        func part(_ index: Int, allowed: [DatePart]) throws -> DatePart {
            guard case .string(let text) = arguments[index].kind, let part = DatePart(rawValue: text.lowercased()), allowed.contains(part) else {
                throw QueryError("\(name)() takes the part as a literal: \(allowed.map { "'\($0.rawValue)'" }.joined(separator: ", "))",
                                 at: arguments[index].position)
            }
            return part
        }
        let bound: BoundExpression
        switch name {
        case "year", "month", "day":
            try arity(1...1)
            let function: ScalarFunction = name == "year" ? .year : name == "month" ? .month : .day
            bound = BoundExpression(.function(function, [try date(0)]), type: .bigint, position: position)
        case "date_trunc":
            try arity(2...2)
            bound = BoundExpression(.function(.dateTrunc(try part(0, allowed: [.day, .month, .year])), [try date(1)]), type: .date, position: position)
        case "date_diff", "datediff":
            try arity(3...3)
            bound = BoundExpression(.function(.dateDiff(try part(0, allowed: [.day, .month, .year])), [try date(1), try date(2)]),
                                    type: .bigint, position: position)
        case "abs":
            try arity(1...1)
            let operand = try bind(arguments[0])
            guard operand.type.isNumeric || operand.type == .null else { throw QueryError("abs() needs a number, not \(operand.type.rawValue)", at: position) }
            bound = BoundExpression(.function(.abs, [operand]), type: operand.type == .null ? .bigint : operand.type, position: position)
        case "round":
            try arity(1...2)
            let operand = try bind(arguments[0])
            guard operand.type.isNumeric || operand.type == .null else { throw QueryError("round() needs a number, not \(operand.type.rawValue)", at: position) }
            var places = 0
            if arguments.count == 2 {
                guard case .integer(let value) = arguments[1].kind, abs(value) <= 18 else {
                    throw QueryError("round() takes the number of decimal places as an integer literal between -18 and 18", at: arguments[1].position)
                }
                places = Int(value)
            }
            bound = BoundExpression(.function(.round(places), [operand]), type: operand.type == .null ? .double : operand.type, position: position)
        case "coalesce":
            // CASE WHEN a IS NOT NULL THEN a … ELSE last END: later arguments are evaluated only on
            // the rows still NULL, as DuckDB does (so `coalesce(x, 1 // 0)` fails only where x is NULL).
            guard !arguments.isEmpty else { throw QueryError("coalesce() takes at least one argument", at: position) }
            let operands = try arguments.map(bind)
            let type = try commonType(operands, what: "coalesce() arguments", position: position)
            let coerced = try operands.map { try coerce($0, to: type) }
            let branches = coerced.dropLast().map { operand in
                (when: BoundExpression(.isNull(operand, negated: true), type: .boolean, position: operand.position), then: operand)
            }
            if branches.isEmpty { return coerced[0] }
            return try fold(BoundExpression(.caseWhen(branches, otherwise: coerced.last), type: type, position: position))
        default:
            throw QueryError("unknown function \(name)()", at: position,
                             hint: "functions: \((Self.functionNames + AggregationScope.aggregateNames.sorted()).joined(separator: ", "))")
        }
        return try fold(bound)
    }

    /// Evaluates an expression over constants once, at bind time, so that `DATE '2017-02-01' + 30` is a
    /// constant the scan can prune with. One that fails (`1 // 0`) is left to fail at run time, and only
    /// if a row reaches it: in a CASE branch no row takes, it never does.
    func fold(_ expression: BoundExpression) throws -> BoundExpression {
        if case .constant = expression.kind { return expression }
        guard expression.slots.isEmpty, let vector = try? Evaluator(context: nil).evaluate(expression, Batch(columns: [], count: 1)) else {
            return expression
        }
        return BoundExpression(.constant(vector.scalar(0)), type: expression.type, position: expression.position)
    }
}

/// What expressions after a GROUP BY can read: slots 0..<keys are the group keys, then the aggregates.
final class AggregationScope {
    static let aggregateNames: Set<String> = ["count", "sum", "avg", "min", "max"]

    let keySQL: [String]
    /// Keys as bound trees spelled with slots, so `m.city + 1` matches a key `city + 1`.
    let keyFingerprints: [String]
    /// Group keys that are plain columns, by input slot, so `t.msno` matches a key `msno`.
    let keyInputSlots: [Int?]
    private(set) var aggregates: [AggregateSpec] = []
    private(set) var slotTypes: [SQLType]
    let inputBinder: Binder

    init(keys: [BoundExpression], keySQL: [String], inputBinder: Binder) {
        self.keySQL = keySQL
        keyFingerprints = keys.map { Query.describe($0, names: [:]) }
        keyInputSlots = keys.map { if case .slot(let slot) = $0.kind { slot } else { nil } }
        slotTypes = keys.map(\.type)
        self.inputBinder = inputBinder
    }

    /// The slot `expression` reads after aggregation, when it is a group key or an aggregate.
    func match(_ expression: Expression, binder: Binder) throws -> Int? {
        let sql = expression.sql
        if let index = keySQL.firstIndex(of: sql) { return index }
        if case .column(let table, let name) = expression.kind {
            let column = try inputBinder.scope.resolve(qualifier: table, name: name, position: expression.position)
            guard let slot = inputBinder.scope.existingSlot(forColumn: column) else { return nil }
            return keyInputSlots.firstIndex(of: slot)
        }
        guard case .function(let name, let arguments, let distinct, let star) = expression.kind, Self.aggregateNames.contains(name) else {
            // The same key written differently (qualified or not): compare the bound forms.
            if !Planner.containsAggregate(expression), let bound = try? inputBinder.bind(expression) {
                return keyFingerprints.firstIndex(of: Query.describe(bound, names: [:]))
            }
            return nil
        }
        if let existing = aggregates.firstIndex(where: { $0.sql == sql }) { return keySQL.count + existing }
        let spec = try aggregate(name, arguments, distinct: distinct, star: star, sql: sql, position: expression.position)
        aggregates.append(spec)
        slotTypes.append(spec.type)
        return keySQL.count + aggregates.count - 1
    }

    private func aggregate(_ name: String, _ arguments: [Expression], distinct: Bool, star: Bool, sql: String, position: Range<Int>) throws -> AggregateSpec {
        if star {
            guard name == "count" else { throw QueryError("only count takes *", at: position) }
            return AggregateSpec(function: .countStar, argument: nil, type: .bigint, sql: sql)
        }
        guard arguments.count == 1 else { throw QueryError("\(name)() takes 1 argument, not \(arguments.count)", at: position) }
        let argument = try inputBinder.bind(arguments[0])
        if distinct && name != "count" {
            throw QueryError("DISTINCT is supported in count() only", at: position)
        }
        switch name {
        case "count":
            return AggregateSpec(function: distinct ? .countDistinct : .count, argument: argument, type: .bigint, sql: sql)
        case "sum", "avg":
            guard argument.type.isNumeric || argument.type == .null || argument.type == .boolean else {
                throw QueryError("\(name)() needs a number, not \(argument.type.rawValue)", at: position)
            }
            let type: SQLType = name == "avg" || argument.type == .double ? .double : .bigint
            return AggregateSpec(function: name == "sum" ? .sum : .avg, argument: argument, type: type, sql: sql)
        default:
            return AggregateSpec(function: name == "min" ? .min : .max, argument: argument,
                                 type: argument.type == .null ? .bigint : argument.type, sql: sql)
        }
    }
}
