import CStrataHints
import StrataQuery

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

/// Where each input's totals sit in a carry record.
///
/// Word 0 is the entity's rows; each input that COUNT, SUM or AVG reads has a count word, and a summed
/// input its sum: an `Int128` (low, high) for integers; for doubles a double-double (high, low), a count of
/// *unclean* runs — runs whose total is not a finite double-double (NaN, ±∞, an overflowed running sum),
/// which a window must sum run by run instead — and Σ|v| (a double), which bounds every running sum the
/// carries went through and so their error.
struct CarryLayout: Sendable {
    let stride: Int
    let countWord: [Int]
    let sumWord: [Int]
    let isFloat: [Bool]

    /// From a run's prefix tables (`RunPrefixes`: an input has a sum there when it is summed, of the
    /// same kind in every run of the source).
    init(prefixes: [PrefixView], needs: [InputNeeds]) {
        var stride = 1
        var countWord = [Int](repeating: -1, count: prefixes.count)
        var sumWord = [Int](repeating: -1, count: prefixes.count)
        var isFloat = [Bool](repeating: false, count: prefixes.count)
        for (index, prefix) in prefixes.enumerated() where !needs[index].isDisjoint(with: [.counts, .sums]) {
            countWord[index] = stride
            stride += 1
            guard needs[index].contains(.sums), prefix.sumSlot >= 0 else { continue }
            sumWord[index] = stride
            isFloat[index] = prefix.sumKind == .double
            stride += isFloat[index] ? 4 : 2
        }
        self.stride = stride
        self.countWord = countWord
        self.sumWord = sumWord
        self.isFloat = isFloat
    }

    /// The words a record takes for these needs, before any run is read (`floats`: which inputs are
    /// DOUBLE columns).
    static func stride(needs: [InputNeeds], floats: [Bool]) -> Int {
        1 + zip(needs, floats).reduce(0) { words, input in
            words + (input.0.isDisjoint(with: [.counts, .sums]) ? 0 : 1) + (input.0.contains(.sums) ? (input.1 ? 4 : 2) : 0)
        }
    }
}

/// What every requested entity's rows in the runs of a window source before one run add up to, run after
/// run in month order: COUNT, SUM and AVG over the runs a window holds whole (the months strictly between
/// its first and its last) are then the difference of two records, whatever the window's length.
///
/// Integer sums and counts are exact (`Int128`), so their differences are too. Sums of doubles are
/// double-double, whose error after any number of runs stays below about 2^-100 of Σ|v| over them: a
/// difference is used only when no run between the records is unclean (NaN, ±∞) and it is at least 2^-40
/// of the later record's Σ|v| — so values that cancel, anywhere before, cannot reach its last bits;
/// otherwise the window adds those runs one by one from their tables (the order of the loop that reads
/// every month). The window adds its first run's part, then the months between, then its last run's
/// part, and rounds once.
final class RunCarries {
    let layout: CarryLayout
    let index: CarryIndex
    /// `index.entities.count` records of `layout.stride` words.
    let records: UnsafeMutablePointer<Int64>

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
    }

    deinit { records.deallocate() }

    var byteCount: Int { index.entities.count * layout.stride * 8 }

    /// These totals plus each requested entity's whole rows of `run`: the carries of the run after it.
    /// An entity's rows of a run are its last prefix record (`RunPrefixes`), read directly.
    func adding(_ run: PointInTimeEngine.EntityRuns) -> RunCarries {
        let next = RunCarries(layout: layout, index: index, zeroed: false)
        let stride = layout.stride
        let inputs = run.inputs, prefixes = run.prefixes.views
        let carried = inputs.indices.filter { layout.countWord[$0] >= 0 }
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
                    Self.add(inputs[input], prefixes[input], start: start, limit: limit, count: target + layout.countWord[input],
                             sum: layout.sumWord[input] >= 0 ? target + layout.sumWord[input] : nil, isFloat: layout.isFloat[input])
                }
            }
        }
        return next
    }

    /// Adds one input's rows `start..<limit` (one entity's, the whole of a run) to a carry record's words.
    @inline(__always) private static func add(_ input: AggregateInput, _ prefix: PrefixView, start: Int, limit: Int,
                                              count: UnsafeMutablePointer<Int64>, sum: UnsafeMutablePointer<Int64>?, isFloat: Bool) {
        guard let records = prefix.records else {
            // No table (never for a run the engine builds): the totals by scanning, as the loop would.
            var total = WindowTotal()
            total.addSum(input, prefix, start: start, start, limit)
            count[0] &+= Int64(total.count)
            guard let sum else { return }
            if isFloat {
                guard !total.nan && !total.positiveInfinity && !total.negativeInfinity && total.float.high.isFinite else { return sum[2] &+= 1 }
                addFloat(sum, total.float, input, start, limit)
            } else {
                let value = wide(sum) + total.integer
                sum[0] = Int64(truncatingIfNeeded: value)
                sum[1] = Int64(truncatingIfNeeded: value >> 64)
            }
            return
        }
        let last = records + (limit - 1) * prefix.stride
        count[0] &+= prefix.countSlot >= 0 ? last[prefix.countSlot] : Int64(limit - start)
        guard let sum, prefix.sumSlot >= 0 else { return }
        let slot = prefix.sumSlot
        switch prefix.sumKind {
        case .narrow:
            let value = wide(sum) + Int128(last[slot])
            sum[0] = Int64(truncatingIfNeeded: value)
            sum[1] = Int64(truncatingIfNeeded: value >> 64)
        case .wide:
            let value = wide(sum) + wide(last + slot)
            sum[0] = Int64(truncatingIfNeeded: value)
            sum[1] = Int64(truncatingIfNeeded: value >> 64)
        case .double:
            let total = pair(last + slot)
            let special = prefix.nonFinite.map { $0[limit] != $0[start] } ?? false
            guard !special && total.high.isFinite && total.low.isFinite else { return sum[2] &+= 1 }
            addFloat(sum, total, input, start, limit)
        }
    }

    /// Adds a finite double-double total, and Σ|v| of the rows, to a double's carry words.
    @inline(__always) private static func addFloat(_ sum: UnsafeMutablePointer<Int64>, _ total: DoubleDouble, _ input: AggregateInput,
                                                   _ start: Int, _ limit: Int) {
        guard let values = input.floats else { return sum[2] &+= 1 }
        var carried = pair(sum)
        carried.add(total)
        sum[0] = Int64(bitPattern: carried.high.bitPattern)
        sum[1] = Int64(bitPattern: carried.low.bitPattern)
        var magnitude = Double(bitPattern: UInt64(bitPattern: sum[3]))
        if let valid = input.valid {
            for row in start..<limit where valid[row] { magnitude += values[row].magnitude }
        } else {
            for row in start..<limit { magnitude += values[row].magnitude }
        }
        sum[3] = Int64(bitPattern: magnitude.bitPattern)
    }

    @inline(__always) static func pair(_ words: UnsafePointer<Int64>) -> DoubleDouble {
        DoubleDouble(high: Double(bitPattern: UInt64(bitPattern: words[0])), low: Double(bitPattern: UInt64(bitPattern: words[1])))
    }

    @inline(__always) static func pair(_ words: UnsafeMutablePointer<Int64>) -> DoubleDouble { pair(UnsafePointer(words)) }

    @inline(__always) static func wide(_ words: UnsafePointer<Int64>) -> Int128 {
        Int128(words[1]) << 64 | Int128(UInt64(bitPattern: words[0]))
    }

    @inline(__always) static func wide(_ words: UnsafeMutablePointer<Int64>) -> Int128 { wide(UnsafePointer(words)) }
}

extension WindowTotal {
    /// Adds input totals carried over whole runs: `later` minus `earlier` (`RunCarries` records). Returns
    /// false, changing nothing, when a double sum cannot be taken that way (a run between them is unclean,
    /// or the difference cancels): the caller then adds those runs one by one.
    @inline(__always) mutating func addCarried(_ later: UnsafePointer<Int64>, _ earlier: UnsafePointer<Int64>, countWord: Int, sumWord: Int,
                                               isFloat float: Bool) -> Bool {
        if sumWord >= 0 {
            if float {
                guard later[sumWord + 2] == earlier[sumWord + 2] else { return false }
                // No row counted between the records: nothing to add.
                if later[countWord] != earlier[countWord] {
                    let top = RunCarries.pair(later + sumWord), bottom = RunCarries.pair(earlier + sumWord)
                    let magnitude = Double(bitPattern: UInt64(bitPattern: later[sumWord + 3]))
                    var range = top
                    range.subtract(bottom)
                    guard magnitude.isFinite && range.high.magnitude >= 0x1p-40 * magnitude else { return false }
                    self.float.add(range)
                }
                isFloat = true
            } else {
                integer += RunCarries.wide(later + sumWord) - RunCarries.wide(earlier + sumWord)
            }
        }
        count &+= Int(later[countWord] &- earlier[countWord])
        return true
    }
}
