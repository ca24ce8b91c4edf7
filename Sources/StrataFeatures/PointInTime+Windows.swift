import CStrataHints
import Dispatch
import Foundation
import StrataFormat
import StrataQuery
import StrataStorage

extension PointInTimeEngine {
    // MARK: window aggregates

    /// What a window group's runs hold besides entity and time: the source columns to load, and one
    /// aggregate input per distinct (column, filter) pair.
    struct WindowInputs {
        var loadColumns: [String] = []
        var inputs: [(column: String?, filter: String?)] = []
        /// What each input's aggregates need of the run's prefixes (`RunPrefixes`).
        var needs: [InputNeeds] = []
        var filters: [String: ScalarProgram] = [:]

        /// Per input, from the source's schema: whether its count can differ from its rows' (a column that
        /// may be NULL, or a filter), and whether it is a DOUBLE column.
        func traits(in table: TableManifest) -> (counted: [Bool], floats: [Bool]) {
            let schemas = inputs.map { input in input.column.flatMap { name in table.columns.first { $0.name == name } } }
            return (zip(inputs, schemas).map { input, schema in input.filter != nil || schema?.nullable != false },
                    schemas.map { $0?.type == .float64 })
        }
    }

    func windowInputs(_ group: WindowGroup) -> WindowInputs {
        var result = WindowInputs()
        func load(_ name: String) { if !result.loadColumns.contains(name) { result.loadColumns.append(name) } }
        for aggregate in group.aggregates {
            if let column = aggregate.column { load(column) }
            if let sql = aggregate.filter, let program = plan.filters[.init(source: group.source, sql: sql)] {
                result.filters[sql] = program
                for input in program.slotColumns { load(program.columnName(input)) }
            }
            guard aggregate.column != nil || aggregate.filter != nil else { continue }
            if let index = result.inputs.firstIndex(where: { $0.column == aggregate.column && $0.filter == aggregate.filter }) {
                result.needs[index].formUnion(.of(aggregate.function))
            } else {
                result.inputs.append((aggregate.column, aggregate.filter))
                result.needs.append(.of(aggregate.function))
            }
        }
        return result
    }

    func computeWindows(_ group: WindowGroup, item: Int, requests: FeatureRequests, outputs: [OutputColumn]) throws {
        let maxDays = Int64(group.days.max()!)
        let inputs = windowInputs(group)
        let inputOfAggregate = group.aggregates.map { aggregate in
            inputs.inputs.firstIndex { $0.column == aggregate.column && $0.filter == aggregate.filter }
        }
        var source = WindowSource(engine: self, group: group, inputs: inputs, requests: requests,
                                  carryLayout: carryLayout(item: item, requests: requests))
        let overflow = OverflowFlag()
        // Requests in batches of one calendar month of cutoffs, each in entity order.
        let (order, batches) = Self.monthBatches(requests, span: entitySpan)
        for bounds in batches {
            let batchRequests = Array(order[bounds])
            let (firstCutoff, lastCutoff) = batchRequests.reduce((Int64.max, Int64.min)) { (min($0.0, requests.cutoffs[$1]), max($0.1, requests.cutoffs[$1])) }
            // Runs without rows hold nothing for a window (and no times to place them between months).
            let runs = try source.runs(from: firstCutoff - maxDays, through: lastVisibleDay(lastCutoff)).filter { $0.rowCount > 0 }
            // Plain views (raw pointers, no reference counting) for the hot loop; the owners stay alive around it.
            let runViews = runs.map(\.view)
            let slots = outputs.map(\.slot)
            let plans = group.aggregates.enumerated().map { index, aggregate in
                AggregatePlan(function: aggregate.function, input: inputOfAggregate[index], round: aggregate.round, fill: aggregate.fill)
            }
            let days = group.days.map(Int64.init)
            let inclusive = self.inclusive
            // Carries when every run of the batch has them (a chain that broke leaves some without).
            let carry: CarryPlan? = source.carryIndex.flatMap { index in
                guard let layout = runs.first?.carries?.layout, runs.allSatisfy({ $0.carries != nil }) else { return nil }
                return CarryPlan(layout: layout, numbers: UnsafePointer(index.numbers.baseAddress!), spanCount: index.numbers.count)
            }
            // The requests of a batch are independent: split them over the cores.
            let sliceCount = min(ProcessInfo.processInfo.activeProcessorCount, max(1, batchRequests.count / 4096))
            withExtendedLifetime((runs, outputs, source.carryIndex)) {
                DispatchQueue.concurrentPerform(iterations: sliceCount) { slice in
                    let bounds = (batchRequests.count * slice / sliceCount)..<(batchRequests.count * (slice + 1) / sliceCount)
                    if let output = Self.computeWindowSlice(
                        requests: batchRequests[bounds], entities: requests.entities, cutoffs: requests.cutoffs, inclusive: inclusive,
                        days: days, plans: plans, runs: runViews, carry: carry, slots: slots) {
                        overflow.set(output)
                    }
                }
            }
            if let output = overflow.value {
                throw FeaturePlanError(message: "feature \(outputs[output].schema.name): the sum is outside BIGINT (-2^63..2^63-1) for some users; sum a DOUBLE column instead")
            }
        }
    }

    /// Request indexes in batches of one calendar month of cutoffs (months ascending), each batch in
    /// entity order (ids outside `span` last): two stable counting sorts, by entity then by month, in
    /// time linear in the requests and the span. A batch walks each run forward in entity order.
    static func monthBatches(_ requests: FeatureRequests, span: (base: Int64, count: Int)) -> (order: [Int], batches: [Range<Int>]) {
        let count = requests.count
        guard count > 0 else { return ([], []) }
        // Months as consecutive numbers (year × 12 + month), memoised across equal cutoffs in a row.
        var months = [Int](repeating: 0, count: count)
        var lastCutoff = Int64.min, lastMonth = 0
        for (index, cutoff) in requests.cutoffs.enumerated() {
            if cutoff != lastCutoff {
                let key = Dates.monthKey(dayNumber: Int(cutoff))
                lastMonth = key / 100 * 12 + key % 100
                lastCutoff = cutoff
            }
            months[index] = lastMonth
        }
        let firstMonth = months.min()!, monthCount = months.max()! - firstMonth + 1
        let byEntity = entityOrder(requests.entities, span: span)
        var monthStarts = [Int](repeating: 0, count: monthCount + 1)
        for month in months { monthStarts[month - firstMonth + 1] += 1 }
        for index in 1..<monthStarts.count { monthStarts[index] += monthStarts[index - 1] }
        let batches = (0..<monthCount).compactMap { month in
            monthStarts[month] < monthStarts[month + 1] ? monthStarts[month]..<monthStarts[month + 1] : nil
        }
        var order = [Int](repeating: 0, count: count)
        for request in byEntity {
            let slot = months[request] - firstMonth
            order[monthStarts[slot]] = request
            monthStarts[slot] += 1
        }
        return (order, batches)
    }

    /// Request indexes in entity order, stably (ids outside `span` last): a counting sort on the dense ids.
    static func entityOrder(_ entities: [Int64], span: (base: Int64, count: Int)) -> [Int] {
        var order = [Int](repeating: 0, count: entities.count)
        var starts = [Int](repeating: 0, count: span.count + 2)
        @inline(__always) func bucket(_ entity: Int64) -> Int {
            let index = entity &- span.base
            return index >= 0 && index < Int64(span.count) ? Int(index) : span.count
        }
        for entity in entities { starts[bucket(entity) + 1] += 1 }
        for index in 1..<starts.count { starts[index] += starts[index - 1] }
        for (request, entity) in entities.enumerated() {
            let slot = bucket(entity)
            order[starts[slot]] = request
            starts[slot] += 1
        }
        return order
    }

    /// The first output whose SUM overflowed, from any slice.
    final class OverflowFlag: @unchecked Sendable {
        private let lock = NSLock()
        private var first: Int?
        func set(_ output: Int) { lock.withLock { first = min(first ?? output, output) } }
        var value: Int? { lock.withLock { first } }
    }

    /// What the window loop reads of the carries over runs (`RunCarries`): each run's records (`RunView.carries`)
    /// are laid out by `layout`, one per requested entity, numbered by `numbers` (per span index).
    struct CarryPlan: @unchecked Sendable {
        let layout: CarryLayout
        let numbers: UnsafePointer<Int32>
        let spanCount: Int
    }

    /// The hot loop of window features for some requests (in entity order): blocks of requests, and
    /// within a block run by run, so that each run's arrays are read forward by ascending entity
    /// instead of at random. A request's rows in a run are found by binary search once per run (their
    /// end) and once per window (their start), then folded for each window: COUNT, SUM and AVG from the
    /// run's prefixes (`WindowTotal`), MIN and MAX from the entity's extreme when the window holds all
    /// its rows of the run, the rest by scanning (`RangeAccumulator`).
    ///
    /// With `carry` (a monthly source), COUNT, SUM and AVG read only a window's first run and its last
    /// one: the runs between, which the window holds whole, are one difference of carry records added at
    /// the last run. So a 365-day window costs what a 30-day one does, and when every aggregate is carried
    /// a request skips the runs where no window begins or ends. Returns an output whose integer SUM left
    /// BIGINT, if any.
    static func computeWindowSlice(
        requests: ArraySlice<Int>, entities: [Int64], cutoffs: [Int64], inclusive: Bool, days: [Int64],
        plans: [AggregatePlan], runs: [RunView], carry: CarryPlan?, slots: [OutputSlot]
    ) -> Int? {
        let blockSize = 128
        let windowCount = days.count, planCount = plans.count
        let stride = windowCount * planCount
        let totals = UnsafeMutableBufferPointer<WindowTotal>.allocate(capacity: max(1, blockSize * stride))
        totals.initialize(repeating: WindowTotal())
        let accumulators = UnsafeMutableBufferPointer<RangeAccumulator>.allocate(capacity: max(1, blockSize * stride))
        for index in 0..<max(1, blockSize * stride) { (accumulators.baseAddress! + index).initialize(to: RangeAccumulator(plans[index % max(1, planCount)].function)) }
        defer {
            totals.baseAddress!.deinitialize(count: totals.count)
            totals.deallocate()
            accumulators.baseAddress!.deinitialize(count: accumulators.count)
            accumulators.deallocate()
        }
        let byPrefix = plans.map(\.byPrefix)
        let extreme = plans.map { $0.function == .min || $0.function == .max }
        let carried = plans.map { carry != nil && $0.byPrefix }
        // Every aggregate carried: a run where no window of a request begins or ends is not read for it.
        let onlyEdges = carry != nil && !carried.contains(false)
        let carryStride = carry?.layout.stride ?? 0
        let longest = days.max() ?? 0
        // What a cutoff's windows do in each run, worked out once per distinct cutoff of a block rather than
        // per request and run (a block's requests mostly share one): whether the run holds any of the
        // windows' days, is their last run, or is where one begins or ends; and, for the last run, the run
        // where each window begins. `cutoffPlan[position]` numbers the block's distinct cutoffs. Runs are
        // months in order, each holding only its month's days (`WindowSource.runs`), so one run at most is
        // both relevant and last for a cutoff.
        let runCount = runs.count
        let relevantRun: UInt8 = 1, lastRun: UInt8 = 2, edgeRun: UInt8 = 4
        let runFlags = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, blockSize * runCount))
        let windowFirstRun = UnsafeMutablePointer<Int>.allocate(capacity: max(1, blockSize * windowCount))
        let cutoffPlan = UnsafeMutablePointer<Int>.allocate(capacity: blockSize)
        let planCutoff = UnsafeMutablePointer<Int64>.allocate(capacity: blockSize)
        defer {
            runFlags.deallocate()
            windowFirstRun.deallocate()
            cutoffPlan.deallocate()
            planCutoff.deallocate()
        }
        func describe(_ cutoff: Int64, as number: Int) {
            let lastDay = inclusive ? cutoff : cutoff - 1
            for runIndex in 0..<runCount {
                let run = runs[runIndex]
                let before = runIndex > 0 ? runs[runIndex - 1].lastTime : Int64.min
                let after = runIndex + 1 < runCount ? runs[runIndex + 1].firstTime : Int64.max
                var flags: UInt8 = 0
                if run.firstTime <= lastDay && cutoff - longest <= run.lastTime { flags |= relevantRun }
                if after > lastDay {
                    flags |= lastRun | edgeRun
                    if flags & relevantRun != 0 {
                        for (window, length) in days.enumerated() {
                            var first = runIndex
                            while first > 0 && runs[first - 1].lastTime >= cutoff - length { first -= 1 }
                            windowFirstRun[number * windowCount + window] = first
                        }
                    }
                }
                for length in days where cutoff - length <= run.lastTime && before < cutoff - length { flags |= edgeRun }
                runFlags[number * runCount + runIndex] = flags
            }
        }
        var overflowed: Int?
        var blockStart = requests.startIndex
        while blockStart < requests.endIndex {
            let block = requests[blockStart..<min(blockStart + blockSize, requests.endIndex)]
            var described = 0
            for (position, request) in block.enumerated() {
                let cutoff = cutoffs[request]
                var number = position > 0 && planCutoff[cutoffPlan[position - 1]] == cutoff ? cutoffPlan[position - 1] : -1
                if number < 0 {
                    number = (0..<described).first { planCutoff[$0] == cutoff } ?? described
                    if number == described {
                        planCutoff[number] = cutoff
                        describe(cutoff, as: number)
                        described += 1
                    }
                }
                cutoffPlan[position] = number
            }
            for position in 0..<block.count {
                for window in 0..<windowCount {
                    let base = position * stride + window * planCount
                    for index in 0..<planCount {
                        if byPrefix[index] { totals[base + index].reset() } else { accumulators[base + index].reset() }
                    }
                }
            }
            for (runIndex, run) in runs.enumerated() {
                // The run before this one (months, in order): a window begins in this run when that one
                // ends before the window does.
                let before = runIndex > 0 ? runs[runIndex - 1].lastTime : Int64.min
                for (position, request) in block.enumerated() {
                    // A run's table is tens of megabytes and the block's users are far apart in it: the user
                    // sixteen requests ahead is fetched while this one is folded.
                    if position + 16 < block.count {
                        let ahead = block[block.startIndex + position + 16]
                        let aheadPlan = cutoffPlan[position + 16]
                        let aheadFlags = runFlags[aheadPlan * runCount + runIndex]
                        let aheadCutoff = cutoffs[ahead], aheadEntity = Int(entities[ahead]) &- run.base
                        if aheadFlags & relevantRun != 0 && (!onlyEdges || aheadFlags & edgeRun != 0) {
                            run.prefetch(entity: aheadEntity)
                            // Where the windows beginning in this run start: the record before, about where
                            // the day falls in the month (rows are about evenly spread over the days).
                            for length in days where aheadCutoff - length > run.firstTime && aheadCutoff - length <= run.lastTime {
                                run.prefetch(entity: aheadEntity, from: aheadCutoff - length)
                            }
                            // At the windows' last run, the carry records of their first runs and of this one.
                            if aheadFlags & lastRun != 0, let carry, let records = run.carries, UInt(bitPattern: aheadEntity) < UInt(carry.spanCount) {
                                let offset = Int(carry.numbers[aheadEntity]) * carryStride
                                if offset >= 0 {
                                    strata_prefetch(records + offset)
                                    for window in 0..<windowCount {
                                        let next = windowFirstRun[aheadPlan * windowCount + window]
                                        if next + 1 < runIndex, let earlier = runs[next + 1].carries { strata_prefetch(earlier + offset) }
                                    }
                                }
                            }
                        }
                    }
                    let timing = cutoffPlan[position]
                    let flags = runFlags[timing * runCount + runIndex]
                    guard flags & relevantRun != 0 else { continue }
                    let isLast = flags & lastRun != 0
                    if onlyEdges && !isLast && flags & edgeRun == 0 { continue }
                    let cutoff = cutoffs[request]
                    let lastDay = inclusive ? cutoff : cutoff - 1
                    let entity = Int(entities[request]) &- run.base
                    if isLast, let carry, UInt(bitPattern: entity) < UInt(carry.spanCount), carry.numbers[entity] >= 0, let records = run.carries {
                        // The runs each window holds whole before this one, from the carries.
                        let later = records + Int(carry.numbers[entity]) * carryStride
                        for window in 0..<windowCount {
                            let first = windowFirstRun[timing * windowCount + window]
                            guard first + 1 < runIndex, let earlierRecords = runs[first + 1].carries else { continue }
                            let earlier = earlierRecords + Int(carry.numbers[entity]) * carryStride
                            let base = position * stride + window * planCount
                            for index in 0..<planCount where carried[index] {
                                guard let input = plans[index].input else {
                                    totals[base + index].count &+= Int(later[0] &- earlier[0])
                                    continue
                                }
                                let layout = carry.layout
                                let exact = layout.isFloat[input] || layout.sumWord[input] < 0
                                    || run.carryBounds![input] - runs[first + 1].carryBounds![input] < 0x1p62
                                if !totals[base + index].addCarried(later, earlier, countWord: layout.countWord[input], sumWord: layout.sumWord[input],
                                                                    isFloat: layout.isFloat[input], exactIntegers: exact) {
                                    for middle in (first + 1)..<runIndex {
                                        let (start, limit) = runs[middle].rows(entity: Int(entities[request]) &- runs[middle].base)
                                        guard start < limit else { continue }
                                        totals[base + index].addSum(runs[middle].inputs[input], runs[middle].prefixes[input], start: start, start, limit)
                                    }
                                }
                            }
                        }
                    }
                    let (start, limit) = run.rows(entity: entity)
                    guard start < limit else { continue }
                    let end = run.lastTime <= lastDay ? limit : run.firstRow(after: lastDay, start, limit)
                    guard start < end else { continue }
                    for (window, length) in days.enumerated() {
                        let firstDay = cutoff - length
                        guard firstDay <= run.lastTime else { continue }
                        // A run the window holds between its first and its last: its carried aggregates
                        // came with the last run.
                        let inside = carry != nil && !isLast && before >= firstDay
                        let begin = firstDay <= run.firstTime ? start : run.firstRow(from: firstDay, start, end)
                        guard begin < end else { continue }
                        let whole = begin == start && end == limit
                        let base = position * stride + window * planCount
                        for index in 0..<planCount {
                            if inside && carried[index] { continue }
                            guard let input = plans[index].input else {
                                totals[base + index].count &+= end - begin
                                continue
                            }
                            let prefix = run.prefixes[input]
                            if byPrefix[index] {
                                totals[base + index].addSum(run.inputs[input], prefix, start: start, begin, end)
                            } else if whole, extreme[index], let extremes = plans[index].function == .min ? prefix.integerMin : prefix.integerMax {
                                accumulators[base + index].foldExtreme(extremes[entity], rows: prefix.count(run.inputs[input], start: start, begin, end))
                            } else if whole, extreme[index], let extremes = plans[index].function == .min ? prefix.floatMin : prefix.floatMax {
                                accumulators[base + index].foldExtreme(extremes[entity], rows: prefix.count(run.inputs[input], start: start, begin, end))
                            } else {
                                accumulators[base + index].add(run.inputs[input], begin, end)
                            }
                        }
                    }
                }
            }
            for (position, request) in block.enumerated() {
                for index in 0..<stride {
                    let slot = position * stride + index
                    let plan = plans[index % planCount]
                    var value: Scalar
                    if byPrefix[index % planCount] {
                        value = totals[slot].result(plan.function)
                        if totals[slot].overflowed, overflowed == nil { overflowed = index }
                    } else {
                        value = accumulators[slot].result()
                        if accumulators[slot].overflowed, overflowed == nil { overflowed = index }
                    }
                    if let places = plan.round, case .double(let float) = value {
                        value = .double(RangeAccumulator.round(float, places: places))
                    }
                    slots[index].set(request, value, fill: plan.fill)
                }
            }
            blockStart = block.endIndex
        }
        return overflowed
    }

    /// Rows of one partition of a window source grouped by entity and sorted by time: a point-in-time
    /// window over a user is a range of each run, found by binary search.
    final class EntityRuns {
        let offsets: [Int32]
        let times: UnsafeMutableBufferPointer<Int64>
        var rowCount: Int { Int(offsets.last ?? 0) }
        let columns: [GatheredColumn]
        let inputs: [AggregateInput]
        let prefixes: RunPrefixes
        let firstTime: Int64
        let lastTime: Int64

        /// Entity `base + e` is run `e`.
        let base: Int64
        /// The requested entities' totals over the runs of the source built before this one.
        var carries: RunCarries?

        /// `table` holds entity, time, then `layout.loadColumns`; `strings` has one `StringCodes` per input.
        /// Its entities lie in `span`.
        init(table: LoadedTable, span: (base: Int64, count: Int), layout: WindowInputs, strings: [StringCodes]) throws {
            base = span.base
            let grouped = EntityGroups(entities: table.columns[0].integerValues, entityCount: span.count, keys: [table.columns[1].integerValues],
                                       base: span.base)
            offsets = grouped.offsets.map { Int32($0) }
            let rawTimes = table.columns[1].integerValues
            let times = UnsafeMutableBufferPointer<Int64>.allocate(capacity: max(1, grouped.order.count))
            rawTimes.withUnsafeBufferPointer { rawTimes in
                if grouped.isIdentity {
                    _ = times.initialize(from: rawTimes)
                } else {
                    for (index, row) in grouped.order.enumerated() { times[index] = rawTimes[row] }
                }
            }
            self.times = times
            // Each filter's verdict per row of the table, evaluated once by the kernel.
            var passes: [String: [Bool]] = [:]
            for (sql, program) in layout.filters {
                let rows: [Int32]?
                do {
                    rows = try program.selection(rowCount: table.rowCount) { input in
                        let name = program.columnName(input)
                        return table.columns[2 + layout.loadColumns.firstIndex(of: name)!]
                    }
                } catch let error as QueryError {
                    throw FeaturePlanError(message: "window filter '\(sql)': \(error.message)")
                }
                guard let rows else { continue }
                var mask = [Bool](repeating: false, count: table.rowCount)
                for row in rows { mask[Int(row)] = true }
                passes[sql] = mask
            }
            let columns = layout.inputs.enumerated().map { index, input in
                GatheredColumn(input.column.map { table.columns[2 + layout.loadColumns.firstIndex(of: $0)!] }, order: grouped.order,
                               isIdentity: grouped.isIdentity, passes: input.filter.flatMap { passes[$0] }, strings: strings[index])
            }
            self.columns = columns
            let offsets = self.offsets
            prefixes = RunPrefixes(inputs: columns.map(\.input), offsets: offsets, needs: layout.needs)
            for (column, keeps) in zip(columns, prefixes.keepsValues) where !keeps { column.release() }
            inputs = columns.map(\.input)
            let sortedTimes = UnsafeBufferPointer(times)
            firstTime = sortedTimes.min() ?? 0
            lastTime = sortedTimes.max() ?? 0
        }

        deinit {
            times.deallocate()
            inputBuffer.deallocate()
            prefixBuffer.deallocate()
        }

        private lazy var inputBuffer: UnsafeMutableBufferPointer<AggregateInput> = {
            let buffer = UnsafeMutableBufferPointer<AggregateInput>.allocate(capacity: max(1, inputs.count))
            for (index, input) in inputs.enumerated() { buffer[index] = input }
            return buffer
        }()

        private lazy var prefixBuffer: UnsafeMutableBufferPointer<PrefixView> = {
            let buffer = UnsafeMutableBufferPointer<PrefixView>.allocate(capacity: max(1, prefixes.views.count))
            for (index, view) in prefixes.views.enumerated() { buffer[index] = view }
            return buffer
        }()

        /// The prefix table every input's view points into (the first that has one).
        private var tableView: PrefixView? { prefixes.views.first { $0.records != nil } }

        /// A plain view for the hot loop; valid while this object lives.
        var view: RunView {
            offsets.withUnsafeBufferPointer { offsets in
                RunView(offsets: offsets.baseAddress!, entityLimit: offsets.count - 1, base: Int(base), times: UnsafePointer(times.baseAddress!),
                        inputs: UnsafePointer(inputBuffer.baseAddress!), prefixes: UnsafePointer(prefixBuffer.baseAddress!),
                        firstTime: firstTime, lastTime: lastTime, table: tableView?.records, tableStride: tableView?.stride ?? 0,
                        carries: carries.map { UnsafePointer($0.records) }, carryBounds: carries.map { UnsafePointer($0.bounds) })
            }
        }
    }

    /// The runs of a window source by day range, one per partition, built once and kept while later
    /// cutoffs (processed in ascending order) still need them: memory holds one batch's partitions.
    struct WindowSource {
        let engine: PointInTimeEngine
        let group: WindowGroup
        let inputs: WindowInputs
        let columns: [String]
        let byPartition: Bool
        let span: (base: Int64, count: Int)
        /// One per input: a string's code is the same in every partition.
        let strings: [StringCodes]
        var cache: [Int: EntityRuns] = [:]
        /// The requested entities and their records' layout, for carries over runs (nil where they do not
        /// pay: `CarryLayout.worthwhile`).
        let carryIndex: CarryIndex?
        let carryLayout: CarryLayout?
        /// The carries of the next run to be built: those of the last one plus its totals.
        var nextCarries: RunCarries?
        /// The month of the last run chained; a run of an earlier month (never, as cutoffs ascend) ends
        /// the chain: later runs get no carries and windows read every run.
        var chainedMonth = Int.min

        init(engine: PointInTimeEngine, group: WindowGroup, inputs: WindowInputs, requests: FeatureRequests, carryLayout: CarryLayout?) {
            self.engine = engine
            self.group = group
            self.inputs = inputs
            columns = [engine.plan.view.entity, group.time] + inputs.loadColumns
            let table = engine.store.manifest.tables[group.source]
            byPartition = table?.partitioning == .month && table?.partitionColumn == group.time
            span = engine.entitySpan
            strings = inputs.inputs.map { _ in StringCodes() }
            self.carryLayout = byPartition ? carryLayout : nil
            carryIndex = self.carryLayout == nil ? nil : CarryIndex(requested: requests.entities, span: span)
        }

        /// A new run of a monthly source: its carries, and those of the run after it. Runs are built in
        /// month order (cutoffs ascend), so a carry record is the sum over every earlier run built.
        mutating func chain(_ run: EntityRuns, month: Int) {
            // The layout gave counts only to inputs that may be NULL or filtered (the schema says so, and
            // segments are checked against it); a run whose values say otherwise ends the chain rather
            // than count its NULLs as rows.
            guard let carryIndex, let carryLayout, month > chainedMonth,
                  !run.prefixes.views.indices.contains(where: { run.prefixes.views[$0].countSlot >= 0 && carryLayout.countWord[$0] < 0 }) else {
                nextCarries = nil
                chainedMonth = Int.max
                return
            }
            chainedMonth = month
            let carries = nextCarries ?? RunCarries(layout: carryLayout, index: carryIndex)
            run.carries = carries
            nextCarries = carries.adding(run)
        }

        mutating func runs(from firstDay: Int64, through lastDay: Int64) throws -> [EntityRuns] {
            guard firstDay <= lastDay else { return [] }
            guard byPartition else {
                if cache[0] == nil {
                    let table = try LoadedTable.load(store: engine.store, table: group.source, columns: columns, dayRange: nil,
                                                     entities: engine.entityRange)
                    cache[0] = try EntityRuns(table: table, span: span, layout: inputs, strings: strings)
                }
                engine.stats.record(source: group.source, heldRows: cache[0]!.rowCount, tableRows: cache[0]!.rowCount)
                return [cache[0]!]
            }
            let firstMonth = Dates.monthKey(dayNumber: Int(firstDay))
            let lastMonth = Dates.monthKey(dayNumber: Int(lastDay))
            cache = cache.filter { $0.key >= firstMonth }
            let partitions = Set(try engine.store.table(group.source).partitions)
            var runs: [EntityRuns] = []
            var day = Dates.firstDayOfMonth(dayNumber: Int(firstDay))
            while Dates.monthKey(dayNumber: day) <= lastMonth {
                let key = Dates.monthKey(dayNumber: day)
                let month = Dates.month(containing: day)
                if partitions.contains(key) {
                    if cache[key] == nil {
                        let table = try LoadedTable.load(store: engine.store, table: group.source, columns: columns,
                                                         dayRange: Int64(month.lowerBound)...Int64(month.upperBound),
                                                         entities: engine.entityRange)
                        let run = try EntityRuns(table: table, span: span, layout: inputs, strings: strings)
                        chain(run, month: key)
                        cache[key] = run
                    }
                    runs.append(cache[key]!)
                }
                day = month.upperBound + 1
            }
            engine.stats.record(source: group.source, heldRows: cache.values.reduce(0) { $0 + $1.rowCount },
                                tableRows: (try? engine.store.table(group.source).rowCount) ?? 0)
            return runs
        }
    }
}
