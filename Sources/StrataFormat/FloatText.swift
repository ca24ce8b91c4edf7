/// Text of doubles shared by every output (format-spec §10): the CSV of `strata scan`, query results and
/// CAST(x AS VARCHAR).
public enum FloatText {
    /// The shortest text that reads back as the same double, laid out as Python's `repr(float)`:
    /// positional between 1e-4 and 1e16, scientific (`1e-05`, `1.5e+16`) outside.
    public static func python(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        // Positional text (no exponent) is already laid out as Python's; only the exponent forms differ.
        let described = value.description
        if !described.utf8.contains(UInt8(ascii: "e")) { return described }
        return laidOutAsPython(value)
    }

    /// The general case: the shortest digits re-laid out by Python's rules.
    static func laidOutAsPython(_ value: Double) -> String {
        // Swift's description is also shortest-round-trip; only its layout differs from Python's.
        let text = value.magnitude.description
        var mantissa = Substring(text)
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = text[..<e]
            exponent = Int(text[text.index(after: e)...])!
        }
        let parts = mantissa.split(separator: ".", omittingEmptySubsequences: false)
        let integerPart = String(parts[0])
        let fractionPart = parts.count > 1 ? String(parts[1]) : ""
        var digits = Array(integerPart + fractionPart)
        // Decimal exponent of the first digit: value = 0.d1d2... * 10^(pointPosition).
        var pointPosition = integerPart.count + exponent
        while digits.count > 1 && digits.first == "0" {
            digits.removeFirst()
            pointPosition -= 1
        }
        while digits.count > 1 && digits.last == "0" { digits.removeLast() }
        let sign = value.sign == .minus ? "-" : ""
        if digits == ["0"] { return sign + "0.0" }
        let exponent10 = pointPosition - 1
        if exponent10 >= -4 && exponent10 < 16 {
            if pointPosition <= 0 {
                return sign + "0." + String(repeating: "0", count: -pointPosition) + String(digits)
            }
            if pointPosition >= digits.count {
                return sign + String(digits) + String(repeating: "0", count: pointPosition - digits.count) + ".0"
            }
            return sign + String(digits[..<pointPosition]) + "." + String(digits[pointPosition...])
        }
        let head = String(digits[0]) + (digits.count > 1 ? "." + String(digits[1...]) : "")
        let exponentText = (exponent10 < 0 ? "-" : "+") + (abs(exponent10) < 10 ? "0" : "") + String(abs(exponent10))
        return sign + head + "e" + exponentText
    }
}
