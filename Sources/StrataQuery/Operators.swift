import Foundation
import StrataFormat

/// NULL masks of binary operators: a row is NULL when either input row is.
@inline(__always) func unionNulls(_ left: Vector, _ right: Vector, count: Int) -> [Bool]? {
    switch (left.nulls, right.nulls) {
    case (nil, nil): return nil
    case (let l?, nil): return l
    case (nil, let r?): return r
    case (let l?, let r?): return (0..<count).map { l[$0] || r[$0] }
    }
}

/// + - * / // % and unary minus. Integer overflow and an integer division by zero are errors, as in
/// DuckDB; `/` is always float division (IEEE: x/0 gives ±inf or nan).
enum Arithmetic {
    static func negate(_ value: Vector, type: SQLType, position: Range<Int>) throws -> Vector {
        switch value.values {
        case .constant(.null): return .constant(.null, type: type, count: value.count)
        case .constant(.integer(let v)):
            guard v != .min else { throw QueryError("integer overflow in negation", at: position) }
            return .constant(.integer(-v), type: type, count: value.count)
        case .constant(.double(let v)): return .constant(.double(-v), type: type, count: value.count)
        case .doubles(let values): return Vector(type: type, values: .doubles(values.map { -$0 }), nulls: value.nulls, count: value.count)
        case .integers(let values):
            for (row, v) in values.enumerated() where v == .min && !value.isNull(row) {
                throw QueryError("integer overflow in negation", at: position)
            }
            return Vector(type: type, values: .integers(values.map { $0 == .min ? 0 : -$0 }), nulls: value.nulls, count: value.count)
        default: preconditionFailure("negate of \(value.type)")
        }
    }

    static func apply(_ op: BinaryOperator, _ left: Vector, _ right: Vector, type: SQLType, position: Range<Int>) throws -> Vector {
        let count = left.count
        if left.isConstant && right.isConstant {
            if left.isNull(0) || right.isNull(0) { return .constant(.null, type: type, count: count) }
        }
        if left.isConstant && left.isNull(0) || right.isConstant && right.isNull(0) {
            return .constant(.null, type: type, count: count)
        }
        let nulls = unionNulls(left, right, count: count)
        let result: Vector
        if type == .double {
            let values = doubles(op, left, right, count: count)
            result = Vector(type: type, values: .doubles(values), nulls: nulls, count: count)
        } else {
            let (values, failedRow) = integers(op, left, right, nulls: nulls, count: count)
            if let failedRow {
                let divisor = right.integerValue(right.isConstant ? 0 : failedRow)
                if (op == .integerDivide || op == .modulo) && divisor == 0 {
                    throw QueryError("division by zero in \(op.rawValue)", at: position, hint: "use NULLIF-style CASE WHEN d = 0 THEN NULL ELSE x \(op.rawValue) d END")
                }
                throw QueryError("integer overflow in \(op.rawValue)", at: position, hint: "cast to DOUBLE first")
            }
            result = Vector(type: type, values: .integers(type == .date ? try checkedDates(values, nulls: nulls, position: position) : values),
                            nulls: nulls, count: count)
        }
        if left.isConstant && right.isConstant {
            return .constant(result.scalar(0), type: type, count: count)
        }
        return result
    }

    /// Dates must stay in years 0001-9999, the range every Strata date lies in (DuckDB's is wider); NULL rows,
    /// which may hold anything, are set to day 0 so that later date functions never see wild values.
    private static func checkedDates(_ values: [Int64], nulls: [Bool]?, position: Range<Int>) throws -> [Int64] {
        var values = values
        for index in values.indices {
            if nulls?[index] ?? false {
                values[index] = 0
            } else if !Dates.dayRange.contains(Int(values[index])) {
                throw QueryError("date out of range (dates lie in 0001-01-01...9999-12-31)", at: position)
            }
        }
        return values
    }

    private static func doubles(_ op: BinaryOperator, _ left: Vector, _ right: Vector, count: Int) -> [Double] {
        let n = left.isConstant && right.isConstant ? 1 : count
        let l = left.isConstant ? [left.doubleValue(0)] : left.asDoubles
        let r = right.isConstant ? [right.doubleValue(0)] : right.asDoubles
        let (lc, rc) = (left.isConstant, right.isConstant)
        var out = [Double](repeating: 0, count: n)
        l.withUnsafeBufferPointer { l in
            r.withUnsafeBufferPointer { r in
                out.withUnsafeMutableBufferPointer { out in
                    switch op {
                    case .add: binaryLoop(l, lc, r, rc, out, n) { $0 + $1 }
                    case .subtract: binaryLoop(l, lc, r, rc, out, n) { $0 - $1 }
                    case .multiply: binaryLoop(l, lc, r, rc, out, n) { $0 * $1 }
                    case .divide: binaryLoop(l, lc, r, rc, out, n) { $0 / $1 }
                    case .integerDivide: binaryLoop(l, lc, r, rc, out, n) { ($0 / $1).rounded(.down) }
                    case .modulo: binaryLoop(l, lc, r, rc, out, n) { fmod($0, $1) }
                    default: preconditionFailure("\(op) is not arithmetic")
                    }
                }
            }
        }
        return out
    }

    /// Integer results, and the first non-NULL row that overflowed or divided by zero.
    private static func integers(_ op: BinaryOperator, _ left: Vector, _ right: Vector, nulls: [Bool]?, count: Int) -> ([Int64], Int?) {
        let n = left.isConstant && right.isConstant ? 1 : count
        let l = left.isConstant ? [left.integerValue(0)] : left.integerValues
        let r = right.isConstant ? [right.integerValue(0)] : right.integerValues
        let (lc, rc) = (left.isConstant, right.isConstant)
        var out = [Int64](repeating: 0, count: n)
        var failed = false
        l.withUnsafeBufferPointer { l in
            r.withUnsafeBufferPointer { r in
                out.withUnsafeMutableBufferPointer { out in
                    switch op {
                    case .add: failed = checkedLoop(l, lc, r, rc, out, n) { $0.addingReportingOverflow($1) }
                    case .subtract: failed = checkedLoop(l, lc, r, rc, out, n) { $0.subtractingReportingOverflow($1) }
                    case .multiply: failed = checkedLoop(l, lc, r, rc, out, n) { $0.multipliedReportingOverflow(by: $1) }
                    case .integerDivide:
                        failed = checkedLoop(l, lc, r, rc, out, n) { a, b in
                            b == 0 || (b == -1 && a == .min) ? (0, true) : (a / b, false)
                        }
                    case .modulo:
                        // x % -1 is 0 for every x (Int64.min % -1 traps in Swift, so it is answered here).
                        failed = checkedLoop(l, lc, r, rc, out, n) { a, b in
                            b == 0 ? (0, true) : (b == -1 ? (0, false) : (a % b, false))
                        }
                    default: preconditionFailure("\(op) is not integer arithmetic")
                    }
                }
            }
        }
        guard failed else { return (out, nil) }
        // Only a failure on a non-NULL row counts: NULL rows hold arbitrary values.
        let lStep = lc ? 0 : 1, rStep = rc ? 0 : 1
        for i in 0..<n where !(nulls?[i] ?? false) {
            let a = l[i * lStep], b = r[i * rStep]
            let bad: Bool
            switch op {
            case .add: bad = a.addingReportingOverflow(b).overflow
            case .subtract: bad = a.subtractingReportingOverflow(b).overflow
            case .multiply: bad = a.multipliedReportingOverflow(by: b).overflow
            case .modulo: bad = b == 0
            default: bad = b == 0 || (b == -1 && a == .min)
            }
            if bad { return (out, i) }
        }
        return (out, nil)
    }
}

/// `out[i] = f(l[i], r[i])`, with either side possibly a one-element constant: one loop per shape, so
/// the common column-op-constant loop has no index arithmetic and vectorises.
@inline(__always) func binaryLoop<T, R>(_ l: UnsafeBufferPointer<T>, _ lConstant: Bool, _ r: UnsafeBufferPointer<T>, _ rConstant: Bool,
                                        _ out: UnsafeMutableBufferPointer<R>, _ n: Int, _ f: (T, T) -> R) {
    switch (lConstant, rConstant) {
    case (false, false): for i in 0..<n { out[i] = f(l[i], r[i]) }
    case (false, true):
        let c = r[0]
        for i in 0..<n { out[i] = f(l[i], c) }
    case (true, false):
        let c = l[0]
        for i in 0..<n { out[i] = f(c, r[i]) }
    case (true, true): if n > 0 { out[0] = f(l[0], r[0]) }
    }
}

/// `binaryLoop` for integer operations that report overflow; returns whether any row did.
@inline(__always) func checkedLoop(_ l: UnsafeBufferPointer<Int64>, _ lConstant: Bool, _ r: UnsafeBufferPointer<Int64>, _ rConstant: Bool,
                                   _ out: UnsafeMutableBufferPointer<Int64>, _ n: Int, _ f: (Int64, Int64) -> (Int64, Bool)) -> Bool {
    var failed = false
    switch (lConstant, rConstant) {
    case (false, false):
        for i in 0..<n {
            let (value, bad) = f(l[i], r[i])
            out[i] = value
            failed = failed || bad
        }
    case (false, true):
        let c = r[0]
        for i in 0..<n {
            let (value, bad) = f(l[i], c)
            out[i] = value
            failed = failed || bad
        }
    case (true, false):
        let c = l[0]
        for i in 0..<n {
            let (value, bad) = f(c, r[i])
            out[i] = value
            failed = failed || bad
        }
    case (true, true):
        if n > 0 {
            let (value, bad) = f(l[0], r[0])
            out[0] = value
            failed = bad
        }
    }
    return failed
}

/// = <> < <= > >= with DuckDB's orders: NaN is the largest double and equals itself; strings compare
/// byte-wise; msno compares by entity id for equality and by text otherwise.
enum Comparison {
    static func apply(_ op: BinaryOperator, _ left: Vector, _ right: Vector, context: ExecutionContext?) throws -> Vector {
        let count = left.count
        if left.isConstant && left.isNull(0) || right.isConstant && right.isNull(0) {
            return .constant(.null, type: .boolean, count: count)
        }
        var left = left
        var right = right
        // msno against a literal or another msno: compare ids when only equality is asked.
        if let context, left.isEntity || right.isEntity {
            if (op == .equal || op == .notEqual) && left.isEntity && right.isEntity {
                // Same dictionary on both sides: ids are equal exactly when the strings are.
            } else if (op == .equal || op == .notEqual), left.isEntity, case .constant(.string(let text)) = right.values {
                right = .constant(.entity(try context.entityID(text) ?? -1), type: .varchar, count: count)
            } else if (op == .equal || op == .notEqual), right.isEntity, case .constant(.string(let text)) = left.values {
                left = .constant(.entity(try context.entityID(text) ?? -1), type: .varchar, count: count)
            } else {
                left = try context.resolveStrings(left)
                right = try context.resolveStrings(right)
            }
        }
        var op = op
        if left.isConstant && !right.isConstant {
            // Column on the left, constant on the right: the loops are specialised for that shape.
            swap(&left, &right)
            op = Self.flipped(op)
        }
        let nulls = unionNulls(left, right, count: count)
        let n = left.isConstant && right.isConstant ? 1 : count
        var out = [Int64](repeating: 0, count: n)
        let lStep = left.isConstant ? 0 : 1
        let rStep = right.isConstant ? 0 : 1
        switch (left.values, right.values) {
        case (.strings, _), (_, .strings), (.constant(.string), _), (_, .constant(.string)):
            for i in 0..<n {
                out[i] = compareStrings(op, left.stringValue(i * lStep), right.stringValue(i * rStep)) ? 1 : 0
            }
        case (.doubles, _), (_, .doubles), (.constant(.double), _), (_, .constant(.double)):
            let l = left.isConstant ? [left.doubleValue(0)] : left.asDoubles
            let r = right.isConstant ? [right.doubleValue(0)] : right.asDoubles
            compareDoubles(op, l, lStep, r, rStep, &out, n)
        default:
            let l = left.isConstant ? [left.integerValue(0)] : left.integerValues
            let r = right.isConstant ? [right.integerValue(0)] : right.integerValues
            compareIntegers(op, l, lStep, r, rStep, &out, n)
        }
        if n == 1 && left.isConstant && right.isConstant {
            return .constant(.integer(out[0]), type: .boolean, count: count)
        }
        return Vector(type: .boolean, values: .integers(out), nulls: nulls, count: count)
    }

    /// The operator that gives the same answer with its operands swapped.
    static func flipped(_ op: BinaryOperator) -> BinaryOperator {
        switch op {
        case .less: .greater
        case .lessOrEqual: .greaterOrEqual
        case .greater: .less
        case .greaterOrEqual: .lessOrEqual
        default: op
        }
    }

    static func compareStrings(_ op: BinaryOperator, _ a: String, _ b: String) -> Bool {
        switch op {
        case .equal: return a.utf8.elementsEqual(b.utf8)
        case .notEqual: return !a.utf8.elementsEqual(b.utf8)
        case .less: return a.utf8.lexicographicallyPrecedes(b.utf8)
        case .lessOrEqual: return !b.utf8.lexicographicallyPrecedes(a.utf8)
        case .greater: return b.utf8.lexicographicallyPrecedes(a.utf8)
        default: return !a.utf8.lexicographicallyPrecedes(b.utf8)
        }
    }

    private static func compareIntegers(_ op: BinaryOperator, _ l: [Int64], _ lStep: Int, _ r: [Int64], _ rStep: Int, _ out: inout [Int64], _ n: Int) {
        l.withUnsafeBufferPointer { l in
            r.withUnsafeBufferPointer { r in
                out.withUnsafeMutableBufferPointer { out in
                    if lStep == 1 && rStep == 0 {
                        let c = r[0]
                        switch op {
                        case .equal: for i in 0..<n { out[i] = l[i] == c ? 1 : 0 }
                        case .notEqual: for i in 0..<n { out[i] = l[i] != c ? 1 : 0 }
                        case .less: for i in 0..<n { out[i] = l[i] < c ? 1 : 0 }
                        case .lessOrEqual: for i in 0..<n { out[i] = l[i] <= c ? 1 : 0 }
                        case .greater: for i in 0..<n { out[i] = l[i] > c ? 1 : 0 }
                        default: for i in 0..<n { out[i] = l[i] >= c ? 1 : 0 }
                        }
                        return
                    }
                    switch op {
                    case .equal: for i in 0..<n { out[i] = l[i * lStep] == r[i * rStep] ? 1 : 0 }
                    case .notEqual: for i in 0..<n { out[i] = l[i * lStep] != r[i * rStep] ? 1 : 0 }
                    case .less: for i in 0..<n { out[i] = l[i * lStep] < r[i * rStep] ? 1 : 0 }
                    case .lessOrEqual: for i in 0..<n { out[i] = l[i * lStep] <= r[i * rStep] ? 1 : 0 }
                    case .greater: for i in 0..<n { out[i] = l[i * lStep] > r[i * rStep] ? 1 : 0 }
                    default: for i in 0..<n { out[i] = l[i * lStep] >= r[i * rStep] ? 1 : 0 }
                    }
                }
            }
        }
    }

    /// `a < b` in DuckDB's total order of doubles.
    @inline(__always) static func less(_ a: Double, _ b: Double) -> Bool { a < b || (b.isNaN && !a.isNaN) }
    @inline(__always) static func equal(_ a: Double, _ b: Double) -> Bool { a == b || (a.isNaN && b.isNaN) }

    private static func compareDoubles(_ op: BinaryOperator, _ l: [Double], _ lStep: Int, _ r: [Double], _ rStep: Int, _ out: inout [Int64], _ n: Int) {
        l.withUnsafeBufferPointer { l in
            r.withUnsafeBufferPointer { r in
                out.withUnsafeMutableBufferPointer { out in
                    if lStep == 1 && rStep == 0 && !r[0].isNaN {
                        // Against a number, IEEE comparisons give DuckDB's order once NaN (the largest
                        // value) is routed: it is >, >=, <> any number and nothing else.
                        let c = r[0]
                        switch op {
                        case .equal: for i in 0..<n { out[i] = l[i] == c ? 1 : 0 }
                        case .notEqual: for i in 0..<n { out[i] = l[i] == c ? 0 : 1 }
                        case .less: for i in 0..<n { out[i] = l[i] < c ? 1 : 0 }
                        case .lessOrEqual: for i in 0..<n { out[i] = l[i] <= c ? 1 : 0 }
                        case .greater: for i in 0..<n { out[i] = l[i] <= c ? 0 : 1 }
                        default: for i in 0..<n { out[i] = l[i] < c ? 0 : 1 }
                        }
                        return
                    }
                    switch op {
                    case .equal: for i in 0..<n { out[i] = equal(l[i * lStep], r[i * rStep]) ? 1 : 0 }
                    case .notEqual: for i in 0..<n { out[i] = equal(l[i * lStep], r[i * rStep]) ? 0 : 1 }
                    case .less: for i in 0..<n { out[i] = less(l[i * lStep], r[i * rStep]) ? 1 : 0 }
                    case .lessOrEqual: for i in 0..<n { out[i] = less(r[i * rStep], l[i * lStep]) ? 0 : 1 }
                    case .greater: for i in 0..<n { out[i] = less(r[i * rStep], l[i * lStep]) ? 1 : 0 }
                    default: for i in 0..<n { out[i] = less(l[i * lStep], r[i * rStep]) ? 0 : 1 }
                    }
                }
            }
        }
    }
}

extension Vector {
    var isEntity: Bool {
        switch values {
        case .entities, .constant(.entity): true
        default: false
        }
    }
}

/// AND, OR, NOT in three-valued logic.
enum Logic {
    /// (value, isNull) of a boolean row.
    @inline(__always) private static func truth(_ vector: Vector, _ row: Int) -> (Int64, Bool) {
        (vector.integerValue(vector.isConstant ? 0 : row), vector.isNull(vector.isConstant ? 0 : row))
    }

    static func and(_ left: Vector, _ right: Vector, count: Int) -> Vector {
        combine(left, right, count: count, isAnd: true)
    }

    static func or(_ left: Vector, _ right: Vector, count: Int) -> Vector {
        combine(left, right, count: count, isAnd: false)
    }

    private static func combine(_ left: Vector, _ right: Vector, count: Int, isAnd: Bool) -> Vector {
        // The value that decides the result whatever the other side is: false for AND, true for OR.
        let dominant: Int64 = isAnd ? 0 : 1
        if left.isConstant && right.isConstant {
            let (a, an) = truth(left, 0), (b, bn) = truth(right, 0)
            if (!an && a == dominant) || (!bn && b == dominant) { return .constant(.integer(dominant), type: .boolean, count: count) }
            if an || bn { return .constant(.null, type: .boolean, count: count) }
            return .constant(.integer(1 - dominant), type: .boolean, count: count)
        }
        if left.nulls == nil && right.nulls == nil && !left.isConstant && !right.isConstant {
            let l = left.integerValues, r = right.integerValues
            var out = [Int64](repeating: 0, count: count)
            l.withUnsafeBufferPointer { l in
                r.withUnsafeBufferPointer { r in
                    out.withUnsafeMutableBufferPointer { out in
                        if isAnd { for i in 0..<count { out[i] = l[i] & r[i] } } else { for i in 0..<count { out[i] = l[i] | r[i] } }
                    }
                }
            }
            return Vector(type: .boolean, values: .integers(out), nulls: nil, count: count)
        }
        var out = [Int64](repeating: 0, count: count)
        var nulls = [Bool](repeating: false, count: count)
        for row in 0..<count {
            let (a, an) = truth(left, row), (b, bn) = truth(right, row)
            if (!an && a == dominant) || (!bn && b == dominant) {
                out[row] = dominant
            } else if an || bn {
                nulls[row] = true
            } else {
                out[row] = 1 - dominant
            }
        }
        return Vector(type: .boolean, values: .integers(out), nulls: nulls, count: count)
    }

    static func not(_ value: Vector) -> Vector {
        switch value.values {
        case .constant(.integer(let v)): return .constant(.integer(1 - v), type: .boolean, count: value.count)
        case .constant: return value
        default: return Vector(type: .boolean, values: .integers(value.integerValues.map { 1 - $0 }), nulls: value.nulls, count: value.count)
        }
    }
}
