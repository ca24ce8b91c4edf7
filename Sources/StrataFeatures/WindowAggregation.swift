import Foundation
import StrataFormat

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
