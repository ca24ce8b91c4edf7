import StrataTestSupport
import Testing
@testable import StrataFormat

/// The bytes the code writes, checked against the tables and worked examples of format-spec/format-v1.md.
@Suite struct LayoutTests {
    @Test func crc32CheckValue() {
        #expect(Checksum.crc32(Array("123456789".utf8)) == 0xCBF4_3926)
    }

    @Test func bitpackWorkedExampleMatchesSpec() {
        let column = ColumnVector(type: .int64, values: .integers([3, 7, 3, 10, 4]))
        let chunk = ChunkEncoder.encode(column, forcing: .bitpack, policy: .none)
        #expect(chunk.stored == [
            0x03, 0, 0, 0, 0, 0, 0, 0,
            0x03, 0, 0, 0, 0, 0, 0, 0,
            0x20, 0x1E, 0, 0, 0, 0, 0, 0,
        ])
    }

    @Test func dictionaryWorkedExampleMatchesSpec() {
        var validity = Validity()
        for valid in [true, false, true, true] { validity.append(valid) }
        let column = ColumnVector(type: .string, values: .strings(StringArray(["male", "", "female", "male"])), validity: validity)
        let chunk = ChunkEncoder.encode(column, forcing: .dictionary, policy: .none)
        let expected: [UInt8] = [
            0x0D, 0, 0, 0, 0, 0, 0, 0,
            0x02, 0, 0, 0, 0, 0, 0, 0,
            0, 0, 0, 0, 0x06, 0, 0, 0,
            0x0A, 0, 0, 0,
        ] + Array("femalemale".utf8) + [0, 0] + [0x01, 0, 0, 0, 0, 0, 0, 0] + [0x09, 0, 0, 0, 0, 0, 0, 0]
        #expect(chunk.stored == expected)
    }

    @Test func headerLayout() {
        let bytes = SegmentHeader(rowCount: 0x0102, columnCount: 9, chunkRowCount: 65_536).encoded()
        #expect(bytes.count == SegmentHeader.encodedSizeBytes)
        #expect(Array(bytes[0..<8]) == Array("STRATSEG".utf8))
        #expect(bytes[8] == 1 && bytes[9] == 0 && bytes[10] == 1 && bytes[11] == 0)
        #expect(Array(bytes[16..<24]) == [0x02, 0x01, 0, 0, 0, 0, 0, 0])
        #expect(Array(bytes[24..<28]) == [9, 0, 0, 0])
        #expect(Array(bytes[28..<32]) == [0, 0, 1, 0])
        #expect(bytes[32..<60].allSatisfy { $0 == 0 })
        let crc = Checksum.crc32(Array(bytes[0..<60]))
        #expect(Array(bytes[60..<64]) == [UInt8(crc & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 24)])
    }

    @Test func trailerLayoutAndValidation() throws {
        let trailer = SegmentTrailer(footerOffset: 128, footerSize: 96, footerCRC: 0xAABBCCDD, fileCRC: 0x11223344)
        let bytes = trailer.encoded()
        #expect(bytes.count == SegmentTrailer.encodedSizeBytes)
        #expect(Array(bytes[24..<32]) == Array("STRATEND".utf8))
        var file = [UInt8](repeating: 0, count: 128 + 96) + bytes
        #expect(try file.withUnsafeBytes { try SegmentTrailer.decode(file: $0) } == trailer)
        file[file.count - 20] ^= 1
        #expect(throws: FormatError.self) { try file.withUnsafeBytes { try SegmentTrailer.decode(file: $0) } }
    }

    @Test func footerRoundTripsAndEntriesAre64Bytes() throws {
        let columns = [ColumnDescriptor(name: "msno", type: .entity, nullable: false), ColumnDescriptor(name: "gender", type: .string, nullable: true)]
        let entry = ChunkEntry(offset: 64, storedSizeBytes: 10, encodedSizeBytes: 12, rowCount: 5, nullCount: 0, blockCRC: 7, encoding: .bitpack, codec: .zstd, zoneMin: -3, zoneMax: 9)
        var second = entry
        second.zoneMin = nil
        second.zoneMax = nil
        let footer = SegmentFooter(columns: columns, chunkCount: 1, chunks: [entry, second])
        let bytes = footer.encoded()
        #expect(bytes.count == 16 + 2 * ColumnDescriptor.encodedSizeBytes + 2 * ChunkEntry.encodedSizeBytes + 10)
        let header = SegmentHeader(rowCount: 5, columnCount: 2, chunkRowCount: 65_536)
        #expect(try bytes.withUnsafeBytes { try SegmentFooter.decode($0, header: header) } == footer)
    }

    @Test func bitWidthsAtTheEdges() {
        #expect(BitPacking.bitWidth(ofRange: 0) == 0)
        #expect(BitPacking.bitWidth(ofRange: 1) == 1)
        #expect(BitPacking.bitWidth(ofRange: 255) == 8)
        #expect(BitPacking.bitWidth(ofRange: .max) == 64)
        for width in [1, 7, 13, 31, 33, 63, 64] {
            let values: [Int64] = (0..<130).map { Int64(bitPattern: UInt64($0 * 2_654_435_761) & (width == 64 ? .max : (1 << UInt64(width)) - 1)) }
            var writer = ByteWriter()
            values.withUnsafeBufferPointer { BitPacking.pack($0, base: 0, bitWidth: width, into: &writer) }
            #expect(writer.count == 8 * BitPacking.wordCount(count: 130, bitWidth: width))
            var decoded = [Int64](repeating: 0, count: 130)
            writer.bytes.withUnsafeBytes { raw in decoded.withUnsafeMutableBufferPointer { BitPacking.unpack(raw, bitWidth: width, base: 0, into: $0) } }
            #expect(decoded == values, "width \(width)")
        }
    }

    @Test func datesConvertBothWays() {
        #expect(Dates.dayNumber(yyyymmdd: 19_700_101) == 0)
        #expect(Dates.dayNumber(yyyymmdd: 20_170_301) == 17_226)
        #expect(Dates.dayNumber(yyyymmdd: 20_160_229) == 16_860)
        #expect(Dates.dayNumber(yyyymmdd: 20_170_229) == nil)
        #expect(Dates.dayNumber(yyyymmdd: 20_171_301) == nil)
        #expect(Dates.dayNumber(yyyymmdd: 1231) == nil, "year 0 is outside 0001-9999")
        #expect(Dates.dayNumber(yyyymmdd: 10_101) == Dates.dayRange.lowerBound)
        #expect(Dates.dayNumber(yyyymmdd: 99_991_231) == Dates.dayRange.upperBound)
        #expect(Dates.parse("2017-03-01") == 17_226 && Dates.parse("20170301") == 17_226)
        #expect(Dates.parse("100000101") == nil && Dates.parse("") == nil && Dates.parse("2017-3-01") == nil && Dates.parse("00000101") == nil)
        #expect(Dates.firstDayOfMonth(dayNumber: 17_240) == 17_226)
        for day in stride(from: -25_567, to: 84_000, by: 37) {
            #expect(Dates.dayNumber(yyyymmdd: Dates.yyyymmdd(dayNumber: day)) == day)
        }
        #expect(Dates.monthKey(dayNumber: 17_226) == 201_703)
    }
}
