/// Bit-packed arrays (format-spec §4): value i occupies bits [i*w, i*w+w) of a little-endian stream of
/// u64 words. Hot loops, so they take buffer pointers and use non-trapping shifts whose ranges are proven.
public enum BitPacking {
    /// Bits needed to store every value in `0...range`.
    @inlinable public static func bitWidth(ofRange range: UInt64) -> Int {
        range == 0 ? 0 : 64 - range.leadingZeroBitCount
    }

    @inlinable public static func wordCount(count: Int, bitWidth: Int) -> Int {
        (count * bitWidth + 63) / 64
    }

    /// Appends `values[i] - base` (wrapping) packed at `bitWidth` bits each.
    public static func pack(_ values: UnsafeBufferPointer<Int64>, base: Int64, bitWidth: Int, into writer: inout ByteWriter) {
        precondition((0...64).contains(bitWidth))
        guard bitWidth > 0 else { return }
        var word: UInt64 = 0
        var usedBits = 0
        for value in values {
            let unsigned = UInt64(bitPattern: value &- base)
            word |= unsigned &<< UInt64(usedBits)
            usedBits += bitWidth
            if usedBits >= 64 {
                writer.append(word)
                usedBits -= 64
                // The high bits of `unsigned` that did not fit start the next word.
                word = usedBits > 0 ? unsigned &>> UInt64(bitWidth - usedBits) : 0
            }
        }
        if usedBits > 0 { writer.append(word) }
    }

    /// Decodes `output.count` values: `output[i] = base + unpacked(i)` (wrapping).
    /// `words` must hold `wordCount(count: output.count, bitWidth:)` words, which the caller checks.
    public static func unpack(
        _ words: UnsafeRawBufferPointer, bitWidth: Int, base: Int64, into output: UnsafeMutableBufferPointer<Int64>
    ) {
        precondition((0...64).contains(bitWidth))
        precondition(words.count >= wordCount(count: output.count, bitWidth: bitWidth) * 8)
        guard bitWidth > 0 else {
            output.update(repeating: base)
            return
        }
        let mask: UInt64 = bitWidth == 64 ? ~0 : (1 &<< UInt64(bitWidth)) &- 1
        var bitOffset = 0
        for index in 0..<output.count {
            let wordIndex = bitOffset &>> 6
            let shift = bitOffset & 63
            var value = words.loadUnaligned(fromByteOffset: wordIndex &* 8, as: UInt64.self).littleEndian &>> UInt64(shift)
            if shift + bitWidth > 64 {
                let next = words.loadUnaligned(fromByteOffset: (wordIndex &+ 1) &* 8, as: UInt64.self).littleEndian
                value |= next &<< UInt64(64 - shift)
            }
            output[index] = base &+ Int64(bitPattern: value & mask)
            bitOffset &+= bitWidth
        }
    }
}

extension Array where Element == Int64 {
    /// The smallest and largest value, nil when there is none: one vectorisable pass.
    public func minMax() -> (min: Int64, max: Int64)? {
        guard !isEmpty else { return nil }
        var low = Int64.max, high = Int64.min
        withUnsafeBufferPointer { values in
            for value in values {
                low = Swift.min(low, value)
                high = Swift.max(high, value)
            }
        }
        return (low, high)
    }

    /// Whether every value lies in `range` (true when there is none).
    public func allWithin(_ range: ClosedRange<Int64>) -> Bool {
        guard let (low, high) = minMax() else { return true }
        return range.contains(low) && range.contains(high)
    }
}

extension Array {
    /// An array of `count` elements written by `body` into uninitialised memory. For `count == 0` it is `[]`
    /// without calling the standard library's `init(unsafeUninitializedCapacity:)`, which writes the count
    /// of the storage all empty arrays share: threads decoding empty chunks at once race on it
    /// (ThreadSanitizer reports the writes, even of the same zero).
    @inlinable
    public init(uninitializedCount count: Int, _ body: (UnsafeMutableBufferPointer<Element>) throws -> Void) rethrows {
        guard count > 0 else {
            self = []
            return
        }
        self = try Array(unsafeUninitializedCapacity: count) { output, initialized in
            try body(output)
            initialized = count
        }
    }
}
