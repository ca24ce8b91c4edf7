import StrataFormat

/// Parsers from CSV field bytes to stored values. Each returns nil for text that is not a value of its
/// type, and the caller reports the line, column and text.
enum FieldParsers {
    /// A decimal integer with an optional sign; nil on any other character or on overflow.
    @inline(__always) static func int64(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        var index = 0
        var negative = false
        let count = bytes.count
        guard count > 0 else { return nil }
        if bytes[0] == UInt8(ascii: "-") || bytes[0] == UInt8(ascii: "+") {
            negative = bytes[0] == UInt8(ascii: "-")
            index = 1
            guard count > 1 else { return nil }
        }
        guard count - index <= 19 else { return nil }
        var value: UInt64 = 0
        while index < count {
            let digit = UInt64(bytes[index]) &- 48
            guard digit < 10 else { return nil }
            value = value &* 10 &+ digit
            index += 1
        }
        if negative {
            guard value <= UInt64(Int64.max) + 1 else { return nil }
            return Int64(truncatingIfNeeded: 0 &- value)
        }
        guard value <= UInt64(Int64.max) else { return nil }
        return Int64(value)
    }

    /// Whether the bytes are UTF-8 text (an ASCII scan first: msno and KKBox's strings are ASCII).
    @inline(__always) static func isValidUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
        // Eight bytes at a time: a 44-byte msno is six loads and a test.
        var high: UInt64 = 0
        var offset = 0
        while offset &+ 8 <= bytes.count {
            high |= bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            offset &+= 8
        }
        while offset < bytes.count {
            high |= UInt64(bytes[offset])
            offset &+= 1
        }
        if high & 0x8080_8080_8080_8080 == 0 { return true }
        return bytes.withMemoryRebound(to: UInt8.self) { String(validating: $0, as: UTF8.self) != nil }
    }

    /// A date as YYYYMMDD (Kaggle's form) or YYYY-MM-DD (one real sample reformatted its dates so);
    /// returns the day number, nil when it is not a valid calendar date in `Dates.yearRange`.
    @inline(__always) static func date(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        func digits(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                let digit = Int(bytes[index]) &- 48
                guard digit >= 0 && digit < 10 else { return nil }
                value = value * 10 + digit
            }
            return value
        }
        let year: Int?, month: Int?, day: Int?
        switch bytes.count {
        case 8:
            (year, month, day) = (digits(0..<4), digits(4..<6), digits(6..<8))
        case 10 where bytes[4] == UInt8(ascii: "-") && bytes[7] == UInt8(ascii: "-"):
            (year, month, day) = (digits(0..<4), digits(5..<7), digits(8..<10))
        default:
            return nil
        }
        guard let year, let month, let day, let number = Dates.dayNumber(year: year, month: month, day: day) else { return nil }
        return Int64(number)
    }

    static let powersOfTen: [Double] = (0...22).map { exponent in
        var power = 1.0
        for _ in 0..<exponent { power *= 10 }
        return power
    }

    /// A decimal number, correctly rounded to the nearest double (the value `strtod` gives).
    /// Fast path: up to 15 significant digits and a plain fraction, where one IEEE division of two exact
    /// doubles is correctly rounded; anything else (exponents, long mantissas) goes through `strtod`.
    @inline(__always) static func float64(_ bytes: UnsafeRawBufferPointer) -> Double? {
        let count = bytes.count
        guard count > 0 else { return nil }
        var index = 0
        var negative = false
        if bytes[0] == UInt8(ascii: "-") || bytes[0] == UInt8(ascii: "+") {
            negative = bytes[0] == UInt8(ascii: "-")
            index = 1
        }
        var mantissa: UInt64 = 0
        var digitCount = 0
        var fractionDigits = 0
        var sawPoint = false
        var sawDigit = false
        while index < count {
            let byte = bytes[index]
            if byte == UInt8(ascii: ".") {
                if sawPoint { return nil }
                sawPoint = true
            } else {
                let digit = UInt64(byte) &- 48
                guard digit < 10 else { return slowFloat64(bytes) }
                sawDigit = true
                if mantissa != 0 || digit != 0 { digitCount += 1 }
                mantissa = mantissa &* 10 &+ digit
                if sawPoint { fractionDigits += 1 }
                if digitCount > 15 || fractionDigits > 22 { return slowFloat64(bytes) }
            }
            index += 1
        }
        guard sawDigit else { return nil }
        let magnitude = Double(mantissa) / powersOfTen[fractionDigits]
        return negative ? -magnitude : magnitude
    }

    /// Exponent forms and long mantissas, via the C library (which rounds correctly in glibc).
    static func slowFloat64(_ bytes: UnsafeRawBufferPointer) -> Double? {
        // Only the characters of a finite decimal number: no inf/nan/hex, which strtod would accept.
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "+"), UInt8(ascii: "-"): continue
            default: return nil
            }
        }
        guard bytes.count < 64 else { return nil }
        var text = [CChar](repeating: 0, count: bytes.count + 1)
        for index in 0..<bytes.count { text[index] = CChar(bitPattern: bytes[index]) }
        return text.withUnsafeBufferPointer { pointer -> Double? in
            var end: UnsafeMutablePointer<CChar>?
            let value = strtod(pointer.baseAddress!, &end)
            guard let end, end - UnsafeMutablePointer(mutating: pointer.baseAddress!) == bytes.count, value.isFinite else { return nil }
            return value
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
