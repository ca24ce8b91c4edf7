import CStrataHints
import StrataQuery
import StrataStorage

/// The requested entities of a pass, numbered densely: per-entity carries (`RunCarries`) hold a record for
/// each of them only, so their size follows the requests, not the store's users.
final class CarryIndex {
    /// Span indexes (entity − base) of the requested entities, ascending.
    let entities: [Int]
    /// Per span index, the entity's number, or -1 when nobody asked for it.
    let numbers: UnsafeMutableBufferPointer<Int32>

    init(requested: [Int64], span: (base: Int64, count: Int)) {
        let numbers = UnsafeMutableBufferPointer<Int32>.allocate(capacity: max(1, span.count))
        numbers.initialize(repeating: -1)
        var entities: [Int] = []
        for entity in requested {
            let index = Int(entity &- span.base)
            guard index >= 0 && index < span.count, numbers[index] < 0 else { continue }
            numbers[index] = 0
            entities.append(index)
        }
        entities.sort()
        for (number, index) in entities.enumerated() { numbers[index] = Int32(number) }
        self.entities = entities
        self.numbers = numbers
    }

    deinit { numbers.deallocate() }
}

/// Where each input's totals sit in a carry record, as few words as the aggregates need.
///
/// Word 0 is the entity's rows. An input that may be NULL or filtered has a count word (otherwise its
/// count is the rows'). A summed integer has one word: its running sum modulo 2^64, whose differences are
/// exact wherever the true sum fits in 64 bits — which the runs' bounds (`RunCarries.bounds`, Σ of rows ×
/// the largest |v| of each run) prove before a difference is used. A summed double has three: a
/// double-double (high, low) and Σ|v|, which bounds every running sum the carries went through and so
/// their error; it is +∞ from the first run whose total is not finite (NaN, ±∞, an overflow), after which
/// the entity's windows add those months one by one.
struct CarryLayout: Sendable {
    let stride: Int
    let countWord: [Int]
    let sumWord: [Int]
    let isFloat: [Bool]

    /// `floats`: the inputs that are DOUBLE columns; `counted`: those that may be NULL or have a filter.
    init(needs: [InputNeeds], floats: [Bool], counted: [Bool]) {
        var stride = 1
        var countWord = [Int](repeating: -1, count: needs.count)
        var sumWord = [Int](repeating: -1, count: needs.count)
        for index in needs.indices where !needs[index].isDisjoint(with: [.counts, .sums]) {
            if counted[index] {
                countWord[index] = stride
                stride += 1
            }
            guard needs[index].contains(.sums) else { continue }
            sumWord[index] = stride
            stride += floats[index] ? 3 : 1
        }
        self.stride = stride
        self.countWord = countWord
        self.sumWord = sumWord
        isFloat = floats
    }

    /// The layout of a window group over `table`, or nil when carries would not pay: windows of under
    /// 120 days hold at most two months between their first and last (reading those is cheaper than a
    /// record per user and month), and where a record per requested user costs more than half of what a
    /// month of the source holds (few rows a user and month, as in transactions), the months are cheap
    /// to read anyway.
    static func worthwhile(_ group: WindowGroup, inputs: PointInTimeEngine.WindowInputs, table: TableManifest, users: Int) -> CarryLayout? {
        guard table.partitioning == .month, table.partitionColumn == group.time, (group.days.max() ?? 0) >= 120 else { return nil }
        let traits = inputs.traits(in: table)
        let layout = CarryLayout(needs: inputs.needs, floats: traits.floats, counted: traits.counted)
        let months = max(1, table.partitions.count)
        let rowBytes = 8 * (2 + inputs.loadColumns.count)
        guard users * layout.stride * 8 * 2 <= table.rowCount / months * rowBytes else { return nil }
        return layout
    }
}

/// What every requested entity's rows in the runs of a window source before one run add up to, run after
/// run in month order: COUNT, SUM and AVG over the runs a window holds whole (the months strictly between
/// its first and its last) are then the difference of two records, whatever the window's length.
///
/// Counts are exact, and so are integer sums where the bounds allow (else the window adds those months
/// one by one). Sums of doubles are double-double, whose error after any number of runs stays below about
/// 2^-100 of Σ|v| over them: a difference is used only when it is at least 2^-40 of the later record's
/// Σ|v| — so values that cancel, anywhere before, cannot reach its last bits; otherwise the window adds
/// those months one by one from their tables (the order of the loop that reads every month). The window
/// adds its first run's part, then the months between, then its last run's part, and rounds once.
final class RunCarries {
    let layout: CarryLayout
    let index: CarryIndex
    /// `index.entities.count` records of `layout.stride` words.
    let records: UnsafeMutablePointer<Int64>
    /// Per input: Σ over the earlier runs of rows × (the largest |v| + 1) of a summed integer, a bound on
    /// the magnitude of any sum over them.
    let bounds: UnsafeMutablePointer<Double>

    /// All zeros: the first run of a source.
    convenience init(layout: CarryLayout, index: CarryIndex) {
        self.init(layout: layout, index: index, zeroed: true)
    }

    private init(layout: CarryLayout, index: CarryIndex, zeroed: Bool) {
        self.layout = layout
        self.index = index
        let count = max(1, index.entities.count * layout.stride)
        records = .allocate(capacity: count)
        if zeroed { records.initialize(repeating: 0, count: count) }
        bounds = .allocate(capacity: max(1, layout.sumWord.count))
        bounds.initialize(repeating: 0, count: max(1, layout.sumWord.count))
    }

    deinit {
        records.deallocate()
        bounds.deallocate()
    }

    var byteCount: Int { index.entities.count * layout.stride * 8 }

    /// These totals plus each requested entity's whole rows of `run`: the carries of the run after it.
    /// An entity's rows of a run are its last prefix record (`RunPrefixes`), read directly.
    func adding(_ run: PointInTimeEngine.EntityRuns) -> RunCarries {
        let next = RunCarries(layout: layout, index: index, zeroed: false)
        for input in layout.sumWord.indices { next.bounds[input] = bounds[input] + run.prefixes.sumBounds[input] }
        let stride = layout.stride
        let inputs = run.inputs, prefixes = run.prefixes.views
        let carried = inputs.indices.filter { layout.countWord[$0] >= 0 || layout.sumWord[$0] >= 0 }
        next.records.update(from: records, count: index.entities.count * stride)
        let table = run.prefixes.views.first { $0.records != nil }
        let entities = index.entities
        run.offsets.withUnsafeBufferPointer { offsets in
            for (number, entity) in entities.enumerated() {
                // The last record of the entity sixteen ahead (a cache miss each, a run's table being large).
                if number + 16 < entities.count, let table, let records = table.records {
                    let ahead = entities[number + 16]
                    if ahead + 1 < offsets.count, offsets[ahead + 1] > offsets[ahead] {
                        strata_prefetch(records + (Int(offsets[ahead + 1]) - 1) * table.stride)
                    }
                }
                let target = next.records + number * stride
                guard entity + 1 < offsets.count else { continue }
                let start = Int(offsets[entity]), limit = Int(offsets[entity + 1])
                guard start < limit else { continue }
                target[0] &+= Int64(limit - start)
                for input in carried {
                    Self.add(inputs[input], prefixes[input], start: start, limit: limit,
                             count: layout.countWord[input] >= 0 ? target + layout.countWord[input] : nil,
                             sum: layout.sumWord[input] >= 0 ? target + layout.sumWord[input] : nil, isFloat: layout.isFloat[input])
                }
            }
        }
        return next
    }

    /// Adds one input's rows `start..<limit` (one entity's, the whole of a run) to a carry record's words.
    @inline(__always) private static func add(_ input: AggregateInput, _ prefix: PrefixView, start: Int, limit: Int,
                                              count: UnsafeMutablePointer<Int64>?, sum: UnsafeMutablePointer<Int64>?, isFloat: Bool) {
        guard let records = prefix.records else {
            // No table (never for a run the engine builds): the totals by scanning, as the loop would.
            var total = WindowTotal()
            total.addSum(input, prefix, start: start, start, limit)
            count?[0] &+= Int64(total.count)
            guard let sum else { return }
            if isFloat {
                guard !total.nan && !total.positiveInfinity && !total.negativeInfinity && total.float.high.isFinite else { return unclean(sum) }
                addFloat(sum, total.float, input, start, limit)
            } else {
                sum[0] &+= Int64(truncatingIfNeeded: total.integer)
            }
            return
        }
        let last = records + (limit - 1) * prefix.stride
        count?[0] &+= prefix.countSlot >= 0 ? last[prefix.countSlot] : Int64(limit - start)
        guard let sum, prefix.sumSlot >= 0 else { return }
        switch prefix.sumKind {
        case .narrow, .wide:
            // The low word of a 128-bit running sum is the sum modulo 2^64, as a narrow one's is.
            sum[0] &+= last[prefix.sumSlot]
        case .double:
            let total = pair(last + prefix.sumSlot)
            let special = prefix.nonFinite.map { $0[limit] != $0[start] } ?? false
            guard !special && total.high.isFinite && total.low.isFinite else { return unclean(sum) }
            addFloat(sum, total, input, start, limit)
        }
    }

    /// Adds a finite double-double total, and Σ|v| of the rows, to a double's carry words.
    @inline(__always) private static func addFloat(_ sum: UnsafeMutablePointer<Int64>, _ total: DoubleDouble, _ input: AggregateInput,
                                                   _ start: Int, _ limit: Int) {
        guard let values = input.floats else { return unclean(sum) }
        var carried = pair(sum)
        carried.add(total)
        sum[0] = Int64(bitPattern: carried.high.bitPattern)
        sum[1] = Int64(bitPattern: carried.low.bitPattern)
        var magnitude = Double(bitPattern: UInt64(bitPattern: sum[2]))
        if let valid = input.valid {
            for row in start..<limit where valid[row] { magnitude += values[row].magnitude }
        } else {
            for row in start..<limit { magnitude += values[row].magnitude }
        }
        sum[2] = Int64(bitPattern: magnitude.bitPattern)
    }

    /// From here on the entity's double sums over whole months are added month by month.
    @inline(__always) private static func unclean(_ sum: UnsafeMutablePointer<Int64>) {
        sum[2] = Int64(bitPattern: Double.infinity.bitPattern)
    }

    @inline(__always) static func pair(_ words: UnsafePointer<Int64>) -> DoubleDouble {
        DoubleDouble(high: Double(bitPattern: UInt64(bitPattern: words[0])), low: Double(bitPattern: UInt64(bitPattern: words[1])))
    }

    @inline(__always) static func pair(_ words: UnsafeMutablePointer<Int64>) -> DoubleDouble { pair(UnsafePointer(words)) }
}

extension WindowTotal {
    /// Adds input totals carried over whole runs: `later` minus `earlier` (`RunCarries` records). Returns
    /// false, changing nothing, when a sum cannot be taken that way — an integer sum whose runs' bound
    /// (`exactIntegers` false) does not prove it fits in 64 bits, a double sum over an unclean run or
    /// whose difference cancels: the caller then adds those runs one by one.
    @inline(__always) mutating func addCarried(_ later: UnsafePointer<Int64>, _ earlier: UnsafePointer<Int64>, countWord: Int, sumWord: Int,
                                               isFloat float: Bool, exactIntegers: Bool) -> Bool {
        let word = countWord >= 0 ? countWord : 0
        let rows = Int(later[word] &- earlier[word])
        if sumWord >= 0 && rows > 0 {
            if float {
                let magnitude = Double(bitPattern: UInt64(bitPattern: later[sumWord + 2]))
                var range = RunCarries.pair(later + sumWord)
                range.subtract(RunCarries.pair(earlier + sumWord))
                guard magnitude.isFinite && range.high.magnitude >= 0x1p-40 * magnitude else { return false }
                self.float.add(range)
                isFloat = true
            } else {
                guard exactIntegers else { return false }
                integer += Int128(later[sumWord] &- earlier[sumWord])
            }
        }
        count &+= rows
        return true
    }
}
