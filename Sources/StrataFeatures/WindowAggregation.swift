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

/// A column gathered into entity-group order, owning the buffers an `AggregateInput` points into.
/// Strings become dense codes, so COUNT and COUNT_DISTINCT treat them like integers. With a filter mask,
/// rows the filter rejects count as NULL; without a column, the input is the mask alone (COUNT(*) FILTER).
final class GatheredColumn {
    private let integers: UnsafeMutableBufferPointer<Int64>?
    private let floats: UnsafeMutableBufferPointer<Double>?
    private let valid: UnsafeMutableBufferPointer<Bool>?

    init(_ column: ColumnVector?, order: [Int], passes: [Bool]? = nil) {
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
