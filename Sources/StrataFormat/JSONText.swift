import Foundation

/// JSON text written byte by byte, for results printed or served row by row where an encoder per value
/// would cost more than the value: strings escaped as RFC 8259 requires (UTF-8 passes through), numbers
/// in their shortest round-trip form, and NaN or infinities — which JSON cannot hold — as null.
public enum JSONText {
    /// Appends `text` as a JSON string literal.
    public static func appendString(_ text: String, to output: inout [UInt8]) { appendString(utf8: text.utf8, to: &output) }

    /// A JSON string of UTF-8 bytes (the caller vouches that they are UTF-8).
    @inlinable
    public static func appendString<Bytes: Sequence>(utf8 bytes: Bytes, to output: inout [UInt8]) where Bytes.Element == UInt8 {
        output.append(UInt8(ascii: "\""))
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\""): output.append(contentsOf: [92, 34])
            case UInt8(ascii: "\\"): output.append(contentsOf: [92, 92])
            case 10: output.append(contentsOf: [92, UInt8(ascii: "n")])
            case 13: output.append(contentsOf: [92, UInt8(ascii: "r")])
            case 9: output.append(contentsOf: [92, UInt8(ascii: "t")])
            case 0..<0x20:
                output.append(contentsOf: Array("\\u00".utf8))
                output.append(hexDigits[Int(byte >> 4)])
                output.append(hexDigits[Int(byte & 15)])
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }

    /// Appends `value` as a JSON number, or `null` when it is not finite.
    public static func appendNumber(_ value: Double, to output: inout [UInt8]) {
        if value.isFinite { output.append(contentsOf: ValueText.float(value).utf8) } else { output.append(contentsOf: nullBytes) }
    }

    /// The decimal digits of `value`, as `String(value)` writes them, without making the String.
    public static func appendInteger(_ value: Int64, to output: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var magnitude = value.magnitude, start = 20
            repeat {
                start -= 1
                digits[start] = UInt8(truncatingIfNeeded: 48 + magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if value < 0 { output.append(UInt8(ascii: "-")) }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: digits[start..<20]))
        }
    }

    /// The encoder of every JSON record Strata prints or serves: snake_case keys, sorted, compact, and the
    /// non-finite numbers JSON cannot hold as the strings "nan", "inf", "-inf".
    public static var recordEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }

    public static let nullBytes: [UInt8] = Array("null".utf8)
    @usableFromInline static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
}
