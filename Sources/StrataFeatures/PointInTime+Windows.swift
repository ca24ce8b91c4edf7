import Dispatch
import Foundation
import StrataFormat
import StrataStorage

extension PointInTimeEngine {
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
            var day = Dates.firstDayOfMonth(dayNumber: Int(firstDay))
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
}
