import Foundation
import Testing
@testable import StrataFormat

/// CRC-32C, the content fingerprint of ingested files: published check values, and pieces combined in
/// any split equal the checksum of the whole (ingest checksums blocks in parallel and combines them).
@Suite struct ChecksumTests {
    @Test func crc32cMatchesPublishedValues() {
        #expect(Checksum.crc32c(Array("123456789".utf8)) == 0xE306_9283)
        // RFC 3720 (iSCSI), appendix B.4.
        #expect(Checksum.crc32c([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(Checksum.crc32c([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(Checksum.crc32c(Array(0..<32)) == 0x46DD_794E)
        #expect(Checksum.crc32c([]) == 0)
    }

    @Test func piecesCombineIntoTheWhole() {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<10_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let whole = Checksum.crc32c(bytes)
        for cut in [0, 1, 7, 8, 9, 4_095, 9_999, 10_000] {
            let first = Checksum.crc32c(Array(bytes[..<cut]))
            let second = Checksum.crc32c(Array(bytes[cut...]))
            #expect(Checksum.crc32cCombine(first, second, secondLength: bytes.count - cut) == whole, "cut at \(cut)")
        }
        // A seed continues a checksum.
        let half = Checksum.crc32c(Array(bytes[..<5_000]))
        #expect(Array(bytes[5_000...]).withUnsafeBytes { Checksum.crc32c($0, seed: half) } == whole)
    }
}

/// Dates print as YYYY-MM-DD (format-spec §10) across the whole calendar the store accepts, and days
/// outside it still print (as signed years) rather than trap.
@Test func datesPrintAsISOAcrossTheCalendar() {
    let cases: [(Int, String)] = [(0, "1970-01-01"), (17_226, "2017-03-01"), (-1, "1969-12-31"), (11_016, "2000-02-29"),
                                  (-719_162, "0001-01-01"), (2_932_896, "9999-12-31"), (-719_528, "0000-01-01")]
    for (day, text) in cases { #expect(ValueText.date(Int64(day), style: .iso) == text, "\(day)") }
    // Every day of 1900-2100 against the slow, obviously right form.
    for day in -25_567...47_482 {
        let (y, m, d) = Dates.civil(dayNumber: day)
        let expected = String(format: "%04d-%02d-%02d", y, m, d)
        if ValueText.date(Int64(day), style: .iso) != expected { Issue.record("\(day): \(ValueText.date(Int64(day), style: .iso)) != \(expected)"); break }
    }
    #expect(ValueText.date(Int64(Int32.min), style: .iso).hasPrefix("-"))
    #expect(ValueText.date(Int64(Int32.max), style: .iso).count > 10)
}
