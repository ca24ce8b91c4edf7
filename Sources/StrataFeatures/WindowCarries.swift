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

    /// The most words a record can take for these needs (the estimate before any run is read).
    static func maximumStride(_ needs: [InputNeeds]) -> Int {
        1 + needs.reduce(0) { $0 + ($1.isDisjoint(with: [.counts, .sums]) ? 0 : 1) + ($1.contains(.sums) ? 4 : 0) }
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
    init(layout: CarryLayout, index: CarryIndex) {
        self.layout = layout
        self.index = index
        let count = max(1, index.entities.count * layout.stride)
        records = .allocate(capacity: count)
        records.initialize(repeating: 0, count: count)
    }

    deinit { records.deallocate() }

    var byteCount: Int { index.entities.count * layout.stride * 8 }

    /// These totals plus each requested entity's whole rows of `run`: the carries of the run after it.
    func adding(_ run: PointInTimeEngine.EntityRuns) -> RunCarries {
        let next = RunCarries(layout: layout, index: index)
        let stride = layout.stride
        let inputs = run.inputs, prefixes = run.prefixes.views
        run.offsets.withUnsafeBufferPointer { offsets in
            for (number, entity) in index.entities.enumerated() {
                let source = records + number * stride, target = next.records + number * stride
                target.update(from: source, count: stride)
                guard entity + 1 < offsets.count else { continue }
                let start = Int(offsets[entity]), limit = Int(offsets[entity + 1])
                guard start < limit else { continue }
                target[0] &+= Int64(limit - start)
                for input in inputs.indices where layout.countWord[input] >= 0 {
                    var total = WindowTotal()
                    total.addSum(inputs[input], prefixes[input], start: start, start, limit)
                    target[layout.countWord[input]] &+= Int64(total.count)
                    let word = layout.sumWord[input]
                    guard word >= 0 else { continue }
                    if layout.isFloat[input] {
                        guard !total.nan && !total.positiveInfinity && !total.negativeInfinity && total.float.high.isFinite,
                              let values = inputs[input].floats else {
                            target[word + 2] &+= 1
                            continue
                        }
                        var sum = Self.pair(target + word)
                        sum.add(total.float)
                        target[word] = Int64(bitPattern: sum.high.bitPattern)
                        target[word + 1] = Int64(bitPattern: sum.low.bitPattern)
                        var magnitude = Double(bitPattern: UInt64(bitPattern: target[word + 3]))
                        for row in start..<limit where inputs[input].counts(row) { magnitude += values[row].magnitude }
                        target[word + 3] = Int64(bitPattern: magnitude.bitPattern)
                    } else {
                        let sum = Self.wide(target + word) + total.integer
                        target[word] = Int64(truncatingIfNeeded: sum)
                        target[word + 1] = Int64(truncatingIfNeeded: sum >> 64)
                    }
                }
            }
        }
        return next
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
