import Foundation
import StrataFormat

/// Evaluates bound expressions over a batch, one column-at-a-time loop per operator. Constants stay
/// constants (no per-row copies) until they meet a column.
struct Evaluator {
    /// Resolves msno text; nil when evaluating constants at bind time.
    let context: ExecutionContext?

    func evaluate(_ expression: BoundExpression, _ batch: Batch) throws -> Vector {
        let count = batch.count
        if expression.operatorCount >= 2 || expression.isFunction, expression.slots.count == 1, count >= 256,
           let result = try evaluateOverRange(expression, batch, slot: expression.slots.first!) {
            return result
        }
        switch expression.kind {
        case .slot(let slot):
            return batch.columns[slot]
        case .constant(let value):
            return .constant(value, type: expression.type, count: count)
        case .negate(let operand):
            let value = try evaluate(operand, batch)
            return try Arithmetic.negate(value, type: expression.type, position: expression.position)
        case .arithmetic(let op, let left, let right):
            return try Arithmetic.apply(op, try evaluate(left, batch), try evaluate(right, batch), type: expression.type,
                                        position: expression.position)
        case .compare(let op, let left, let right):
            return try Comparison.apply(op, try evaluate(left, batch), try evaluate(right, batch), context: context)
        case .and(let left, let right):
            let l = try evaluate(left, batch)
            return Logic.and(l, try evaluateUnless(right, batch, decided: l, by: 0), count: count)
        case .or(let left, let right):
            let l = try evaluate(left, batch)
            return Logic.or(l, try evaluateUnless(right, batch, decided: l, by: 1), count: count)
        case .anyOf(let items):
            var result = try evaluate(items[0], batch)
            for item in items.dropFirst() {
                result = Logic.or(result, try evaluateUnless(item, batch, decided: result, by: 1), count: count)
            }
            return result
        case .not(let operand):
            return Logic.not(try evaluate(operand, batch))
        case .isNull(let operand, let negated):
            let value = try evaluate(operand, batch)
            if case .constant(let scalar) = value.values {
                return .constant(.integer((scalar == .null) != negated ? 1 : 0), type: .boolean, count: count)
            }
            let flags = value.nulls.map { nulls in nulls.map { ($0 != negated) ? Int64(1) : 0 } }
                ?? Array(repeating: negated ? 1 : 0, count: count)
            return Vector(type: .boolean, values: .integers(flags), nulls: nil, count: count)
        case .caseWhen(let branches, let otherwise):
            return try caseWhen(branches, otherwise: otherwise, type: expression.type, batch)
        case .cast(let operand):
            return try Casts.apply(try evaluate(operand, batch), to: expression.type, context: context, position: expression.position)
        case .function(let function, let arguments):
            return try Functions.apply(function, try arguments.map { try evaluate($0, batch) }, type: expression.type, context: context,
                                       position: expression.position)
        }
    }

    /// An expression of one integer column (a date, say) evaluated once per distinct value of a small
    /// range rather than once per row, then looked up: `year(date) * 100 + month(date)` over a batch of
    /// one month costs a min/max pass and a gather.
    private func evaluateOverRange(_ expression: BoundExpression, _ batch: Batch, slot: Int) throws -> Vector? {
        let column = batch.columns[slot]
        guard column.nulls == nil, case .integers(let values) = column.values else { return nil }
        var low = Int64.max, high = Int64.min
        values.withUnsafeBufferPointer { values in
            for value in values {
                low = Swift.min(low, value)
                high = Swift.max(high, value)
            }
        }
        let (span, overflow) = high.subtractingReportingOverflow(low)
        guard !overflow, span < 4096, Int(span) * 4 < batch.count else { return nil }
        var columns = batch.columns
        columns[slot] = Vector(type: column.type, values: .integers(Array(low...high)), nulls: nil, count: Int(span) + 1)
        // A value of the range that no row has may fail (overflow, division by zero) where no real row
        // does: then evaluate row by row, which fails only for a real row.
        guard let table = try? evaluate(expression, Batch(columns: columns.map { $0.isConstant ? $0.resized(Int(span) + 1) : $0 }, count: Int(span) + 1)) else {
            return nil
        }
        if table.isConstant { return table.resized(batch.count) }
        let rows = values.map { Int32(truncatingIfNeeded: $0 &- low) }
        return table.gather(rows)
    }

    /// The right side of AND (OR): where the left side already decides a row (false for AND, true for
    /// OR), an operand that could fail is not evaluated, as in DuckDB: `bd <> 0 AND 100 // bd > 2` never
    /// divides by zero. Those rows get NULL, which the decided left side outweighs.
    private func evaluateUnless(_ right: BoundExpression, _ batch: Batch, decided left: Vector, by value: Int64) throws -> Vector {
        guard Self.canFail(right) else { return try evaluate(right, batch) }
        var open: [Int32] = []
        for row in 0..<batch.count {
            let index = left.isConstant ? 0 : row
            if left.isNull(index) || left.integerValue(index) != value { open.append(Int32(row)) }
        }
        if open.count == batch.count { return try evaluate(right, batch) }
        var flags = [Int64](repeating: 0, count: batch.count)
        var nulls = [Bool](repeating: true, count: batch.count)
        if !open.isEmpty {
            let part = try evaluate(right, batch.gather(open))
            for (index, row) in open.enumerated() {
                let source = part.isConstant ? 0 : index
                flags[Int(row)] = part.integerValue(source)
                nulls[Int(row)] = part.isNull(source)
            }
        }
        return Vector(type: .boolean, values: .integers(flags), nulls: nulls, count: batch.count)
    }

    /// Rows where `predicate` is true (not false, not NULL).
    func selection(_ predicate: BoundExpression, _ batch: Batch) throws -> [Int32]? {
        // Conjuncts filter one after another, as DuckDB's filters do: one that could fail runs only on
        // the rows the earlier ones kept (`gender = 'x' AND 100 // bd > 2` never sees a NULL gender's
        // row). The others run on the whole batch, which is cheaper than gathering.
        var kept: [Int32]?
        for conjunct in Planner.conjuncts(predicate) {
            if let current = kept, current.isEmpty { return [] }
            if let current = kept, Self.canFail(conjunct) {
                let passed = try Self.trueRows(try evaluate(conjunct, batch.gather(current)), count: current.count)
                kept = passed.map { $0.map { current[Int($0)] } } ?? current
            } else {
                let passed = try Self.trueRows(try evaluate(conjunct, batch), count: batch.count)
                kept = Self.intersect(kept, passed)
            }
        }
        guard let kept else { return nil }
        return kept.count == batch.count ? nil : kept
    }

    /// Rows where a boolean vector is true (nil: all of them).
    private static func trueRows(_ value: Vector, count: Int) throws -> [Int32]? {
        if case .constant(let scalar) = value.values {
            return scalar == .integer(1) ? nil : []
        }
        let flags = value.integerValues
        var rows: [Int32] = []
        rows.reserveCapacity(count)
        if let nulls = value.nulls {
            for row in 0..<count where flags[row] == 1 && !nulls[row] { rows.append(Int32(row)) }
        } else {
            flags.withUnsafeBufferPointer { flags in
                for row in 0..<flags.count where flags[row] == 1 { rows.append(Int32(row)) }
            }
        }
        return rows.count == count ? nil : rows
    }

    /// Rows in both ascending lists (nil: every row).
    private static func intersect(_ a: [Int32]?, _ b: [Int32]?) -> [Int32]? {
        guard let a else { return b }
        guard let b else { return a }
        var result: [Int32] = []
        result.reserveCapacity(min(a.count, b.count))
        var i = 0, j = 0
        while i < a.count && j < b.count {
            if a[i] == b[j] {
                result.append(a[i])
                i += 1
                j += 1
            } else if a[i] < b[j] {
                i += 1
            } else {
                j += 1
            }
        }
        return result
    }

    /// CASE: each THEN is evaluated only on the rows that reach it when it could fail (a division, a
    /// cast), so `CASE WHEN x = 0 THEN NULL ELSE 1 // x END` never divides by zero.
    private func caseWhen(_ branches: [(when: BoundExpression, then: BoundExpression)], otherwise: BoundExpression?, type: SQLType,
                          _ batch: Batch) throws -> Vector {
        let count = batch.count
        let results = branches.map(\.then) + (otherwise.map { [$0] } ?? [])
        if !results.contains(where: Self.canFail) && !branches.contains(where: { Self.canFail($0.when) }) {
            // Fast path: evaluate everything on every row, then pick per row.
            var chosen = [Int32](repeating: -1, count: count)
            var undecided = count
            for (index, branch) in branches.enumerated() where undecided > 0 {
                Self.markTaken(try evaluate(branch.when, batch), branch: Int32(index), &chosen, &undecided)
            }
            if otherwise != nil {
                for row in 0..<count where chosen[row] < 0 { chosen[row] = Int32(branches.count) }
            }
            let values = try unified(try results.map { try evaluate($0, batch) }, results: results, type: type, batch)
            if values.count == 1, !values[0].isConstant {
                // CASE WHEN c THEN x END: x where c holds, NULL elsewhere.
                var nulls = values[0].nulls ?? [Bool](repeating: false, count: count)
                for row in 0..<count where chosen[row] < 0 { nulls[row] = true }
                return Vector(type: type, values: values[0].values, nulls: nulls, count: count)
            }
            return Blend.pick(values, chosen: chosen, type: type, count: count)
        }
        var parts: [(rows: [Int32], value: Vector)] = []
        var remaining = Array(0..<Int32(count))
        for branch in branches where !remaining.isEmpty {
            let subset = batch.gather(remaining)
            let condition = try evaluate(branch.when, subset)
            var taken: [Int32] = []
            var rest: [Int32] = []
            for (index, row) in remaining.enumerated() {
                if !condition.isNull(index) && condition.integerValue(index) == 1 { taken.append(row) } else { rest.append(row) }
            }
            if !taken.isEmpty { parts.append((taken, try evaluate(branch.then, batch.gather(taken)))) }
            remaining = rest
        }
        if let otherwise, !remaining.isEmpty { parts.append((remaining, try evaluate(otherwise, batch.gather(remaining)))) }
        var chosen = Array(repeating: Int32(-1), count: count)
        var positions = Array(repeating: Int32(0), count: count)
        for (partIndex, part) in parts.enumerated() {
            for (index, row) in part.rows.enumerated() {
                chosen[Int(row)] = Int32(partIndex)
                positions[Int(row)] = Int32(index)
            }
        }
        let values = try unified(parts.map(\.value), results: results, type: type, batch)
        return Blend.pick(values, chosen: chosen, positions: positions, type: type, count: count)
    }

    /// CASE results as one representation: msno ids when every result is an msno (or NULL), text
    /// otherwise. Decided from the expressions, not from the rows at hand, so every batch of one
    /// expression comes out the same way.
    private func unified(_ values: [Vector], results: [BoundExpression], type: SQLType, _ batch: Batch) throws -> [Vector] {
        guard type == .varchar, !results.allSatisfy({ Self.producesEntities($0, batch) }), let context else { return values }
        return try values.map { try context.resolveStrings($0) }
    }

    /// Whether an expression yields msno ids (an msno column, or a CASE over them), judged by its form.
    static func producesEntities(_ expression: BoundExpression, _ batch: Batch) -> Bool {
        switch expression.kind {
        case .slot(let slot): return batch.columns[slot].isEntity
        case .constant(.null), .constant(.entity): return true
        case .caseWhen(let branches, let otherwise):
            return branches.allSatisfy { producesEntities($0.then, batch) } && (otherwise.map { producesEntities($0, batch) } ?? true)
        default: return false
        }
    }

    /// Marks rows where `condition` is true and no earlier branch was taken.
    private static func markTaken(_ condition: Vector, branch: Int32, _ chosen: inout [Int32], _ undecided: inout Int) {
        let count = chosen.count
        if case .constant(let value) = condition.values {
            guard value == .integer(1) else { return }
            for row in 0..<count where chosen[row] < 0 { chosen[row] = branch }
            undecided = 0
            return
        }
        let flags = condition.integerValues
        let nulls = condition.nulls
        var taken = 0
        flags.withUnsafeBufferPointer { flags in
            chosen.withUnsafeMutableBufferPointer { chosen in
                for row in 0..<count where chosen[row] < 0 && flags[row] == 1 && !(nulls?[row] ?? false) {
                    chosen[row] = branch
                    taken += 1
                }
            }
        }
        undecided -= taken
    }

    /// Whether evaluating the expression can throw (and so must not run on rows CASE does not send it).
    static func canFail(_ expression: BoundExpression) -> Bool {
        switch expression.kind {
        case .slot, .constant: return false
        case .cast: return true
        case .arithmetic(let op, let left, let right):
            return op != .divide || canFail(left) || canFail(right) || expression.type == .bigint
        case .negate: return true
        case .compare(_, let left, let right), .and(let left, let right), .or(let left, let right): return canFail(left) || canFail(right)
        case .anyOf(let items): return items.contains(where: canFail)
        case .not(let operand), .isNull(let operand, _): return canFail(operand)
        case .caseWhen(let branches, let otherwise):
            return branches.contains { canFail($0.when) || canFail($0.then) } || otherwise.map(canFail) ?? false
        case .function(let function, let arguments):
            switch function {
            case .abs, .int32Check, .round: return true
            default: return arguments.contains(where: canFail)
            }
        }
    }
}

extension Vector {
    /// A constant with another row count.
    func resized(_ count: Int) -> Vector {
        var copy = self
        copy.count = count
        return copy
    }

    @inline(__always) func integerValue(_ row: Int) -> Int64 {
        switch values {
        case .integers(let values), .entities(let values): return values[row]
        case .constant(.integer(let value)), .constant(.entity(let value)): return value
        default: return 0
        }
    }

    /// Values as doubles (integers converted), for float arithmetic and mixed comparisons.
    var asDoubles: [Double] {
        switch values {
        case .doubles(let values): return values
        case .integers(let values): return values.map { Double($0) }
        default: return Array(repeating: 0, count: count)
        }
    }
}

/// Builds a vector from several by choosing, per row, which one supplies the value.
enum Blend {
    /// `chosen[row]`: index into `values` (-1: NULL); `positions[row]`: the row within it (default: row).
    static func pick(_ values: [Vector], chosen: [Int32], positions: [Int32]? = nil, type: SQLType, count: Int) -> Vector {
        var nulls = Array(repeating: false, count: count)
        func source(_ row: Int) -> (Vector, Int)? {
            let index = Int(chosen[row])
            guard index >= 0 else { return nil }
            let position = positions.map { Int($0[row]) } ?? row
            let vector = values[index]
            return vector.isNull(position) ? nil : (vector, position)
        }
        switch type {
        case .double:
            var out = Array(repeating: 0.0, count: count)
            for row in 0..<count {
                guard let (vector, position) = source(row) else { nulls[row] = true; continue }
                out[row] = vector.doubleValue(position)
            }
            return Vector(type: type, values: .doubles(out), nulls: nulls, count: count)
        case .varchar:
            let isIdOrNull = { (vector: Vector) -> Bool in
                switch vector.values {
                case .entities, .constant(.entity), .constant(.null): true
                default: false
                }
            }
            if values.allSatisfy(isIdOrNull) && values.contains(where: \.isEntity) {
                var out = Array(repeating: Int64(0), count: count)
                for row in 0..<count {
                    guard let (vector, position) = source(row) else { nulls[row] = true; continue }
                    out[row] = vector.integerValue(position)
                }
                return Vector(type: type, values: .entities(out), nulls: nulls, count: count)
            }
            var out = Array(repeating: "", count: count)
            for row in 0..<count {
                guard let (vector, position) = source(row) else { nulls[row] = true; continue }
                out[row] = vector.stringValue(position)
            }
            return Vector(type: type, values: .strings(out), nulls: nulls, count: count)
        default:
            var out = Array(repeating: Int64(0), count: count)
            for row in 0..<count {
                guard let (vector, position) = source(row) else { nulls[row] = true; continue }
                out[row] = vector.integerValue(position)
            }
            return Vector(type: type, values: .integers(out), nulls: nulls, count: count)
        }
    }
}

extension Vector {
    @inline(__always) func doubleValue(_ row: Int) -> Double {
        switch values {
        case .doubles(let values): return values[row]
        case .integers(let values): return Double(values[row])
        case .constant(.double(let value)): return value
        case .constant(.integer(let value)): return Double(value)
        default: return 0
        }
    }

    /// Text of a string row; entity ids must have been resolved by the caller (see `ExecutionContext`).
    func stringValue(_ row: Int) -> String {
        switch values {
        case .strings(let values): return values[row]
        case .constant(.string(let value)): return value
        default: return ""
        }
    }
}
