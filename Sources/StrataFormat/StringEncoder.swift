import Foundation

/// Encodings of strings: PLAIN (offsets + bytes) or DICT (a dictionary plus bit-packed codes).
enum StringEncoder {
    static func encode(
        _ all: StringArray, rows: Range<Int>, validity: Validity?, forcing forced: Encoding?, into writer: inout ByteWriter
    ) -> Encoding {
        let count = rows.count
        let byteCount = Int(all.offsets[rows.upperBound] - all.offsets[rows.lowerBound])
        let plainSize = 4 * (count + 1) + byteCount
        var encoding = forced ?? .plain
        var dictionary: [ArraySlice<UInt8>: Int]?
        if forced == nil || forced == .dictionary {
            let countMax = forced == nil ? count / 2 : count
            // Counted first with a cheap set: a column of distinct strings (an entity segment) gives up fast.
            if distinctCount(all, rows: rows, validity: validity, countMax: countMax) != nil {
                dictionary = distinct(all, rows: rows, validity: validity, countMax: countMax)
            }
            if forced == nil, let dictionary {
                let dictBytes = dictionary.keys.reduce(0) { $0 + $1.count }
                let codeWidth = BitPacking.bitWidth(ofRange: UInt64(max(1, dictionary.count) - 1))
                let dictSize = 8 + 4 * (dictionary.count + 1) + dictBytes + 7 + 8 + 8 * BitPacking.wordCount(count: count, bitWidth: codeWidth)
                if dictSize < plainSize { encoding = .dictionary }
            }
        }
        if encoding == .dictionary, let dictionary {
            writeDictionary(all, rows: rows, validity: validity, dictionary: dictionary, into: &writer)
        } else {
            writePlain(all, rows: rows, validity: validity, into: &writer)
            encoding = .plain
        }
        return encoding
    }

    /// How many distinct non-null values `rows` hold, or nil past `countMax`: an open-addressing set of row
    /// numbers under `ByteHash` (a Dictionary of slices hashes byte by byte; it took 15% of an ingest of
    /// `members`, writing the entity segment).
    static func distinctCount(_ all: StringArray, rows: Range<Int>, validity: Validity?, countMax: Int) -> Int? {
        var slotCount = 16
        while slotCount < 2 * min(rows.count, countMax + 1) { slotCount <<= 1 }
        var slots = [Int](repeating: -1, count: slotCount)
        let mask = slotCount - 1
        var count = 0
        let fits = all.bytes.withUnsafeBytes { bytes in
            all.offsets.withUnsafeBufferPointer { offsets in
                slots.withUnsafeMutableBufferPointer { slots in
                    for (position, row) in rows.enumerated() where validity?.isValid(position) ?? true {
                        let key = UnsafeRawBufferPointer(rebasing: bytes[Int(offsets[row])..<Int(offsets[row + 1])])
                        var slot = Int(truncatingIfNeeded: ByteHash.hash(key)) & mask
                        while true {
                            let stored = slots[slot]
                            if stored < 0 {
                                slots[slot] = row
                                count += 1
                                break
                            }
                            let other = UnsafeRawBufferPointer(rebasing: bytes[Int(offsets[stored])..<Int(offsets[stored + 1])])
                            if other.count == key.count && (key.isEmpty || memcmp(other.baseAddress!, key.baseAddress!, key.count) == 0) { break }
                            slot = (slot + 1) & mask
                        }
                        if count > countMax { return false }
                    }
                    return true
                }
            }
        }
        return fits ? count : nil
    }

    /// Distinct non-null values, or nil past `countMax`.
    static func distinct(_ all: StringArray, rows: Range<Int>, validity: Validity?, countMax: Int) -> [ArraySlice<UInt8>: Int]? {
        var seen: [ArraySlice<UInt8>: Int] = [:]
        for (position, row) in rows.enumerated() where validity?.isValid(position) ?? true {
            if seen[all[row]] == nil {
                seen[all[row]] = 0
                if seen.count > countMax { return nil }
            }
        }
        return seen
    }

    static func writePlain(_ all: StringArray, rows: Range<Int>, validity: Validity?, into writer: inout ByteWriter) {
        var offset: UInt32 = 0
        writer.append(offset)
        for (position, row) in rows.enumerated() {
            if validity?.isValid(position) ?? true { offset += UInt32(all[row].count) }
            writer.append(offset)
        }
        for (position, row) in rows.enumerated() where validity?.isValid(position) ?? true {
            all[row].withUnsafeBytes { writer.append(contentsOf: $0) }
        }
    }

    static func writeDictionary(
        _ all: StringArray, rows: Range<Int>, validity: Validity?, dictionary: [ArraySlice<UInt8>: Int], into writer: inout ByteWriter
    ) {
        let origin = writer.count
        // Sorted byte-wise so the same values always give the same bytes.
        let entries = dictionary.keys.sorted { $0.lexicographicallyPrecedes($1) }
        var codeOf: [ArraySlice<UInt8>: Int64] = [:]
        for (code, entry) in entries.enumerated() { codeOf[entry] = Int64(code) }
        writer.append(UInt32(entries.count))
        writer.appendZeros(4)
        var offset: UInt32 = 0
        writer.append(offset)
        for entry in entries {
            offset += UInt32(entry.count)
            writer.append(offset)
        }
        for entry in entries { entry.withUnsafeBytes { writer.append(contentsOf: $0) } }
        writer.pad(toMultipleOf: 8, from: origin)
        var codes = [Int64](repeating: 0, count: rows.count)
        for (position, row) in rows.enumerated() where validity?.isValid(position) ?? true {
            codes[position] = codeOf[all[row]]!
        }
        let width = entries.isEmpty ? 0 : BitPacking.bitWidth(ofRange: UInt64(entries.count - 1))
        IntegerEncoder.writeWidth(width, into: &writer)
        codes.withUnsafeBufferPointer { BitPacking.pack($0, base: 0, bitWidth: width, into: &writer) }
    }
}
