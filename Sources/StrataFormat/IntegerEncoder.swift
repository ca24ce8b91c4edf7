/// Encodings of the integer view (int64, date, bool, entity): PLAIN, BITPACK, DELTA, RLE, DICT.
enum IntegerEncoder {
    /// Distinct values above which a dictionary is not tried: a code would need ≥ 9 bits.
    static let dictionaryCountMax = 256

    struct Stats {
        var min: Int64 = .max
        var max: Int64 = .min
        var runCount = 0
        var deltaMin: Int64 = .max
        var deltaMax: Int64 = .min
    }

    static func stats(_ values: UnsafeBufferPointer<Int64>) -> Stats {
        var stats = Stats()
        guard let first = values.first else { return stats }
        stats.min = first
        stats.max = first
        stats.runCount = 1
        var previous = first
        for value in values.dropFirst() {
            stats.min = Swift.min(stats.min, value)
            stats.max = Swift.max(stats.max, value)
            if value != previous { stats.runCount &+= 1 }
            let delta = value &- previous
            stats.deltaMin = Swift.min(stats.deltaMin, delta)
            stats.deltaMax = Swift.max(stats.deltaMax, delta)
            previous = value
        }
        return stats
    }

    /// Sorted distinct values, or nil when there are more than `dictionaryCountMax`.
    static func distinctValues(_ values: UnsafeBufferPointer<Int64>) -> [Int64]? {
        var seen = SmallIntegerSet()
        for value in values {
            if seen.insert(value), seen.count > dictionaryCountMax { return nil }
        }
        return seen.values.sorted()
    }

    static func range(_ low: Int64, _ high: Int64) -> UInt64 { UInt64(bitPattern: high &- low) }

    static func encode(_ values: [Int64], type: LogicalType, forcing forced: Encoding?, into writer: inout ByteWriter) -> Encoding {
        values.withUnsafeBufferPointer { values in
            let count = values.count
            let stats = stats(values)
            let plainWidth = type.plainWidthBytes!
            var best = (encoding: Encoding.plain, size: count * plainWidth)
            func consider(_ encoding: Encoding, _ size: Int) {
                if size < best.size { best = (encoding, size) }
            }
            var dictionary: [Int64]?
            if forced == nil, count > 0 {
                let packWidth = BitPacking.bitWidth(ofRange: range(stats.min, stats.max))
                consider(.bitpack, 16 + 8 * BitPacking.wordCount(count: count, bitWidth: packWidth))
                consider(.rle, 8 + 12 * stats.runCount)
                if type != .bool {
                    let deltaWidth = count > 1 ? BitPacking.bitWidth(ofRange: range(stats.deltaMin, stats.deltaMax)) : 0
                    consider(.delta, 24 + 8 * BitPacking.wordCount(count: count - 1, bitWidth: deltaWidth))
                    // A dictionary only beats bit-packing when the range is wide but the values are few.
                    if packWidth > 8, let distinct = distinctValues(values) {
                        dictionary = distinct
                        let codeWidth = BitPacking.bitWidth(ofRange: UInt64(distinct.count - 1))
                        consider(.dictionary, 16 + 8 * distinct.count + 8 * BitPacking.wordCount(count: count, bitWidth: codeWidth))
                    }
                }
            }
            var encoding = forced ?? best.encoding
            if encoding == .delta && count == 0 { encoding = .plain }
            switch encoding {
            case .plain: writePlain(values, width: plainWidth, into: &writer)
            case .bitpack: writeBitpack(values, min: stats.min, max: stats.max, into: &writer)
            case .delta: writeDelta(values, stats: stats, into: &writer)
            case .rle: writeRLE(values, runCount: stats.runCount, into: &writer)
            case .dictionary: writeDictionary(values, dictionary: dictionary ?? Array(Set(values)).sorted(), into: &writer)
            case .decimal: preconditionFailure("decimal applies to floats only")
            }
            return encoding
        }
    }

    static func writePlain(_ values: UnsafeBufferPointer<Int64>, width: Int, into writer: inout ByteWriter) {
        writer.reserveCapacity(writer.count + values.count * width)
        switch width {
        case 8: for value in values { writer.append(value) }
        case 4: for value in values { writer.append(UInt32(truncatingIfNeeded: value)) }
        case 1: for value in values { writer.append(UInt8(truncatingIfNeeded: value)) }
        default: preconditionFailure("no plain width \(width)")
        }
    }

    /// `u8 w` followed by 7 zero bytes: the width header shared by BITPACK, DELTA, DICT and DECIMAL.
    static func writeWidth(_ bitWidth: Int, into writer: inout ByteWriter) {
        writer.append(UInt8(bitWidth))
        writer.appendZeros(7)
    }

    static func writeBitpack(_ values: UnsafeBufferPointer<Int64>, min: Int64, max: Int64, into writer: inout ByteWriter) {
        let base = values.isEmpty ? 0 : min
        let width = values.isEmpty ? 0 : BitPacking.bitWidth(ofRange: range(min, max))
        writer.append(base)
        writeWidth(width, into: &writer)
        BitPacking.pack(values, base: base, bitWidth: width, into: &writer)
    }

    static func writeDelta(_ values: UnsafeBufferPointer<Int64>, stats: Stats, into writer: inout ByteWriter) {
        let count = values.count
        let minDelta = count > 1 ? stats.deltaMin : 0
        let width = count > 1 ? BitPacking.bitWidth(ofRange: range(stats.deltaMin, stats.deltaMax)) : 0
        writer.append(values[0])
        writer.append(minDelta)
        writeWidth(width, into: &writer)
        var deltas = [Int64](repeating: 0, count: Swift.max(0, count - 1))
        for index in 1..<Swift.max(1, count) { deltas[index - 1] = values[index] &- values[index - 1] }
        deltas.withUnsafeBufferPointer { BitPacking.pack($0, base: minDelta, bitWidth: width, into: &writer) }
    }

    static func writeRLE(_ values: UnsafeBufferPointer<Int64>, runCount: Int, into writer: inout ByteWriter) {
        writer.append(UInt32(runCount))
        writer.appendZeros(4)
        var lengths: [UInt32] = []
        lengths.reserveCapacity(runCount)
        var index = 0
        while index < values.count {
            let value = values[index]
            var end = index + 1
            while end < values.count && values[end] == value { end += 1 }
            writer.append(value)
            lengths.append(UInt32(end - index))
            index = end
        }
        precondition(lengths.count == runCount)
        for length in lengths { writer.append(length) }
    }

    static func writeDictionary(_ values: UnsafeBufferPointer<Int64>, dictionary: [Int64], into writer: inout ByteWriter) {
        writer.append(UInt32(dictionary.count))
        writer.appendZeros(4)
        for value in dictionary { writer.append(value) }
        var codeOf = SmallIntegerSet()
        for value in dictionary { codeOf.insert(value) }
        let codes = values.map { Int64(codeOf.position(of: $0)!) }
        let width = dictionary.isEmpty ? 0 : BitPacking.bitWidth(ofRange: UInt64(dictionary.count - 1))
        writeWidth(width, into: &writer)
        codes.withUnsafeBufferPointer { BitPacking.pack($0, base: 0, bitWidth: width, into: &writer) }
    }
}

/// The few distinct values of a chunk (at most `dictionaryCountMax` + 1), in order of insertion, in an
/// open-addressing table under a multiplicative hash: `Set<Int64>` hashes with SipHash, which took 7% of an
/// ingest of `transactions`.
struct SmallIntegerSet {
    private(set) var values: [Int64] = []
    /// Index into `values` plus one; 0 is empty. Kept under half full.
    private var slots = [Int32](repeating: 0, count: 64)
    private var shift = 58

    var count: Int { values.count }

    @inline(__always) private func home(_ value: Int64) -> Int {
        Int(truncatingIfNeeded: (UInt64(bitPattern: value) &* 0x9E37_79B9_7F4A_7C15) >> UInt64(shift))
    }

    /// Adds `value`; true when it was not there.
    @inline(__always) @discardableResult mutating func insert(_ value: Int64) -> Bool {
        var slot = home(value)
        let mask = slots.count - 1
        while slots[slot] != 0 {
            if values[Int(slots[slot]) - 1] == value { return false }
            slot = (slot + 1) & mask
        }
        values.append(value)
        slots[slot] = Int32(values.count)
        if values.count * 2 > slots.count { grow() }
        return true
    }

    /// The insertion position of `value`, or nil.
    @inline(__always) func position(of value: Int64) -> Int? {
        var slot = home(value)
        let mask = slots.count - 1
        while slots[slot] != 0 {
            if values[Int(slots[slot]) - 1] == value { return Int(slots[slot]) - 1 }
            slot = (slot + 1) & mask
        }
        return nil
    }

    private mutating func grow() {
        slots = [Int32](repeating: 0, count: slots.count * 2)
        shift -= 1
        let mask = slots.count - 1
        for (index, value) in values.enumerated() {
            var slot = home(value)
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(index + 1)
        }
    }
}
