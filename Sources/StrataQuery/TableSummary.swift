import StrataFormat
import StrataStorage

/// A full-column scan folded into a row count, and per column a non-null count and a sum with the
/// kernel's SUM semantics (exact for integers, an error outside BIGINT): `strata scan --summary`.
public struct TableSummary: Sendable {
    public struct Column: Sendable {
        public var schema: ColumnSchema
        public var nonNull: Int
        /// The SUM of a numeric or bool column (NULL when it has no value); nil for strings, entities and dates.
        public var sum: Scalar?
    }

    public var rowCount: Int
    public var columns: [Column]

    /// Decodes every task of `scan` (in parallel) and folds it; partial results combine in task order,
    /// so the result is the same every run.
    public static func compute(_ scan: TableScan) throws -> TableSummary {
        let schemas = scan.columnIndexes.map { scan.table.columns[$0] }
        let summed = schemas.map { $0.type != .string && $0.type != .entity && $0.type != .date }
        struct Partial: Sendable {
            var rows = 0
            var counts: [RangeAccumulator]
            var sums: [RangeAccumulator]
        }
        let empty = Partial(counts: schemas.map { _ in RangeAccumulator(.count) }, sums: schemas.map { _ in RangeAccumulator(.sum) })
        let partials = parallelMap(scan.tasks.count) { index -> Result<Partial, Error> in
            Result {
                var partial = empty
                guard let batch = try scan.batch(scan.tasks[index]) else { return partial }
                partial.rows = batch.rowCount
                for (column, vector) in batch.columns.enumerated() {
                    vector.withAggregateInput { input in
                        partial.counts[column].add(input.countingOnly, 0, batch.rowCount)
                        if summed[column] { partial.sums[column].add(input, 0, batch.rowCount) }
                    }
                }
                return partial
            }
        }
        var total = empty
        for partial in partials {
            let partial = try partial.get()
            total.rows += partial.rows
            for column in schemas.indices {
                total.counts[column].merge(partial.counts[column])
                total.sums[column].merge(partial.sums[column])
            }
        }
        var columns: [Column] = []
        for (index, schema) in schemas.enumerated() {
            guard case .integer(let nonNull) = total.counts[index].result() else { preconditionFailure("COUNT is an integer") }
            var sum: Scalar?
            if summed[index] {
                sum = total.sums[index].result()
                if total.sums[index].overflowed {
                    throw QueryError("the sum of \(schema.name) is outside BIGINT (-2^63..2^63-1)")
                }
            }
            columns.append(Column(schema: schema, nonNull: Int(nonNull), sum: sum))
        }
        return TableSummary(rowCount: total.rows, columns: columns)
    }
}

extension AggregateInput {
    /// The same rows, without values: COUNT of the non-NULL ones.
    var countingOnly: AggregateInput { AggregateInput(integers: nil, floats: nil, valid: valid) }
}

extension ColumnVector {
    /// Calls `body` with raw views of the column (strings count as values without a sum).
    func withAggregateInput<R>(_ body: (AggregateInput) throws -> R) rethrows -> R {
        var valid: [Bool]?
        if validity != nil { valid = (0..<count).map { !isNull($0) } }
        return try valid.withOptionalPointer { valid in
            switch values {
            case .integers(let values):
                return try values.withUnsafeBufferPointer { try body(AggregateInput(integers: $0.baseAddress, floats: nil, valid: valid)) }
            case .floats(let values):
                return try values.withUnsafeBufferPointer { try body(AggregateInput(integers: nil, floats: $0.baseAddress, valid: valid)) }
            case .strings:
                return try body(AggregateInput(integers: nil, floats: nil, valid: valid))
            }
        }
    }
}

extension Optional where Wrapped == [Bool] {
    fileprivate func withOptionalPointer<R>(_ body: (UnsafePointer<Bool>?) throws -> R) rethrows -> R {
        guard let array = self else { return try body(nil) }
        return try array.withUnsafeBufferPointer { try body($0.baseAddress) }
    }
}

extension ValueText {
    /// A kernel scalar as text (NULL is nil); entities as their id (`#id`), for callers without a dictionary.
    public static func scalar(_ value: Scalar) -> String? {
        switch value {
        case .null: nil
        case .integer(let integer): String(integer)
        case .double(let double): float(double)
        case .string(let string): string
        case .entity(let id): "#\(id)"
        }
    }
}
