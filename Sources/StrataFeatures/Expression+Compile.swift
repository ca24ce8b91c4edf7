import StrataFormat

/// Where a name of a derived expression takes its value from.
enum Operand {
    case cutoff
    case output(OutputColumn)
    case group(ColumnVector, [Int])

    func value(_ request: Int, cutoff: Int64) -> FeatureValue {
        switch self {
        case .cutoff: return .integer(cutoff)
        case .output(let column): return column.value(request)
        case .group(let column, let selected):
            let row = selected[request]
            return row < 0 ? .null : column.featureValue(row)
        }
    }
}

extension Expression {
    /// A closure computing the expression for (request, cutoff), with `operands` in `references` order.
    func compiled(operands: [Operand]) -> (Int, Int64) -> FeatureValue {
        var next = 0
        return compile(operands, &next)
    }

    private func compile(_ operands: [Operand], _ next: inout Int) -> (Int, Int64) -> FeatureValue {
        switch self {
        case .integer(let value): return { _, _ in .integer(value) }
        case .float(let value): return { _, _ in .float(value) }
        case .reference:
            let operand = operands[next]
            next += 1
            return { request, cutoff in operand.value(request, cutoff: cutoff) }
        case .negate(let inner):
            let operand = inner.compile(operands, &next)
            return { request, cutoff in Expression.negated(operand(request, cutoff)) }
        case .binary(let op, let left, let right):
            let lhs = left.compile(operands, &next)
            let rhs = right.compile(operands, &next)
            return { request, cutoff in Expression.combine(op, lhs(request, cutoff), rhs(request, cutoff)) }
        }
    }

    static func negated(_ value: FeatureValue) -> FeatureValue {
        switch value {
        case .integer(let integer): return .integer(0 &- integer)
        case .float(let float): return .float(-float)
        default: return .null
        }
    }
}
