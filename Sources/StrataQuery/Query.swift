import Foundation
import StrataFormat
import StrataStorage

/// Rows of a result, in order; cells as text: floats as format-spec §10 (Python's repr), dates in SQL's
/// YYYY-MM-DD (not the stored YYYYMMDD of `strata scan`).
public struct ResultRows {
    let columns: [Vector]
    public let count: Int
    let context: ExecutionContext

    /// The text of one cell, nil for NULL.
    public func text(row: Int, column: Int) throws -> String? {
        let vector = columns[column]
        if vector.isNull(row) { return nil }
        let index = vector.isConstant ? 0 : row
        switch vector.values {
        case .entities, .constant(.entity): return try context.entityText(vector.integerValue(index))
        case .strings, .constant(.string): return vector.stringValue(index)
        case .doubles, .constant(.double): return ValueText.float(vector.doubleValue(index))
        default:
            let value = vector.integerValue(index)
            switch vector.type {
            case .date: return ValueText.date(value, style: .iso)
            case .boolean: return value == 1 ? "true" : "false"
            default: return String(value)
            }
        }
    }
}

/// A parsed, planned query, ready to run or explain.
public final class Query: @unchecked Sendable {
    public let sql: String
    public let statement: SelectStatement
    public var columnNames: [String] { plan.names }
    public var columnTypes: [SQLType] { plan.projections.map(\.type) }
    /// Whether the statement was `EXPLAIN SELECT …`.
    public var isExplain: Bool { statement.explain }
    let plan: QueryPlan
    let context: ExecutionContext
    private let workerCount: Int

    /// Parses, binds and plans `sql`, and opens the segments it will read (after pruning).
    /// - Throws: `QueryError` for anything wrong with the query; `StorageError` for a damaged store.
    public init(_ sql: String, store: Store, memoryLimitBytes: Int = 4 << 30, workerCount: Int? = nil) throws {
        self.sql = sql
        statement = try Parser.parse(sql)
        let context = ExecutionContext(store: store, memoryLimitBytes: memoryLimitBytes)
        plan = try Planner.plan(statement, store: store, entityID: context.entityID)
        self.context = context
        self.workerCount = max(1, workerCount ?? ProcessInfo.processInfo.activeProcessorCount)
        try plan.left.open(store: store)
        try plan.right?.open(store: store)
    }

    /// Runs the query, handing result rows to `sink` as they are ready; `sink` returns false to stop
    /// early. Without ORDER BY or aggregates, rows stream: `LIMIT 10` reads only the first chunks.
    public func run(_ sink: (ResultRows) throws -> Bool) throws {
        let evaluator = Evaluator(context: context)
        var join: HashJoin?
        if let right = plan.right, let (probeSlot, keySlot) = plan.joinSlots {
            join = try HashJoin(source: right, keySlot: keySlot, probeSlot: probeSlot, isLeftJoin: plan.isLeftJoin,
                                evaluator: evaluator, context: context)
        }
        if plan.isAggregate {
            try emit(try aggregate(join: join, evaluator: evaluator), evaluator: evaluator, sink)
        } else if !plan.sortKeys.isEmpty {
            try emitSorted(join: join, evaluator: evaluator, sink)
        } else {
            try stream(join: join, evaluator: evaluator, sink)
        }
    }

    /// The input rows of one work item: the table's filtered chunk, joined, then the rest of WHERE.
    private func input(_ item: TableSource.WorkItem, join: HashJoin?, evaluator: Evaluator) throws -> Batch? {
        guard var batch = try plan.left.read(item, evaluator: evaluator) else { return nil }
        if let join { batch = try join.probe(batch) }
        if let filter = plan.postJoinFilter, batch.count > 0, let selection = try evaluator.selection(filter, batch) {
            batch = batch.gather(selection)
        }
        return batch.count > 0 ? batch : nil
    }

    /// Runs `body` over every work item on all workers; each worker folds into its own state.
    private func parallel<State>(_ makeState: @escaping @Sendable () -> State, join: HashJoin?, evaluator: Evaluator,
                                 _ body: @escaping @Sendable (inout State, Batch) throws -> Void) throws -> [State] {
        let items = plan.left.workItems
        let workers = min(workerCount, max(1, items.count))
        let results = parallelMap(workers) { worker in
            Result { () throws -> State in
                var state = makeState()
                for index in stride(from: worker, to: items.count, by: workers) {
                    if let batch = try input(items[index], join: join, evaluator: evaluator) { try body(&state, batch) }
                }
                return state
            }
        }
        return try results.map { try $0.get() }
    }

    private func aggregate(join: HashJoin?, evaluator: Evaluator) throws -> Batch {
        let entityCount = context.entityCount
        let perWorkerLimit = context.memoryLimitBytes / workerCount
        let (plan, context) = (self.plan, self.context)
        let aggregators = try parallel({ Aggregator(keys: plan.keys, keyKinds: plan.keyKinds, specs: plan.aggregates,
                                                    entityCount: entityCount, context: context) },
                                       join: join, evaluator: evaluator) { aggregator, batch in
            try aggregator.add(batch, evaluator: evaluator)
            if aggregator.sizeBytes > perWorkerLimit {
                try self.context.checkMemory(aggregator.sizeBytes * self.workerCount, what: "GROUP BY (\(aggregator.groupCount) groups so far)")
            }
        }
        let first = aggregators[0]
        for other in aggregators.dropFirst() { try first.merge(other) }
        var result = try first.result()
        if let having = plan.having, let selection = try evaluator.selection(having, result) {
            result = result.gather(selection)
        }
        return result
    }

    /// Sorts (when ORDER BY), applies OFFSET/LIMIT and projects the rows of an aggregate.
    private func emit(_ input: Batch, evaluator: Evaluator, _ sink: (ResultRows) throws -> Bool) throws {
        var rows = Array(0..<Int32(input.count))
        if !plan.sortKeys.isEmpty {
            let keys = try plan.sortKeys.map { try evaluator.evaluate($0.expression, input).materialized() }
            rows = try Sorter(keys: keys, sortKeys: plan.sortKeys, context: context).order(count: input.count, limit: plan.keep)
        }
        rows = Array(rows.dropFirst(plan.offset).prefix(plan.limit ?? Int.max))
        let selected = input.gather(rows)
        let columns = try plan.projections.map { try evaluator.evaluate($0, selected) }
        _ = try sink(ResultRows(columns: columns, count: selected.count, context: context))
    }

    private func emitSorted(join: HashJoin?, evaluator: Evaluator, _ sink: (ResultRows) throws -> Bool) throws {
        // Each worker holds its batches' projections and sort keys. With a LIMIT, a batch keeps only its
        // first `keep` rows and the held rows are cut back to `keep` now and then: top-N in bounded memory.
        struct Held {
            var projections: [[Vector]] = []
            var keys: [[Vector]] = []
            var rowCount = 0
            var bytes = 0
        }
        let keep = plan.keep
        let perWorkerLimit = context.memoryLimitBytes / workerCount
        let held = try parallel({ Held() }, join: join, evaluator: evaluator) { held, batch in
            var projections = try self.plan.projections.map { try evaluator.evaluate($0, batch).materialized() }
            var keys = try self.plan.sortKeys.map { try evaluator.evaluate($0.expression, batch).materialized() }
            if let keep, batch.count > keep {
                let rows = try Sorter(keys: keys, sortKeys: self.plan.sortKeys, context: self.context).order(count: batch.count, limit: keep)
                projections = projections.map { $0.gather(rows) }
                keys = keys.map { $0.gather(rows) }
            }
            let count = projections.first?.count ?? keys.first?.count ?? 0
            held.projections.append(projections)
            held.keys.append(keys)
            held.rowCount += count
            held.bytes += count * (projections.count + keys.count) * 8
            if let keep, keep < Int.max / 4, held.rowCount > 2 * keep + 1024 {
                let (p, k) = try self.firstRows(held.projections, held.keys, keep: keep)
                held = Held(projections: [p], keys: [k], rowCount: k.first?.count ?? p.first?.count ?? 0, bytes: held.bytes)
                held.bytes = held.rowCount * (p.count + k.count) * 8
            }
            if held.bytes > perWorkerLimit {
                try self.context.checkMemory(held.bytes * self.workerCount, what: "ORDER BY over this many rows")
            }
        }
        let (projections, _) = try firstRows(held.flatMap(\.projections), held.flatMap(\.keys), keep: keep)
        let rows = projections.first?.count ?? 0
        let selected = Array(Int32(min(plan.offset, rows))..<Int32(rows))
        _ = try sink(ResultRows(columns: projections.map { $0.gather(selected) }, count: selected.count, context: context))
    }

    /// Held batches concatenated and sorted, cut to the first `keep` rows when there is a LIMIT.
    private func firstRows(_ projections: [[Vector]], _ keys: [[Vector]], keep: Int?) throws -> ([Vector], [Vector]) {
        let allProjections = plan.projections.indices.map { column in
            Vector.concatenate(projections.map { $0[column] }, type: plan.projections[column].type)
        }
        let allKeys = plan.sortKeys.indices.map { column in
            Vector.concatenate(keys.map { $0[column] }, type: plan.sortKeys[column].expression.type)
        }
        let count = allKeys.first?.count ?? 0
        let rows = try Sorter(keys: allKeys, sortKeys: plan.sortKeys, context: context).order(count: count, limit: keep)
        return (allProjections.map { $0.gather(rows) }, allKeys.map { $0.gather(rows) })
    }

    /// Rows in storage order, as soon as they are ready: chunks are filtered and projected by all workers
    /// a wave at a time (one chunk each) and handed on in order, so `LIMIT 10` reads one wave.
    private func stream(join: HashJoin?, evaluator: Evaluator, _ sink: (ResultRows) throws -> Bool) throws {
        var toSkip = plan.offset
        var remaining = plan.limit ?? Int.max
        guard remaining > 0 else { return }
        let items = plan.left.workItems
        var start = 0
        while start < items.count {
            let wave = Array(items[start..<min(items.count, start + workerCount)])
            start += wave.count
            let results = parallelMap(wave.count) { index in
                Result { () throws -> [Vector]? in
                    guard let batch = try input(wave[index], join: join, evaluator: evaluator) else { return nil }
                    return try plan.projections.map { try evaluator.evaluate($0, batch).resized(batch.count) }
                }
            }
            for result in results {
                guard var columns = try result.get() else { continue }
                var count = columns.first?.count ?? 0
                if toSkip > 0 {
                    let skipped = min(toSkip, count)
                    toSkip -= skipped
                    if skipped == count { continue }
                    columns = columns.map { $0.gather(Array(Int32(skipped)..<Int32(count))) }
                    count -= skipped
                }
                if count > remaining {
                    columns = columns.map { $0.gather(Array(0..<Int32(remaining))) }
                    count = remaining
                }
                remaining -= count
                if try !sink(ResultRows(columns: columns, count: count, context: context)) || remaining == 0 { return }
            }
        }
    }
}
