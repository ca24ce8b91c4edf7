import Foundation
import StrataFormat

/// CAST between SQL types. A value that does not convert is an error naming it, as in DuckDB.
enum Casts {
    static func apply(_ input: Vector, to target: SQLType, context: ExecutionContext?, position: Range<Int>) throws -> Vector {
        var value = input
        if value.isEntity, let context { value = try context.resolveStrings(value) }
        let count = value.count
        if value.isConstant {
            let single = try apply(value.materializedOne(), to: target, context: context, position: position)
            return .constant(single.scalar(0), type: target, count: count)
        }
        if value.type == target || value.type == .null { return Vector(type: target, values: value.values, nulls: value.nulls, count: count) }
        var nulls = value.nulls ?? Array(repeating: false, count: count)
        func fail(_ row: Int, _ text: String) -> QueryError {
            QueryError("cannot cast \(value.type.rawValue) \(text) to \(target.rawValue)", at: position)
        }
        switch (value.type, target) {
        case (.bigint, .double), (.boolean, .double):
            return Vector(type: target, values: .doubles(value.asDoubles), nulls: value.nulls, count: count)
        case (.double, .bigint):
            let doubles = value.doubleValues
            var out = [Int64](repeating: 0, count: count)
            for row in 0..<count where !nulls[row] {
                // DuckDB rounds a DOUBLE to the nearest integer, ties to even.
                let rounded = doubles[row].rounded(.toNearestOrEven)
                guard rounded >= -9.223372036854775808e18, rounded < 9.223372036854775808e18 else {
                    throw fail(row, ValueText.float(doubles[row]))
                }
                out[row] = Int64(rounded)
            }
            return Vector(type: target, values: .integers(out), nulls: value.nulls, count: count)
        case (.bigint, .boolean), (.double, .boolean):
            let doubles = value.asDoubles
            return Vector(type: target, values: .integers(doubles.map { $0 != 0 ? 1 : 0 }), nulls: value.nulls, count: count)
        case (.boolean, .bigint):
            return Vector(type: target, values: value.values, nulls: value.nulls, count: count)
        case (_, .varchar):
            var out = [String](repeating: "", count: count)
            for row in 0..<count where !nulls[row] {
                switch value.type {
                case .bigint: out[row] = String(value.integerValue(row))
                case .double: out[row] = ValueText.float(value.doubleValue(row))
                case .date: out[row] = SQLDates.format(value.integerValue(row))
                case .boolean: out[row] = value.integerValue(row) == 1 ? "true" : "false"
                default: out[row] = value.stringValue(row)
                }
            }
            return Vector(type: target, values: .strings(out), nulls: value.nulls, count: count)
        case (.varchar, _):
            let strings = value.stringValues
            var integers = [Int64](repeating: 0, count: target == .double ? 0 : count)
            var doubles = [Double](repeating: 0, count: target == .double ? count : 0)
            for row in 0..<count where !nulls[row] {
                let text = strings[row].trimmingWhitespace()
                switch target {
                case .bigint:
                    if let parsed = Int64(text) {
                        integers[row] = parsed
                    } else if let parsed = Double(text), parsed.isFinite, abs(parsed) < 9.2e18 {
                        integers[row] = Int64(parsed.rounded(.toNearestOrAwayFromZero))
                    } else {
                        throw fail(row, "'\(strings[row])'")
                    }
                case .double:
                    guard let parsed = Double(text) else { throw fail(row, "'\(strings[row])'") }
                    doubles[row] = parsed
                case .date:
                    guard let parsed = SQLDates.parse(text) else { throw fail(row, "'\(strings[row])'") }
                    integers[row] = parsed
                default:
                    switch text.lowercased() {
                    case "true", "t", "1", "yes", "y": integers[row] = 1
                    case "false", "f", "0", "no", "n": integers[row] = 0
                    default: throw fail(row, "'\(strings[row])'")
                    }
                }
            }
            nulls = value.nulls ?? []
            return Vector(type: target, values: target == .double ? .doubles(doubles) : .integers(integers), nulls: value.nulls, count: count)
        default:
            preconditionFailure("cast \(value.type) -> \(target) passed the binder")
        }
    }
}

extension Vector {
    /// A one-row, non-constant copy of a constant (to run a column kernel on it).
    func materializedOne() -> Vector {
        var one = self
        one.count = 1
        return one.materialized()
    }
}

/// Scalar functions. (Over a batch whose dates span a few weeks, `Evaluator.evaluateOverRange` runs
/// them once per distinct day rather than once per row.)
enum Functions {
    static func apply(_ function: ScalarFunction, _ arguments: [Vector], type: SQLType, context: ExecutionContext?,
                      position: Range<Int>? = nil) throws -> Vector {
        let count = arguments.first?.count ?? 0
        if arguments.allSatisfy(\.isConstant) {
            if arguments.contains(where: { $0.isNull(0) }) { return .constant(.null, type: type, count: count) }
            let single = try apply(function, arguments.map { $0.materializedOne() }, type: type, context: context, position: position)
            return .constant(single.scalar(0), type: type, count: count)
        }
        let nulls: [Bool]? = arguments.count == 1 ? arguments[0].nulls : arguments.dropFirst().reduce(arguments[0].nulls) { acc, next in
            unionNulls(Vector(type: .null, values: .integers([]), nulls: acc, count: count), next, count: count)
        }
        // Date functions read only real rows: a NULL row may hold any value, and a day number far outside
        // the 32-bit range would overflow the calendar arithmetic.
        let arguments = arguments.map { argument -> Vector in
            guard argument.type == .date, let nulls = argument.nulls, case .integers(var values) = argument.values else { return argument }
            for index in values.indices where nulls[index] { values[index] = 0 }
            return Vector(type: argument.type, values: .integers(values), nulls: nulls, count: argument.count)
        }
        switch function {
        case .year: return dayMap(arguments[0], nulls: nulls) { Int64(Dates.civil(dayNumber: $0).year) }
        case .month: return dayMap(arguments[0], nulls: nulls) { Int64(Dates.civil(dayNumber: $0).month) }
        case .day: return dayMap(arguments[0], nulls: nulls) { Int64(Dates.civil(dayNumber: $0).day) }
        case .dateTrunc(let part):
            var result = dayMap(arguments[0], nulls: nulls) { day in
                let civil = Dates.civil(dayNumber: day)
                switch part {
                case .day: return Int64(day)
                case .month: return Int64(Dates.daysFromCivil(year: civil.year, month: civil.month, day: 1))
                case .year: return Int64(Dates.daysFromCivil(year: civil.year, month: 1, day: 1))
                }
            }
            result.type = .date
            return result
        case .dateDiff(let part):
            let a = arguments[0], b = arguments[1]
            var out = [Int64](repeating: 0, count: count)
            for row in 0..<count {
                let start = Int(a.integerValue(a.isConstant ? 0 : row)), end = Int(b.integerValue(b.isConstant ? 0 : row))
                switch part {
                case .day: out[row] = Int64(end - start)
                case .month:
                    let s = Dates.civil(dayNumber: start), e = Dates.civil(dayNumber: end)
                    out[row] = Int64((e.year * 12 + e.month) - (s.year * 12 + s.month))
                case .year: out[row] = Int64(Dates.civil(dayNumber: end).year - Dates.civil(dayNumber: start).year)
                }
            }
            return Vector(type: .bigint, values: .integers(out), nulls: nulls, count: count)
        case .abs:
            let value = arguments[0]
            if value.type == .double { return Vector(type: type, values: .doubles(value.doubleValues.map { Swift.abs($0) }), nulls: nulls, count: count) }
            let integers = value.integerValues
            for row in 0..<count where integers[row] == .min && !value.isNull(row) { throw QueryError("integer overflow in abs()", at: position) }
            return Vector(type: type, values: .integers(integers.map { $0 == .min ? 0 : Swift.abs($0) }), nulls: nulls, count: count)
        case .round(let places):
            let value = arguments[0]
            if value.type == .double {
                return Vector(type: type, values: .doubles(value.doubleValues.map { roundDouble($0, places: places) }), nulls: nulls, count: count)
            }
            guard places < 0 else { return value }
            return Vector(type: type, values: .integers(try roundIntegers(value, places: places, nulls: nulls, position: position)), nulls: nulls, count: count)
        case .int32Check:
            let value = arguments[0]
            for row in 0..<count where !value.isNull(row) && Int32(exactly: value.integerValue(row)) == nil {
                throw QueryError("cannot cast \(value.integerValue(row)) to INTEGER: out of its 32-bit range", at: position, hint: "cast to BIGINT")
            }
            return value
        }
    }

    /// round(x, -n) on integers: to a multiple of 10^n, halves away from zero; overflow is an error
    /// (on rows that are not NULL).
    private static func roundIntegers(_ value: Vector, places: Int, nulls: [Bool]?, position: Range<Int>?) throws -> [Int64] {
        // 10^19 exceeds Int64: every value then rounds to 0 (|x| < 0.5 · 10^19).
        var scale: Int64? = 1
        for _ in 0..<(-places) { scale = scale.flatMap { $0.multipliedReportingOverflow(by: 10).overflow ? nil : $0 * 10 } }
        let values = value.integerValues
        var out = [Int64](repeating: 0, count: values.count)
        for (row, v) in values.enumerated() where !(nulls?[row] ?? false) {
            guard let scale else { continue }
            let remainder = v % scale
            let base = v - remainder
            guard remainder.magnitude * 2 >= scale.magnitude else {
                out[row] = base
                continue
            }
            let (away, overflow) = remainder < 0 ? base.subtractingReportingOverflow(scale) : base.addingReportingOverflow(scale)
            if overflow { throw QueryError("integer overflow in round()", at: position, hint: "round a CAST(x AS DOUBLE)") }
            out[row] = away
        }
        return out
    }

    /// round(x, places) for doubles as DuckDB computes it on x86-64: scaled in 80-bit extended
    /// precision, rounded half away from zero. (Plain double scaling rounds 943.305 the other way.)
    static func roundDouble(_ value: Double, places: Int) -> Double {
        guard value.isFinite else { return value }
        #if arch(x86_64)
        var scale: Float80 = 1
        for _ in 0..<Swift.abs(places) { scale *= 10 }
        let wide = Float80(value)
        let scaled = places >= 0 ? wide * scale : wide / scale
        // Rounding half away from zero without libm's roundl (a tenth of a training set's time once) nor a
        // conversion to an integer (x87 control-word changes): adding and taking back 2^63 leaves a value
        // below 2^62 rounded to the nearest integer, ties to even; a tie that went toward zero then steps
        // away. The sign is the value's, so -0.3 rounds to -0.0 as with roundl.
        let rounded: Float80
        if scaled.magnitude < 0x1p62 {
            let magic: Float80 = 0x1p63
            var integer = scaled >= 0 ? (scaled + magic) - magic : (scaled - magic) + magic
            let difference = scaled - integer
            if difference == 0.5 && scaled > 0 { integer += 1 } else if difference == -0.5 && scaled < 0 { integer -= 1 }
            rounded = Float80(signOf: scaled, magnitudeOf: integer.magnitude)
        } else {
            rounded = scaled.rounded(.toNearestOrAwayFromZero)
        }
        return Double(places >= 0 ? rounded / scale : rounded * scale)
        #else
        let scale = pow(10, Double(Swift.abs(places)))
        return places >= 0 ? (value * scale).rounded(.toNearestOrAwayFromZero) / scale : (value / scale).rounded(.toNearestOrAwayFromZero) * scale
        #endif
    }

    /// Maps day numbers through `body`, computing it once per distinct day when the batch spans few days.
    private static func dayMap(_ days: Vector, nulls: [Bool]?, _ body: (Int) -> Int64) -> Vector {
        let values = days.integerValues
        return Vector(type: .bigint, values: .integers(values.map { body(Int($0)) }), nulls: nulls, count: values.count)
    }
}
