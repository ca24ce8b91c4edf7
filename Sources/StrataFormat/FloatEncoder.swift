/// Encodings of float64: PLAIN, or DECIMAL when every value is an exact decimal k / 10^e.
enum FloatEncoder {
    static let powersOfTen: [Double] = (0...FormatLimits.decimalExponentMax).map { exponent in
        var power = 1.0
        for _ in 0..<exponent { power *= 10 }
        return power
    }

    /// Largest magnitude of k for which Double(k) is exact, so decoding by one division is exact too.
    static let exactIntegerMax = Double(1 << 53)

    /// The smallest exponent e ≤ `exponentMax` for which every value round-trips as k / 10^e, with its ks.
    static func decimalForm(_ values: UnsafeBufferPointer<Double>, exponentMax: Int = 9) -> (exponent: Int, integers: [Int64])? {
        guard !values.isEmpty else { return nil }
        var integers = [Int64](repeating: 0, count: values.count)
        exponents: for exponent in 0...exponentMax {
            let power = powersOfTen[exponent]
            for (index, value) in values.enumerated() {
                // An integer has no sign of zero: -0.0 would decode as +0.0.
                if value == 0 && value.sign == .minus { return nil }
                let scaled = (value * power).rounded()
                guard abs(scaled) < exactIntegerMax else { return nil }
                // Bit equality also rejects NaN and infinities.
                guard (scaled / power).bitPattern == value.bitPattern else { continue exponents }
                integers[index] = Int64(scaled)
            }
            return (exponent, integers)
        }
        return nil
    }

    static func encode(_ values: [Double], forcing forced: Encoding?, into writer: inout ByteWriter) -> Encoding {
        values.withUnsafeBufferPointer { values in
            if forced == nil || forced == .decimal, let (exponent, integers) = decimalForm(values, exponentMax: forced == nil ? 9 : FormatLimits.decimalExponentMax) {
                let low = integers.min()!
                let high = integers.max()!
                let packedSize = 32 + 8 * BitPacking.wordCount(count: integers.count, bitWidth: BitPacking.bitWidth(ofRange: IntegerEncoder.range(low, high)))
                if forced == .decimal || packedSize < values.count * 8 {
                    writer.append(UInt8(exponent))
                    writer.appendZeros(7)
                    integers.withUnsafeBufferPointer { IntegerEncoder.writeBitpack($0, min: low, max: high, into: &writer) }
                    return .decimal
                }
            }
            // Forcing DECIMAL on values that are not decimals falls back to PLAIN: the format forbids lossy decimals.
            writer.reserveCapacity(writer.count + values.count * 8)
            for value in values { writer.append(value) }
            return .plain
        }
    }
}
