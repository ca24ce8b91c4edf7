/// An expression with names resolved to slots of its input layout and every type known: what the
/// vectorised evaluator runs.
final class BoundExpression: @unchecked Sendable {
    enum Kind {
        case slot(Int)
        case constant(Scalar)
        case negate(BoundExpression)
        /// + - * / // %; operands already have numeric or date types (checked by the binder).
        case arithmetic(BinaryOperator, BoundExpression, BoundExpression)
        /// = <> < <= > >=; operands have the same comparable type, or are both numeric.
        case compare(BinaryOperator, BoundExpression, BoundExpression)
        case and(BoundExpression, BoundExpression)
        case or(BoundExpression, BoundExpression)
        /// OR over a list, evaluated in a loop (an IN list of thousands of items stays one node).
        case anyOf([BoundExpression])
        case not(BoundExpression)
        case isNull(BoundExpression, negated: Bool)
        case caseWhen([(when: BoundExpression, then: BoundExpression)], otherwise: BoundExpression?)
        case cast(BoundExpression)
        case function(ScalarFunction, [BoundExpression])
    }

    let kind: Kind
    let type: SQLType
    /// Where the expression is in the SQL text, for runtime errors (a division by zero, a failed cast).
    let position: Range<Int>

    /// Slots this expression reads.
    let slots: Set<Int>
    /// Operator nodes (not slots or constants) in the tree: a measure of evaluation work.
    let operatorCount: Int

    init(_ kind: Kind, type: SQLType, position: Range<Int>) {
        self.kind = kind
        self.type = type
        self.position = position
        slots = Self.slots(of: kind)
        operatorCount = Self.children(of: kind).reduce(0) { $0 + $1.operatorCount } + (Self.children(of: kind).isEmpty ? 0 : 1)
    }

    private static func children(of kind: Kind) -> [BoundExpression] {
        switch kind {
        case .slot, .constant: return []
        case .negate(let operand), .not(let operand), .isNull(let operand, _), .cast(let operand): return [operand]
        case .arithmetic(_, let left, let right), .compare(_, let left, let right), .and(let left, let right), .or(let left, let right):
            return [left, right]
        case .caseWhen(let branches, let otherwise): return branches.flatMap { [$0.when, $0.then] } + (otherwise.map { [$0] } ?? [])
        case .function(_, let arguments), .anyOf(let arguments): return arguments
        }
    }

    var isFunction: Bool { if case .function = kind { true } else { false } }

    var constantValue: Scalar? { if case .constant(let value) = kind { value } else { nil } }

    private static func slots(of kind: Kind) -> Set<Int> {
        switch kind {
        case .slot(let slot): return [slot]
        case .constant: return []
        case .negate(let operand), .not(let operand), .isNull(let operand, _), .cast(let operand): return operand.slots
        case .arithmetic(_, let left, let right), .compare(_, let left, let right), .and(let left, let right), .or(let left, let right):
            return left.slots.union(right.slots)
        case .caseWhen(let branches, let otherwise):
            var slots = otherwise?.slots ?? []
            for branch in branches { slots.formUnion(branch.when.slots.union(branch.then.slots)) }
            return slots
        case .function(_, let arguments), .anyOf(let arguments): return arguments.reduce(into: Set<Int>()) { $0.formUnion($1.slots) }
        }
    }
}

enum DatePart: String {
    case day, month, year
}

enum ScalarFunction {
    case year, month, day
    case dateTrunc(DatePart)
    case dateDiff(DatePart)
    case abs
    /// round(x, places); places may be negative.
    case round(Int)
    /// CAST(x AS INTEGER): fails outside the 32-bit range.
    case int32Check

    var name: String {
        switch self {
        case .year: "year"
        case .month: "month"
        case .day: "day"
        case .dateTrunc: "date_trunc"
        case .dateDiff: "date_diff"
        case .abs: "abs"
        case .round: "round"
        case .int32Check: "CAST AS INTEGER"
        }
    }
}

/// The kernel's aggregates: SQL's, and the window aggregates of feature views (`RangeAccumulator`).
public enum AggregateFunction: String, Sendable, CaseIterable {
    case countStar = "count(*)"
    case count, countDistinct = "count(DISTINCT)", sum, avg, min, max
}

/// One aggregate of a GROUP BY: its function and its argument, bound over the input rows.
struct AggregateSpec {
    let function: AggregateFunction
    let argument: BoundExpression?
    let type: SQLType
    let sql: String
}
