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
            dictionary = distinct(all, rows: rows, validity: validity, countMax: forced == nil ? count / 2 : count)
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
