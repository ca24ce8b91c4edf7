import Dispatch
import Foundation
import StrataFormat
import StrataQuery
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
/// holds the rows of one month of cutoffs plus the longest window, whatever the table's length. When
/// those rows would still outgrow `memoryBudget` (many users), the requests are computed in passes over
/// ranges of entity ids, each reading only its entities' rows: in clustered segments those are a few
/// chunks per partition, so the passes together read each chunk about once.
public struct PointInTimeEngine {
    public let plan: FeaturePlan
    public let store: Store
    public let inclusive: Bool
    /// Called with a short description of each step, for progress reports.
    public var progress: ((String) -> Void)?
    /// Filled while computing.
    public let stats = EngineStats()
    /// About how many bytes the source rows held at once may take (an estimate from row counts in the
    /// manifest): above it, `compute` splits the requests into ranges of entities.
    public var memoryBudget = PointInTimeEngine.defaultMemoryBudget
    /// The entities one pass reads (nil: all).
    var entityRange: ClosedRange<Int64>?
    /// Per window item (its index in the view), the layout of its carries where they pay for all the
    /// requests (`CarryLayout.worthwhile`): decided once, so that the estimate and every pass agree.
    var carryLayouts: [Int: CarryLayout]?

    /// The ids whose rows a pass holds, `base ..< base + count`: `entityRange` within the store's entities.
    /// Per-entity arrays are this long, so a pass costs what its own users do.
    var entitySpan: (base: Int64, count: Int) {
        let total = Int64(store.manifest.entities.count)
        guard let entityRange else { return (0, Int(total)) }
        let low = max(0, entityRange.lowerBound), high = min(total - 1, entityRange.upperBound)
        return (low, low > high ? 0 : Int(high - low + 1))
    }

    /// 1 GiB, or `STRATA_FEATURE_MEMORY_MIB` MiB when that is set to a positive whole number (other
    /// values are ignored).
    public static var defaultMemoryBudget: Int {
        if let text = ProcessInfo.processInfo.environment["STRATA_FEATURE_MEMORY_MIB"], let mebibytes = Int(text), mebibytes > 0 {
            return min(mebibytes, 1 << 40) << 20
        }
        return 1 << 30
    }

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
        var engine = self
        engine.carryLayouts = carryDecisions(requests)
        return try engine.computeInPasses(requests)
    }

    /// Which window items use carries for these requests, and with what layout.
    func carryDecisions(_ requests: FeatureRequests) -> [Int: CarryLayout] {
        var users: Int?
        var layouts: [Int: CarryLayout] = [:]
        for (index, item) in plan.view.items.enumerated() {
            guard case .window(let group) = item, let table = store.manifest.tables[group.source] else { continue }
            if users == nil { users = distinctUsers(requests) }
            layouts[index] = CarryLayout.worthwhile(group, inputs: windowInputs(group), table: table, users: users!)
        }
        return layouts
    }

    /// The carry layout of window item `index` (decided for all passes when `compute` set it).
    func carryLayout(item index: Int, requests: FeatureRequests) -> CarryLayout? {
        (carryLayouts ?? carryDecisions(requests))[index] ?? nil
    }

    func computeInPasses(_ requests: FeatureRequests) throws -> FeatureMatrix {
        let ranges = try entityRanges(requests)
        guard ranges.count > 1 else {
            // One pass still reads only the ids asked for (a batch of predict's users, say).
            var pass = self
            pass.entityRange = ranges.first
            return try pass.computePass(requests)
        }
        let outputs = plan.outputs.map { OutputColumn(schema: $0, rowCount: requests.count) }
        // Requests by entity, once: a counting sort when every id is in the dictionary's span (as it is
        // unless the store lies) and the span is not far larger than the requests (its buckets are the
        // whole store's ids); each pass takes its stretch, back in request order.
        let span = entitySpan
        let byEntity = span.count <= 4 * requests.count && requests.entities.allSatisfy({ $0 &- span.base >= 0 && $0 &- span.base < Int64(span.count) })
            ? Self.entityOrder(requests.entities, span: span)
            : (0..<requests.count).sorted { (requests.entities[$0], $0) < (requests.entities[$1], $1) }
        var next = 0
        for (index, range) in ranges.enumerated() {
            var end = next
            while end < byEntity.count && requests.entities[byEntity[end]] <= range.upperBound { end += 1 }
            let rows = byEntity[next..<end].sorted()
            next = end
            progress?("entities \(range.lowerBound)...\(range.upperBound): pass \(index + 1) of \(ranges.count), \(rows.count) rows")
            var pass = self
            pass.entityRange = range
            let part = try pass.computePass(FeatureRequests(entities: rows.map { requests.entities[$0] }, cutoffs: rows.map { requests.cutoffs[$0] }))
            // Columns are independent: copied on every core.
            let columns = part.columns
            DispatchQueue.concurrentPerform(iterations: outputs.count) { outputs[$0].scatter(columns[$0], to: rows) }
        }
        return FeatureMatrix(schemas: plan.outputs, columns: outputs)
    }

    /// At most this many passes: each opens every segment its sources read and walks their chunk
    /// footers, so a budget far too small for the data must not turn into thousands of them.
    static let maximumPasses = 256

    /// The ranges of entity ids to compute in separate passes, from the first requested id to the last:
    /// one when the source rows held at once fit in `memoryBudget`, else about estimate / budget ranges
    /// (at most `maximumPasses`) holding equal numbers of the distinct ids requested.
    func entityRanges(_ requests: FeatureRequests) throws -> [ClosedRange<Int64>] {
        // Clustered segments hold the requested entities' rows in the chunks of their ids: the share of
        // the ids they span is about the share of the rows they read.
        guard let first = requests.entities.min(), let last = requests.entities.max() else { return [] }
        let share = min(1, Double(last - first + 1) / Double(max(1, store.manifest.entities.count)))
        let estimate = Int(Double(try heldBytes(requests)) * share)
        let wanted = min(Self.maximumPasses, estimate / max(1, memoryBudget) + 1)
        guard wanted > 1 else { return [first...last] }
        let entities = Array(Set(requests.entities)).sorted()
        let count = min(wanted, entities.count)
        guard count > 1 else { return [first...last] }
        // From the first requested entity to the last: a pass reads no rows of entities nobody asked for.
        return (0..<count).map { index in
            let low = entities[entities.count * index / count]
            let high = index == count - 1 ? entities.last! : entities[entities.count * (index + 1) / count] - 1
            return low...high
        }
    }

    /// About how many bytes the sourced groups hold at once for `requests` (they run concurrently), from
    /// the manifest's row counts (Sources/StrataFeatures/README.md, "Passes over ranges of users"): for a
    /// window source, the rows of its partitions for the busiest cutoff month as a run holds them, its
    /// largest month while it is read, and per user and month held the run's offsets, extremes and
    /// carries; for a last-values group its largest month and a row per request when it is read a month at
    /// a time, else every row it reads; an attribute table.
    func heldBytes(_ requests: FeatureRequests) throws -> Int {
        guard let minCutoff = requests.cutoffs.min(), let maxCutoff = requests.cutoffs.max() else { return 0 }
        func rows(_ source: String, from firstDay: Int64, through lastDay: Int64) throws -> Int {
            let table = try store.table(source)
            guard table.partitioning == .month, firstDay <= lastDay else { return firstDay <= lastDay ? table.rowCount : 0 }
            let low = Dates.monthKey(dayNumber: Int(max(firstDay, Int64(Int32.min))))
            let high = Dates.monthKey(dayNumber: Int(min(lastDay, Int64(Int32.max))))
            return table.segments.filter { (low...high).contains($0.partition) }.reduce(0) { $0 + $1.rowCount }
        }
        var total = 0
        let users = distinctUsers(requests)
        for (itemIndex, item) in plan.view.items.enumerated() {
            switch item {
            case .window(let group):
                let inputs = windowInputs(group)
                // A held row: its time, each input's prefix-table words (a count where NULLs or a filter
                // matter, a sum of one or two words) and the values scans still read (`RunPrefixes`).
                let table = try store.table(group.source)
                var perRow = 8
                let traits = inputs.traits(in: table)
                for (index, needs) in inputs.needs.enumerated() {
                    let counted = traits.counted[index], float = traits.floats[index]
                    if counted && !needs.isDisjoint(with: [.counts, .sums]) { perRow += 8 }
                    if needs.contains(.sums) { perRow += 16 }
                    if needs.contains(.values) || (needs.contains(.sums) && float) { perRow += 8 + (counted ? 1 : 0) }
                }
                // The month being read, before its rows are grouped: every loaded column, and their copies.
                let loading = 8 * (2 + inputs.loadColumns.count) + 8 * (1 + inputs.inputs.count)
                let largestMonth = table.largestPartitionRowCount
                let maxDays = Int64(group.days.max() ?? 0)
                // One day of each cutoff month stands for the month (the engine's batches); equal cutoffs in a
                // row (labels come a month at a time) are looked at once.
                var monthDays: [Int: Int] = [:]
                var previous = Int64.min
                for cutoff in requests.cutoffs where cutoff != previous {
                    monthDays[Dates.monthKey(dayNumber: Int(cutoff))] = Int(cutoff)
                    previous = cutoff
                }
                var peak = 0
                for day in monthDays.values {
                    let month = Dates.month(containing: day)
                    peak = max(peak, try rows(group.source, from: Int64(month.lowerBound) - maxDays, through: Int64(month.upperBound)))
                }
                total += peak * perRow + largestMonth * loading
                // Per user and month held: a run's offsets, each MIN/MAX input's extremes, and, where they
                // pay, a carry record (`RunCarries`); per user once: the carry numbering and the batch sort.
                let monthsHeld = table.partitioning == .month ? group.days.max()! / 28 + 2 : 1
                let extremes = inputs.needs.filter { $0.contains(.extremes) }.count
                total += store.manifest.entities.count * ((4 + 16 * extremes) * monthsHeld + 12)
                if let layout = carryLayout(item: itemIndex, requests: requests) {
                    total += users * layout.stride * 8 * monthsHeld
                }
            case .last(let group):
                let firstDay = group.ttlDays.map { minCutoff - Int64($0) } ?? Int64(Int32.min)
                let needed = plan.groupColumns[group.name]?.count ?? 0
                let columns = 1 + 1 + group.order.count + needed
                let table = try store.table(group.source)
                if table.partitioning == .month && table.partitionColumn == group.time {
                    // A month at a time (`selectLastByMonth`), and each request's chosen row.
                    total += table.largestPartitionRowCount * 8 * (columns + 2) + requests.count * 8 * (needed + 1)
                } else {
                    total += try rows(group.source, from: firstDay, through: maxCutoff) * 8 * (columns + 2)
                }
            case .attributes(let group):
                total += try store.table(group.source).rowCount * 8 * (1 + (plan.groupColumns[group.name]?.count ?? 0))
            case .derived:
                break
            }
        }
        return total
    }

    /// How many distinct users `requests` ask for (within the store's ids).
    func distinctUsers(_ requests: FeatureRequests) -> Int {
        let count = store.manifest.entities.count
        var seen = [UInt64](repeating: 0, count: count / 64 + 1)
        var distinct = 0
        for entity in requests.entities where entity >= 0 && entity < Int64(count) {
            let word = Int(entity >> 6), bit = UInt64(1) << UInt64(entity & 63)
            if seen[word] & bit == 0 {
                seen[word] |= bit
                distinct += 1
            }
        }
        return distinct
    }

    /// `compute` for requests whose sources fit in memory at once (or one range of entities).
    func computePass(_ requests: FeatureRequests) throws -> FeatureMatrix {
        let outputs = plan.outputs.map { OutputColumn(schema: $0, rowCount: requests.count) }
        // Nothing to compute (every msno asked for is unknown, say): no source need be read.
        if requests.count == 0 { return FeatureMatrix(schemas: plan.outputs, columns: outputs) }
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
        let results = parallelTasks(sourced.count) { task -> Result<GroupSelection?, Error> in
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
            try computeDerived(feature, into: outputs[ranges[index].lowerBound], outputs: outputs, groups: groups, requests: requests)
        }
        return FeatureMatrix(schemas: plan.outputs, columns: outputs)
    }

    /// Computes item `index` (a window, last or attributes group) into its output columns.
    func computeSourced(_ index: Int, requests: FeatureRequests, outputs: [OutputColumn]) throws -> GroupSelection? {
        switch plan.view.items[index] {
        case .window(let group):
            progress?("window features from \(group.source)")
            try computeWindows(group, item: index, requests: requests, outputs: outputs)
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

    /// A derived feature for every request, evaluated by the kernel over whole columns: earlier features,
    /// the selected rows of last/attributes groups, and the cutoffs.
    func computeDerived(_ feature: DerivedFeature, into output: OutputColumn, outputs: [OutputColumn], groups: [String: GroupSelection],
                        requests: FeatureRequests) throws {
        guard let derived = plan.derived[feature.name] else {
            throw FeaturePlanError(message: "derived feature \(feature.name) was not planned")
        }
        let byName = Dictionary(outputs.map { ($0.schema.name, $0) }, uniquingKeysWith: { first, _ in first })
        let identity = Array(0..<requests.count)
        let values: ColumnVector
        do {
            values = try derived.program.evaluate(rowCount: requests.count) { input in
                if input.table == 0 {
                    let name = derived.featureNames[input.column]
                    if name == "cutoff" { return ColumnVector(type: .date, values: .integers(requests.cutoffs), validity: nil) }
                    guard let column = byName[name] else { throw FeaturePlanError(message: "derived feature \(feature.name) reads \(name), which is not computed") }
                    return column.vector(order: identity)
                }
                let groupName = derived.groupNames[input.table - 1]
                guard let group = groups[groupName], let schema = plan.groupSources[groupName]?.columns[input.column],
                      let index = group.columnNames.firstIndex(of: schema.name) else {
                    throw FeaturePlanError(message: "derived feature \(feature.name) reads a column of \(groupName) that was not loaded")
                }
                return group.table.columns[index].gathering(group.selected)
            }
        } catch let error as QueryError {
            throw FeaturePlanError(message: "derived feature \(feature.name) (\(feature.expression)): \(error.message)")
        }
        for request in 0..<requests.count {
            output.set(request, Self.rounded(values.featureValue(request), feature.round))
        }
    }

    /// SQL round(x, places) of a float result; other values pass unchanged.
    static func rounded(_ value: FeatureValue, _ places: Int?) -> FeatureValue {
        guard let places, case .float(let float) = value else { return value }
        return .float(RangeAccumulator.round(float, places: places))
    }

    /// The last day whose events a cutoff may see.
    func lastVisibleDay(_ cutoff: Int64) -> Int64 { inclusive ? cutoff : cutoff - 1 }

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
        let (base, entityCount) = entitySpan
        guard let maxCutoff = requests.cutoffs.max(), let minCutoff = requests.cutoffs.min() else {
            return GroupSelection(table: LoadedTable(columns: []), columnNames: [], selected: [])
        }
        let manifest = try store.table(group.source)
        if manifest.partitioning == .month && manifest.partitionColumn == group.time {
            return try selectLastByMonth(group, requests: requests, table: manifest)
        }
        let firstDay = group.ttlDays.map { minCutoff - Int64($0) } ?? Int64(Int32.min)
        let keys = [group.time] + group.order
        let needed = plan.groupColumns[group.name]!
        let table = try LoadedTable.load(store: store, table: group.source, columns: [plan.view.entity] + keys + needed,
                                         dayRange: firstDay...lastVisibleDay(maxCutoff), entities: entityRange)
        let grouped = EntityGroups(entities: table.columns[0].integerValues, entityCount: entityCount,
                                   keys: (0..<keys.count).map { table.columns[1 + $0].integerValues }, base: base)
        let times = table.columns[1].integerValues.gathered(grouped.order)
        var selected = [Int](repeating: -1, count: requests.count)
        for request in 0..<requests.count {
            let entity = Int(requests.entities[request] &- base)
            guard entity >= 0 && entity < entityCount else { continue }
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

    /// `selectLast` over a source partitioned by month on the group's time: one month at a time, newest
    /// first, each request taking its row from the latest month that has one at or before its last
    /// visible day (a later month's dates are later, so the tie rule — time, then the order keys, then
    /// ingestion — only ever compares rows of one month). Memory holds a month and the chosen rows, not
    /// the table, and the months before every request's row are not read.
    func selectLastByMonth(_ group: LastValueGroup, requests: FeatureRequests, table manifest: TableManifest) throws -> GroupSelection {
        let (base, entityCount) = entitySpan
        let maxCutoff = requests.cutoffs.max()!, minCutoff = requests.cutoffs.min()!
        let firstDay = group.ttlDays.map { minCutoff - Int64($0) } ?? Int64(Int32.min)
        let lastDay = lastVisibleDay(maxCutoff)
        let keys = [group.time] + group.order
        let needed = plan.groupColumns[group.name]!
        let types = needed.map { name in manifest.columns.first { $0.name == name }!.type }
        var chosen = types.map { ColumnAccumulator(type: $0) }
        var chosenCount = 0
        var selected = [Int](repeating: -1, count: requests.count)
        // Requests still looking, in entity order (each month's rows are read forward).
        var pending = Self.entityOrder(requests.entities, span: entitySpan).filter { (0..<entityCount).contains(Int(requests.entities[$0] &- base)) }
        let low = Dates.monthKey(dayNumber: Int(max(firstDay, Int64(Int32.min)))), high = Dates.monthKey(dayNumber: Int(min(lastDay, Int64(Int32.max))))
        for month in manifest.partitions.reversed() where (low...high).contains(month) {
            guard !pending.isEmpty else { break }
            let day = Dates.dayNumber(yyyymmdd: month * 100 + 1)!
            let days = Dates.month(containing: day)
            let range = max(firstDay, Int64(days.lowerBound))...min(lastDay, Int64(days.upperBound))
            let table = try LoadedTable.load(store: store, table: group.source, columns: [plan.view.entity] + keys + needed,
                                             dayRange: range, entities: entityRange)
            let grouped = EntityGroups(entities: table.columns[0].integerValues, entityCount: entityCount,
                                       keys: (0..<keys.count).map { table.columns[1 + $0].integerValues }, base: base)
            let times = grouped.isIdentity ? table.columns[1].integerValues : table.columns[1].integerValues.gathered(grouped.order)
            var rows: [Int] = []
            var still: [Int] = []
            for request in pending {
                let entity = Int(requests.entities[request] &- base)
                let cutoff = requests.cutoffs[request]
                let entityRows = grouped.offsets[entity]..<grouped.offsets[entity + 1]
                // Sorted by (time, order keys, ingestion): the last visible row wins every tie rule.
                let end = Self.lowerBound(times, entityRows, lastVisibleDay(cutoff) + 1)
                guard end > entityRows.lowerBound else {
                    still.append(request)
                    continue
                }
                // Older than the TTL: so is every row of an earlier month.
                if let ttl = group.ttlDays, times[end - 1] < cutoff - Int64(ttl) { continue }
                selected[request] = chosenCount + rows.count
                rows.append(grouped.order[end - 1])
            }
            for index in needed.indices { chosen[index].append(table.columns[1 + keys.count + index].gathering(rows)) }
            chosenCount += rows.count
            pending = still
        }
        return GroupSelection(table: LoadedTable(columns: chosen.map { $0.finish() }), columnNames: needed, selected: selected)
    }

    func selectAttributes(_ group: AttributeGroup, requests: FeatureRequests) throws -> GroupSelection {
        let (base, entityCount) = entitySpan
        let needed = plan.groupColumns[group.name]!
        let table = try LoadedTable.load(store: store, table: group.source, columns: [plan.view.entity] + needed, dayRange: nil,
                                         entities: entityRange)
        // The row ingested last for each entity.
        var latest = [Int](repeating: -1, count: entityCount)
        for (row, entity) in table.columns[0].integerValues.enumerated() { latest[Int(entity &- base)] = row }
        let selected = requests.entities.map { (0..<entityCount).contains(Int($0 &- base)) ? latest[Int($0 &- base)] : -1 }
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

extension ColumnVector {
    /// The rows at `rows` in that order, NULL where a row is -1 (no row selected).
    func gathering(_ rows: [Int]) -> ColumnVector {
        var validity = Validity()
        for (index, row) in rows.enumerated() { validity.append(row >= 0 && !isNull(row)) ; _ = index }
        switch values {
        case .integers(let all): return ColumnVector(type: type, values: .integers(rows.map { $0 < 0 ? 0 : all[$0] }), validity: validity)
        case .floats(let all): return ColumnVector(type: type, values: .floats(rows.map { $0 < 0 ? 0 : all[$0] }), validity: validity)
        case .strings(let all):
            var strings = StringArray()
            for row in rows { strings.append(row < 0 ? [] : Array(all[row])) }
            return ColumnVector(type: type, values: .strings(strings), validity: validity)
        }
    }
}

extension Array where Element == Int64 {
    func gathered(_ order: [Int]) -> [Int64] { order.map { self[$0] } }
}
