import StrataTestSupport
import Testing
@testable import StrataFormat

@Suite struct JSONTextTests {
    @Test func integersAreWrittenAsStringWritesThem() {
        var random = TestRandom(state: 17)
        var cases: [Int64] = [0, 1, -1, 9, 10, -10, 99, 100, Int64.max, Int64.min, Int64.max - 1, Int64.min + 1, 1_000_000_000_000_000_000]
        for _ in 0..<100_000 {
            let bits = Int64(bitPattern: random.next())
            cases.append(bits >> Int64(random.next() % 64))  // every magnitude, both signs
        }
        for value in cases {
            var out: [UInt8] = [1]
            JSONText.appendInteger(value, to: &out)
            #expect(out == [1] + Array(String(value).utf8), "\(value)")
        }
    }

    @Test func stringsFromBytesEqualStringsFromText() {
        for text in ["", "abc", "a\"b\\c", "line\nbreak\r\ttab", "\u{01}\u{1f}", "€ and ü", "FYr7/xu2wlrSzUt4n2ttFLbmUfZyoOan380vyCd+isz="] {
            var fromText: [UInt8] = [], fromBytes: [UInt8] = []
            JSONText.appendString(text, to: &fromText)
            JSONText.appendString(utf8: Array(text.utf8), to: &fromBytes)
            #expect(fromText == fromBytes, "\(text)")
        }
        var out: [UInt8] = []
        JSONText.appendString("a\"\n\u{01}", to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "\"a\\\"\\n\\u0001\"")
    }
}
