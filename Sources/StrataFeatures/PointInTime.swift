import Dispatch
import Foundation
import StrataFormat
import StrataStorage

/// What a computation held in memory, to show that window sources stream.
public final class EngineStats: @unchecked Sendable {
    private let lock = NSLock()
    private var peakRows: [String: Int] = [:]
    private var totalRows: [String: Int] = [:]

    func record(source: String, heldRows: Int, tableRows: Int) {
        lock.withLock {
            peakRows[source] = max(peakRows[source] ?? 0, heldRows)
            totalRows[source] = tableRows
        }
    }

    /// For each window source: the most rows held at once, and the rows of the table.
    public var windowSources: [(source: String, peakRows: Int, tableRows: Int)] {
        lock.withLock { peakRows.keys.sorted().map { ($0, peakRows[$0]!, totalRows[$0]!) } }
    }
}

/// (entity, cutoff) pairs to compute features for: the label rows of a training set, or every entity
/// at one day for the online store.
public struct FeatureRequests: Sendable {
    public var entities: [Int64]
    /// Cutoffs as day numbers.
    public var cutoffs: [Int64]

    public init(entities: [Int64], cutoffs: [Int64]) {
        precondition(entities.count == cutoffs.count)
        self.entities = entities
        self.cutoffs = cutoffs
    }

    public var count: Int { entities.count }
}

/// Computes a feature view as of each request's cutoff, from the events of one store version only.
///
/// Strictly-before semantics (the default) use events with `time < cutoff`; at-or-before semantics
/// (Feast's) use `time <= cutoff`. Window sources are read in batches of one cutoff month, so memory
/// holds the rows of one month of cutoffs plus the longest window, whatever the table's size.
public struct PointInTimeEngine {
    public let plan: FeaturePlan
    public let store: Store
    public let inclusive: Bool
    /// Called with a short description of each step, for progress reports.
    public var progress: ((String) -> Void)?
    /// Filled while computing.
    public let stats = EngineStats()

    public init(plan: FeaturePlan, store: Store, inclusive: Bool = false) {
        self.plan = plan
        self.store = store
        self.inclusive = inclusive
    }

    /// Rows selected by last/attributes groups, per request (-1: none), with the columns loaded for them.
    struct GroupSelection {
        var table: LoadedTable
        var columnNames: [String]
        var selected: [Int]

        func value(_ column: String, request: Int) -> FeatureValue {
            let row = selected[request]
            guard row >= 0, let index = columnNames.firstIndex(of: column) else { return .null }
            return table.columns[index].featureValue(row)
        }
    }

    public func compute(_ requests: FeatureRequests) throws -> FeatureMatrix {
        let outputs = plan.outputs.map { OutputColumn(schema: $0, rowCount: requests.count) }
        // Each item's slice of the outputs.
        var ranges: [Range<Int>] = []
        var next = 0
        for item in plan.view.items {
            let width: Int
            switch item {
            case .window(let group): width = group.days.count * group.aggregates.count
            case .last(let group): width = group.columns.count
            case .attributes(let group): width = group.columns.count
            case .derived: width = 1
            }
            ranges.append(next..<(next + width))
            next += width
        }
        precondition(next == outputs.count)
        // Groups that read sources are independent of each other (each writes its own output columns):
        // they run concurrently. Derived features follow, in declaration order.
        let sourced = plan.view.items.indices.filter { if case .derived = plan.view.items[$0] { false } else { true } }
        let context = UncheckedSendable((self, outputs, requests, ranges))
        let results = parallelMap(sourced.count) { task -> Result<GroupSelection?, Error> in
            let (engine, outputs, requests, ranges) = context.value
            let index = sourced[task]
            return Result { try engine.computeSourced(index, requests: requests, outputs: Array(outputs[ranges[index]])) }
        }
        var groups: [String: GroupSelection] = [:]
        for (task, result) in results.enumerated() {
            guard let selection = try result.get() else { continue }
            switch plan.view.items[sourced[task]] {
            case .last(let group): groups[group.name] = selection
            case .attributes(let group): groups[group.name] = selection
            default: break
            }
        }
        for (index, item) in plan.view.items.enumerated() {
            guard case .derived(let feature) = item else { continue }
            let expression = try Expression.parse(feature.expression)
            let output = outputs[ranges[index].lowerBound]
            let earlier = Dictionary(uniqueKeysWithValues: outputs[..<ranges[index].lowerBound].map { ($0.schema.name, $0) })
            // Names resolve to columns once; the per-row work is then arithmetic only.
            let operands = expression.references.map { path -> Operand in
                if path == ["cutoff"] { return .cutoff }
                if path.count == 1 { return .output(earlier[path[0]]!) }
                let group = groups[path[0]]!
                return .group(group.table.columns[group.columnNames.firstIndex(of: path[1])!], group.selected)
            }
            let compiled = expression.compiled(operands: operands)
            for request in 0..<requests.count {
                output.set(request, Self.rounded(compiled(request, requests.cutoffs[request]), feature.round))
            }
        }
        return FeatureMatrix(schemas: plan.outputs, columns: outputs)
    }

    /// Computes item `index` (a window, last or attributes group) into its output columns.
    func computeSourced(_ index: Int, requests: FeatureRequests, outputs: [OutputColumn]) throws -> GroupSelection? {
        switch plan.view.items[index] {
        case .window(let group):
            progress?("window features from \(group.source)")
            try computeWindows(group, requests: requests, outputs: outputs)
            return nil
        case .last(let group):
            progress?("last values from \(group.source)")
            let selection = try selectLast(group, requests: requests)
            fill(selection, columns: group.columns, outputs: outputs, requests: requests)
            return selection
        case .attributes(let group):
            progress?("attributes from \(group.source)")
            let selection = try selectAttributes(group, requests: requests)
            fill(selection, columns: group.columns, outputs: outputs, requests: requests)
            return selection
        case .derived:
            preconditionFailure("derived features are computed after the sources")
        }
    }

    static func rounded(_ value: FeatureValue, _ places: Int?) -> FeatureValue {
        guard let places, case .float(let float) = value else { return value }
        let scale = pow(10, Double(places))
        return .float((float * scale).rounded(.toNearestOrAwayFromZero) / scale)
    }

    /// The last day whose events a cutoff may see.
    func lastVisibleDay(_ cutoff: Int64) -> Int64 { inclusive ? cutoff : cutoff - 1 }

    // MARK: window aggregates

    func computeWindows(_ group: WindowGroup, requests: FeatureRequests, outputs: [OutputColumn]) throws {
        let maxDays = Int64(group.days.max()!)
        let valueColumns = Array(Set(group.aggregates.compactMap(\.column))).sorted()
        let inputOfAggregate = group.aggregates.map { aggregate in aggregate.column.map { valueColumns.firstIndex(of: $0)! } }
        let functions = group.aggregates.map(\.function)
        let outputTypes = outputs.map(\.schema.type)
        var source = WindowSource(engine: self, group: group, columns: [plan.view.entity, group.time] + valueColumns)
        // Requests by cutoff, in batches of one calendar month of cutoffs.
        let byCutoff = (0..<requests.count).sorted { requests.cutoffs[$0] < requests.cutoffs[$1] }
        var start = 0
        while start < byCutoff.count {
            let month = Dates.monthKey(dayNumber: Int(requests.cutoffs[byCutoff[start]]))
            var end = start
            while end < byCutoff.count && Dates.monthKey(dayNumber: Int(requests.cutoffs[byCutoff[end]])) == month { end += 1 }
            let batch = byCutoff[start..<end]
            let runs = try source.runs(from: requests.cutoffs[batch.first!] - maxDays, through: lastVisibleDay(requests.cutoffs[batch.last!]))
            let batchRequests = Array(batch)
            // Plain views (raw pointers, no reference counting) for the hot loop; the owners stay alive around it.
            let runViews = runs.map(\.view)
            let slots = outputs.map(\.slot)
            let plans = group.aggregates.enumerated().map { index, aggregate in
                AggregatePlan(function: aggregate.function, input: inputOfAggregate[index], round: aggregate.round, fill: aggregate.fill)
            }
            let days = group.days.map(Int64.init)
            let inclusive = self.inclusive
            // The requests of a batch are independent: split them over the cores.
            let sliceCount = min(ProcessInfo.processInfo.activeProcessorCount, max(1, batchRequests.count / 4096))
            withExtendedLifetime((runs, outputs)) {
                DispatchQueue.concurrentPerform(iterations: sliceCount) { slice in
                    let bounds = (batchRequests.count * slice / sliceCount)..<(batchRequests.count * (slice + 1) / sliceCount)
                    Self.computeWindowSlice(
                        requests: batchRequests[bounds], entities: requests.entities, cutoffs: requests.cutoffs, inclusive: inclusive,
                        days: days, plans: plans, runs: runViews, slots: slots)
                }
            }
            start = end
        }
    }

    /// The hot loop of window features for some requests: ranges by binary search in each run, folded
    /// into accumulators, written to the output slots.
    static func computeWindowSlice(
        requests: ArraySlice<Int>, entities: [Int64], cutoffs: [Int64], inclusive: Bool, days: [Int64],
        plans: [AggregatePlan], runs: [RunView], slots: [OutputSlot]
    ) {
        var accumulators = [WindowAccumulator](repeating: WindowAccumulator(), count: plans.count)
        for request in requests {
            let entity = Int(entities[request])
            let cutoff = cutoffs[request]
            let lastDay = inclusive ? cutoff : cutoff - 1
            var output = 0
            for window in days {
                for index in accumulators.indices { accumulators[index].reset() }
                for run in runs {
                    let (begin, end) = run.range(entity: entity, from: cutoff - window, through: lastDay)
                    guard begin < end else { continue }
                    for index in plans.indices {
                        if let input = plans[index].input {
                            accumulators[index].add(run.inputs[input], begin, end, distinct: plans[index].function == .countDistinct)
                        } else {
                            accumulators[index].addRows(end - begin)
                        }
                    }
                }
                for index in plans.indices {
                    let plan = plans[index]
                    var value = accumulators[index].result(plan.function, countsRows: plan.input == nil)
                    if let places = plan.round, case .float(let float) = value {
                        let scale = pow(10, Double(places))
                        value = .float((float * scale).rounded(.toNearestOrAwayFromZero) / scale)
                    }
                    slots[output].set(request, value, fill: plan.fill)
                    output += 1
                }
            }
        }
    }

    /// Rows of one partition of a window source grouped by entity and sorted by time: a point-in-time
    /// window over a user is a range of each run, found by binary search.
    final class EntityRuns {
        let offsets: [Int32]
        let times: UnsafeMutableBufferPointer<Int64>
        var rowCount: Int { Int(offsets.last ?? 0) }
        let columns: [GatheredColumn]
        let inputs: [AggregateInput]

        init(table: LoadedTable, entityCount: Int) {
            let grouped = EntityGroups(entities: table.columns[0].integerValues, entityCount: entityCount, keys: [table.columns[1].integerValues])
            offsets = grouped.offsets.map { Int32($0) }
            let rawTimes = table.columns[1].integerValues
            let times = UnsafeMutableBufferPointer<Int64>.allocate(capacity: max(1, grouped.order.count))
            rawTimes.withUnsafeBufferPointer { rawTimes in
                for (index, row) in grouped.order.enumerated() { times[index] = rawTimes[row] }
            }
            self.times = times
            let columns = table.columns.dropFirst(2).map { GatheredColumn($0, order: grouped.order) }
            self.columns = columns
            inputs = columns.map(\.input)
        }

        deinit {
            times.deallocate()
            inputBuffer.deallocate()
        }

        private lazy var inputBuffer: UnsafeMutableBufferPointer<AggregateInput> = {
            let buffer = UnsafeMutableBufferPointer<AggregateInput>.allocate(capacity: max(1, inputs.count))
            for (index, input) in inputs.enumerated() { buffer[index] = input }
            return buffer
        }()

        /// A plain view for the hot loop; valid while this object lives.
        var view: RunView {
            offsets.withUnsafeBufferPointer { offsets in
                RunView(offsets: offsets.baseAddress!, entityLimit: offsets.count - 1, times: UnsafePointer(times.baseAddress!),
                        inputs: UnsafePointer(inputBuffer.baseAddress!))
            }
        }

        /// Rows of `entity` with `from <= time <= through`.
        @inline(__always) func range(entity: Int, from: Int64, through: Int64) -> (Int, Int) {
            guard entity + 1 < offsets.count else { return (0, 0) }
            let rows = Int(offsets[entity])..<Int(offsets[entity + 1])
            guard !rows.isEmpty else { return (0, 0) }
            let times = UnsafeBufferPointer(self.times)
            let end = PointInTimeEngine.lowerBound(times, rows, through + 1)
            let begin = PointInTimeEngine.lowerBound(times, rows.lowerBound..<end, from)
            return (begin, end)
        }
    }

    /// The runs of a window source by day range, one per partition, built once and kept while later
    /// cutoffs (processed in ascending order) still need them: memory holds one batch's partitions.
    struct WindowSource {
        let engine: PointInTimeEngine
        let group: WindowGroup
        let columns: [String]
        let byPartition: Bool
        let entityCount: Int
        var cache: [Int: EntityRuns] = [:]

        init(engine: PointInTimeEngine, group: WindowGroup, columns: [String]) {
            self.engine = engine
            self.group = group
            self.columns = columns
            let table = engine.store.manifest.tables[group.source]
            byPartition = table?.partitioning == .month && table?.partitionColumn == group.time
            entityCount = engine.store.manifest.entities.count
        }

        mutating func runs(from firstDay: Int64, through lastDay: Int64) throws -> [EntityRuns] {
            guard firstDay <= lastDay else { return [] }
            guard byPartition else {
                if cache[0] == nil {
                    let table = try LoadedTable.load(store: engine.store, table: group.source, columns: columns, dayRange: nil)
                    cache[0] = EntityRuns(table: table, entityCount: entityCount)
                }
                engine.stats.record(source: group.source, heldRows: cache[0]!.rowCount, tableRows: cache[0]!.rowCount)
                return [cache[0]!]
            }
            let firstMonth = Dates.monthKey(dayNumber: Int(firstDay))
            let lastMonth = Dates.monthKey(dayNumber: Int(lastDay))
            cache = cache.filter { $0.key >= firstMonth }
            let partitions = Set(try engine.store.table(group.source).partitions)
            var runs: [EntityRuns] = []
            var day = Dates.dayNumber(yyyymmdd: firstMonth * 100 + 1)!
            while Dates.monthKey(dayNumber: day) <= lastMonth {
                let key = Dates.monthKey(dayNumber: day)
                let (year, month, _) = Dates.civil(dayNumber: day)
                let next = Dates.daysFromCivil(year: year + month / 12, month: month % 12 + 1, day: 1)
                if partitions.contains(key) {
                    if cache[key] == nil {
                        let table = try LoadedTable.load(store: engine.store, table: group.source, columns: columns, dayRange: Int64(day)...Int64(next - 1))
                        cache[key] = EntityRuns(table: table, entityCount: entityCount)
                    }
                    runs.append(cache[key]!)
                }
                day = next
            }
            engine.stats.record(source: group.source, heldRows: cache.values.reduce(0) { $0 + $1.rowCount },
                                tableRows: (try? engine.store.table(group.source).rowCount) ?? 0)
            return runs
        }
    }

    /// First index in `rows` whose time is at least `day` (times ascending within rows).
    @inline(__always) static func lowerBound(_ times: [Int64], _ rows: Range<Int>, _ day: Int64) -> Int {
        times.withUnsafeBufferPointer { lowerBound($0, rows, day) }
    }

    @inline(__always) static func lowerBound(_ times: UnsafeBufferPointer<Int64>, _ rows: Range<Int>, _ day: Int64) -> Int {
        var low = rows.lowerBound
        var high = rows.upperBound
        while low < high {
            let middle = (low + high) >> 1
            if times[middle] < day { low = middle + 1 } else { high = middle }
        }
        return low
    }

    static func finish(_ value: FeatureValue, _ aggregate: Aggregate, type: LogicalType) -> FeatureValue {
        var value = rounded(value, aggregate.round)
        if case .null = value, let fill = aggregate.fill {
            value = type == .float64 ? .float(fill) : .integer(Int64(fill))
        }
        return value
    }

    // MARK: last values and attributes

    func selectLast(_ group: LastValueGroup, requests: FeatureRequests) throws -> GroupSelection {
        let entityCount = store.manifest.entities.count
        guard let maxCutoff = requests.cutoffs.max(), let minCutoff = requests.cutoffs.min() else {
            return GroupSelection(table: LoadedTable(columns: []), columnNames: [], selected: [])
        }
        let firstDay = group.ttlDays.map { minCutoff - Int64($0) } ?? Int64(Int32.min)
        let keys = [group.time] + group.order
        let needed = plan.groupColumns[group.name]!
        let table = try LoadedTable.load(store: store, table: group.source, columns: [plan.view.entity] + keys + needed,
                                         dayRange: firstDay...lastVisibleDay(maxCutoff))
        let grouped = EntityGroups(entities: table.columns[0].integerValues, entityCount: entityCount,
                                   keys: (0..<keys.count).map { table.columns[1 + $0].integerValues })
        let times = table.columns[1].integerValues.gathered(grouped.order)
        var selected = [Int](repeating: -1, count: requests.count)
        for request in 0..<requests.count {
            let entity = Int(requests.entities[request])
            guard entity < entityCount else { continue }
            let cutoff = requests.cutoffs[request]
            let rows = grouped.offsets[entity]..<grouped.offsets[entity + 1]
            // Sorted by (time, order keys, ingestion): the last visible row wins every tie rule.
            let end = Self.lowerBound(times, rows, lastVisibleDay(cutoff) + 1)
            guard end > rows.lowerBound else { continue }
            if let ttl = group.ttlDays, times[end - 1] < cutoff - Int64(ttl) { continue }
            selected[request] = grouped.order[end - 1]
        }
        let columns = Array(table.columns[(1 + keys.count)...])
        return GroupSelection(table: LoadedTable(columns: columns), columnNames: needed, selected: selected)
    }

    func selectAttributes(_ group: AttributeGroup, requests: FeatureRequests) throws -> GroupSelection {
        let entityCount = store.manifest.entities.count
        let needed = plan.groupColumns[group.name]!
        let table = try LoadedTable.load(store: store, table: group.source, columns: [plan.view.entity] + needed, dayRange: nil)
        // The row ingested last for each entity.
        var latest = [Int](repeating: -1, count: entityCount)
        for (row, entity) in table.columns[0].integerValues.enumerated() { latest[Int(entity)] = row }
        let selected = requests.entities.map { Int($0) < entityCount ? latest[Int($0)] : -1 }
        return GroupSelection(table: LoadedTable(columns: Array(table.columns[1...])), columnNames: needed, selected: selected)
    }

    func fill(_ selection: GroupSelection, columns: [NamedColumn], outputs: [OutputColumn], requests: FeatureRequests) {
        for (index, pair) in columns.enumerated() {
            let output = outputs[index]
            guard let source = selection.columnNames.firstIndex(of: pair.column) else { continue }
            let column = selection.table.columns[source]
            for request in 0..<requests.count {
                let row = selection.selected[request]
                output.set(request, row < 0 ? .null : column.featureValue(row))
            }
        }
    }
}

extension ColumnVector {
    func featureValue(_ row: Int) -> FeatureValue {
        if isNull(row) { return .null }
        switch values {
        case .integers(let values): return .integer(values[row])
        case .floats(let values): return .float(values[row])
        case .strings(let values): return .string(values.string(at: row))
        }
    }
}

extension Array where Element == Int64 {
    func gathered(_ order: [Int]) -> [Int64] { order.map { self[$0] } }
}

/// Raw views of one gathered column for the aggregation loops (no reference counting inside them).
struct AggregateInput: @unchecked Sendable {
    var integers: UnsafePointer<Int64>?
    var floats: UnsafePointer<Double>?
    /// nil when the column has no NULL.
    var valid: UnsafePointer<Bool>?
}

/// A column gathered into entity-group order, owning the buffers an `AggregateInput` points into.
/// Strings become dense codes, so COUNT and COUNT_DISTINCT treat them like integers.
final class GatheredColumn {
    private let integers: UnsafeMutableBufferPointer<Int64>?
    private let floats: UnsafeMutableBufferPointer<Double>?
    private let valid: UnsafeMutableBufferPointer<Bool>?

    init(_ column: ColumnVector, order: [Int]) {
        let count = order.count
        if column.validity != nil {
            let valid = UnsafeMutableBufferPointer<Bool>.allocate(capacity: max(1, count))
            for (index, row) in order.enumerated() { valid[index] = !column.isNull(row) }
            self.valid = valid
        } else {
            valid = nil
        }
        switch column.values {
        case .integers(let values):
            let integers = UnsafeMutableBufferPointer<Int64>.allocate(capacity: max(1, count))
            values.withUnsafeBufferPointer { values in
                for (index, row) in order.enumerated() { integers[index] = values[row] }
            }
            self.integers = integers
            floats = nil
        case .floats(let values):
            let floats = UnsafeMutableBufferPointer<Double>.allocate(capacity: max(1, count))
            values.withUnsafeBufferPointer { values in
                for (index, row) in order.enumerated() { floats[index] = values[row] }
            }
            self.floats = floats
            integers = nil
        case .strings(let values):
            var codes: [ArraySlice<UInt8>: Int64] = [:]
            let integers = UnsafeMutableBufferPointer<Int64>.allocate(capacity: max(1, count))
            for (index, row) in order.enumerated() {
                let key = values[row]
                if let code = codes[key] {
                    integers[index] = code
                } else {
                    integers[index] = Int64(codes.count)
                    codes[key] = Int64(codes.count)
                }
            }
            self.integers = integers
            floats = nil
        }
    }

    var input: AggregateInput {
        AggregateInput(integers: integers.map { UnsafePointer($0.baseAddress!) }, floats: floats.map { UnsafePointer($0.baseAddress!) },
                       valid: valid.map { UnsafePointer($0.baseAddress!) })
    }

    deinit {
        integers?.deallocate()
        floats?.deallocate()
        valid?.deallocate()
    }
}

/// One aggregate being folded over the ranges of several runs (SQL semantics: SUM, MIN, MAX and AVG of
/// no non-null values are NULL; COUNT is 0).
struct WindowAccumulator {
    var integerSum: Int64 = 0
    var floatSum = 0.0
    var isFloat = false
    var count = 0
    var integerLow = Int64.max
    var integerHigh = Int64.min
    var floatLow = Double.infinity
    var floatHigh = -Double.infinity
    var distinct: Set<UInt64> = []

    mutating func reset() {
        integerSum = 0
        floatSum = 0
        count = 0
        integerLow = .max
        integerHigh = .min
        floatLow = .infinity
        floatHigh = -.infinity
        if !distinct.isEmpty { distinct.removeAll(keepingCapacity: true) }
    }

    @inline(__always) mutating func addRows(_ rows: Int) { count &+= rows }

    @inline(__always) mutating func add(_ input: AggregateInput, _ begin: Int, _ end: Int, distinct wantsDistinct: Bool) {
        if let integers = input.integers {
            var row = begin
            while row < end {
                if input.valid?[row] ?? true {
                    let value = integers[row]
                    integerSum &+= value
                    count &+= 1
                    integerLow = Swift.min(integerLow, value)
                    integerHigh = Swift.max(integerHigh, value)
                    if wantsDistinct { distinct.insert(UInt64(bitPattern: value)) }
                }
                row &+= 1
            }
        } else if let floats = input.floats {
            isFloat = true
            var row = begin
            while row < end {
                if input.valid?[row] ?? true {
                    let value = floats[row]
                    floatSum += value
                    count &+= 1
                    floatLow = Swift.min(floatLow, value)
                    floatHigh = Swift.max(floatHigh, value)
                    if wantsDistinct { distinct.insert(value.bitPattern) }
                }
                row &+= 1
            }
        }
    }

    func result(_ function: AggregateFunction, countsRows: Bool) -> FeatureValue {
        switch function {
        case .count: return .integer(Int64(count))
        case .countDistinct: return .integer(Int64(distinct.count))
        default: break
        }
        guard count > 0 else { return .null }
        switch function {
        case .sum: return isFloat ? .float(floatSum) : .integer(integerSum)
        case .mean: return .float(isFloat ? floatSum / Double(count) : Double(integerSum) / Double(count))
        case .min: return isFloat ? .float(floatLow) : .integer(integerLow)
        case .max: return isFloat ? .float(floatHigh) : .integer(integerHigh)
        case .count, .countDistinct: preconditionFailure("handled above")
        }
    }
}

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

/// Hands values to `concurrentPerform` workers that only read them (or write disjoint slots).
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// What one aggregate needs in the hot loop, without strings.
struct AggregatePlan: Sendable {
    var function: AggregateFunction
    var input: Int?
    var round: Int?
    var fill: Double?
}

/// A run (`EntityRuns`) as raw pointers; read-only, so sharing it between threads is sound.
struct RunView: @unchecked Sendable {
    let offsets: UnsafePointer<Int32>
    let entityLimit: Int
    let times: UnsafePointer<Int64>
    let inputs: UnsafePointer<AggregateInput>

    @inline(__always) func range(entity: Int, from: Int64, through: Int64) -> (Int, Int) {
        guard entity < entityLimit else { return (0, 0) }
        var low = Int(offsets[entity])
        let limit = Int(offsets[entity + 1])
        guard low < limit else { return (0, 0) }
        // end: first row with time > through; begin: first row with time >= from.
        var high = limit
        while low < high {
            let middle = (low + high) >> 1
            if times[middle] <= through { low = middle + 1 } else { high = middle }
        }
        let end = low
        low = Int(offsets[entity])
        high = end
        while low < high {
            let middle = (low + high) >> 1
            if times[middle] < from { low = middle + 1 } else { high = middle }
        }
        return (low, end)
    }
}
