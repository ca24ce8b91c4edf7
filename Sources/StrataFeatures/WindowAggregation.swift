import CStrataHints
import Foundation
import StrataFormat
import StrataQuery

/// What one aggregate needs in the hot loop, without strings.
struct AggregatePlan: Sendable {
    var function: AggregateFunction
    /// Index of the run input the aggregate reads; nil for COUNT(*) of all rows (no filter).
    var input: Int?
    var round: Int?
    var fill: Double?

    /// How the window loop folds the aggregate: COUNT, SUM and AVG from prefix sums (`WindowTotal`),
    /// MIN and MAX from each entity's extreme where a window covers a whole run and by a scan of the
    /// rows elsewhere, COUNT(DISTINCT) by a scan (`RangeAccumulator`).
    var byPrefix: Bool { function != .min && function != .max && function != .countDistinct }
}

/// A run (`EntityRuns`) as raw pointers; read-only, so sharing it between threads is sound.
struct RunView: @unchecked Sendable {
    let offsets: UnsafePointer<Int32>
    let entityLimit: Int
    /// Entity `base + e` is run `e`: requests subtract it before `rows(entity:)`.
    let base: Int
    let times: UnsafePointer<Int64>
    let inputs: UnsafePointer<AggregateInput>
    let prefixes: UnsafePointer<PrefixView>
    /// The run's earliest and latest time: a window from `firstTime` or before through `lastTime` or
    /// after holds every row of an entity's run.
    let firstTime: Int64
    let lastTime: Int64
    /// The run's prefix table (`RunPrefixes`: one record of `tableStride` words a row), nil without one.
    let table: UnsafePointer<Int64>?
    let tableStride: Int
    /// Each requested entity's totals over the source's earlier runs (`RunCarries`), nil without them,
    /// and per input the bound of its integer sums over those runs.
    let carries: UnsafePointer<Int64>?
    let carryBounds: UnsafePointer<Double>?

    /// Asks for what a request of `entity` will read (its times, and its last row's prefix record, which
    /// a window holding the entity's whole run reads alone) before the request gets there.
    @inline(__always) func prefetch(entity: Int) {
        guard UInt(bitPattern: entity) < UInt(entityLimit) else { return }
        let start = Int(offsets[entity]), limit = Int(offsets[entity + 1])
        guard start < limit else { return }
        // Every line of the entity's times (a window's start is a binary search over them), up to four.
        var line = times + start
        let last = times + min(limit, start + 32) - 1
        while line <= last {
            strata_prefetch(line)
            line += 8
        }
        strata_prefetch(last)
        if let table {
            let record = table + (limit - 1) * tableStride
            strata_prefetch(record)
            strata_prefetch(record + tableStride - 1)
        }
    }

    /// Asks for the prefix records about where a window from `day` starts in the entity's rows (a guess
    /// from where the day falls between the run's first and last time; the binary search finds the row).
    @inline(__always) func prefetch(entity: Int, from day: Int64) {
        guard let table, UInt(bitPattern: entity) < UInt(entityLimit) else { return }
        let start = Int(offsets[entity]), limit = Int(offsets[entity + 1])
        guard start < limit, lastTime > firstTime else { return }
        let guess = start + Int((day - firstTime) * Int64(limit - start) / (lastTime - firstTime + 1))
        let record = table + (min(max(start, guess - 1), limit - 1)) * tableStride
        strata_prefetch(record)
        strata_prefetch(record + tableStride)
        strata_prefetch(record + 2 * tableStride)
    }

    /// Rows of `entity`.
    @inline(__always) func rows(entity: Int) -> (Int, Int) {
        guard UInt(bitPattern: entity) < UInt(entityLimit) else { return (0, 0) }
        return (Int(offsets[entity]), Int(offsets[entity + 1]))
    }

    /// The first row of `low..<high` (one entity's, in time order) with time > `day`.
    @inline(__always) func firstRow(after day: Int64, _ low: Int, _ high: Int) -> Int {
        var low = low, high = high
        while low < high {
            let middle = (low + high) >> 1
            if times[middle] <= day { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// The first row of `low..<high` (one entity's, in time order) with time >= `day`.
    @inline(__always) func firstRow(from day: Int64, _ low: Int, _ high: Int) -> Int {
        var low = low, high = high
        while low < high {
            let middle = (low + high) >> 1
            if times[middle] < day { low = middle + 1 } else { high = middle }
        }
        return low
    }
}

/// The codes of a window input's strings, shared by every partition of the source: a string has one code
/// in every month, so COUNT(DISTINCT) over a window spanning months counts strings, not codes.
final class StringCodes {
    private var codes: [String: Int64] = [:]

    func code(_ bytes: ArraySlice<UInt8>) -> Int64 {
        let key = String(decoding: bytes, as: UTF8.self)
        if let code = codes[key] { return code }
        let code = Int64(codes.count)
        codes[key] = code
        return code
    }
}

/// A column gathered into entity-group order, owning the buffers an `AggregateInput` points into.
/// Strings become codes (`StringCodes`), so COUNT and COUNT_DISTINCT treat them like integers. With a filter mask,
/// rows the filter rejects count as NULL; without a column, the input is the mask alone (COUNT(*) FILTER).
final class GatheredColumn {
    private var integers: UnsafeMutableBufferPointer<Int64>?
    private var floats: UnsafeMutableBufferPointer<Double>?
    private var valid: UnsafeMutableBufferPointer<Bool>?

    /// `order`: the rows to take, in that order (`isIdentity`: every row as it is); `strings`: the source's
    /// codes, for a string column (a fresh set when nil).
    init(_ column: ColumnVector?, order: [Int], isIdentity: Bool = false, passes: [Bool]? = nil, strings: StringCodes? = nil) {
        let count = order.count
        if column?.validity != nil || passes != nil {
            let valid = UnsafeMutableBufferPointer<Bool>.allocate(capacity: max(1, count))
            for (index, row) in order.enumerated() { valid[index] = !(column?.isNull(row) ?? false) && (passes?[row] ?? true) }
            self.valid = valid
        } else {
            valid = nil
        }
        guard let column else {
            integers = nil
            floats = nil
            return
        }
        switch column.values {
        case .integers(let values):
            let integers = UnsafeMutableBufferPointer<Int64>.allocate(capacity: max(1, count))
            values.withUnsafeBufferPointer { values in
                if isIdentity {
                    _ = integers.initialize(from: values)
                } else {
                    for (index, row) in order.enumerated() { integers[index] = values[row] }
                }
            }
            self.integers = integers
            floats = nil
        case .floats(let values):
            let floats = UnsafeMutableBufferPointer<Double>.allocate(capacity: max(1, count))
            values.withUnsafeBufferPointer { values in
                if isIdentity {
                    _ = floats.initialize(from: values)
                } else {
                    for (index, row) in order.enumerated() { floats[index] = values[row] }
                }
            }
            self.floats = floats
            integers = nil
        case .strings(let values):
            // Codes within the partition first (byte slices, no copies), then each distinct string's code
            // of the source.
            var local: [ArraySlice<UInt8>: Int64] = [:]
            var shared: [Int64] = []
            let source = strings ?? StringCodes()
            let integers = UnsafeMutableBufferPointer<Int64>.allocate(capacity: max(1, count))
            for (index, row) in order.enumerated() {
                let key = values[row]
                if let code = local[key] {
                    integers[index] = shared[Int(code)]
                } else {
                    local[key] = Int64(shared.count)
                    shared.append(source.code(key))
                    integers[index] = shared.last!
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

    /// Frees the values and validity once prefixes stand in for them (`RunPrefixes.keepsValues`).
    func release() {
        integers?.deallocate()
        floats?.deallocate()
        valid?.deallocate()
        (integers, floats, valid) = (nil, nil, nil)
    }

    deinit { release() }
}
