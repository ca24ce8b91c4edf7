import StrataTestSupport
import Testing
@testable import StrataFormat

/// Damaged blocks must raise FormatError: never trap, never decode to values.
@Suite struct DamageTests {
    @Test func truncatedAndFlippedBlocksNeverTrap() throws {
        var random = TestRandom(state: 23)
        var columns: [ColumnVector] = []
        for type in [LogicalType.int64, .date, .entity, .bool] {
            for shape in [DataShape.someNull, .runs, .fewDistinct, .sorted] { columns.append(makeIntegers(shape, type: type, count: 300, random: &random)) }
        }
        columns.append(ColumnVector(type: .float64, values: .floats((0..<300).map { Double($0) / 8 })))
        columns.append(ColumnVector(type: .string, values: .strings(StringArray((0..<300).map { ["a", "bb", "ccc"][$0 % 3] }))))
        var outcomes = (errors: 0, decoded: 0)
        for column in columns {
            for encoding in Encoding.allCases where encoding.applies(to: column.type) {
                for policy in [CompressionPolicy.none, .lz4, .zstd] {
                    let chunk = ChunkEncoder.encode(column, forcing: encoding, policy: policy)
                    let shape = ChunkShape(type: column.type, encoding: chunk.encoding, codec: chunk.codec, encodedSizeBytes: chunk.encodedSizeBytes, rowCount: chunk.rowCount, nullCount: chunk.nullCount)
                    for _ in 0..<20 {
                        var damaged = chunk.stored
                        if random.below(4) == 0 {
                            damaged.removeLast(1 + random.below(max(1, damaged.count)))
                        } else {
                            damaged[random.below(damaged.count)] ^= UInt8(1 << random.below(8))
                        }
                        // Without the block CRC in front, a decode may succeed with other values; it must not crash.
                        do {
                            _ = try damaged.withUnsafeBytes { try ChunkDecoder.decode($0, shape: shape) }
                            outcomes.decoded += 1
                        } catch is FormatError {
                            outcomes.errors += 1
                        }
                    }
                }
            }
        }
        #expect(outcomes.errors > 0)
    }

    @Test func limitsAreEnforcedBeforeAllocating() {
        let shape = ChunkShape(type: .int64, encoding: .plain, codec: .zstd, encodedSizeBytes: FormatLimits.blockSizeBytesMax + 1, rowCount: 10, nullCount: 0)
        #expect(throws: FormatError.self) { try [UInt8](repeating: 0, count: 16).withUnsafeBytes { try ChunkDecoder.decode($0, shape: shape) } }
        let tooManyRows = ChunkShape(type: .int64, encoding: .plain, codec: .none, encodedSizeBytes: 8, rowCount: FormatLimits.chunkRowCountMax + 1, nullCount: 0)
        #expect(throws: FormatError.self) { try [UInt8](repeating: 0, count: 8).withUnsafeBytes { try ChunkDecoder.decode($0, shape: tooManyRows) } }
        let wrongType = ChunkShape(type: .string, encoding: .bitpack, codec: .none, encodedSizeBytes: 16, rowCount: 1, nullCount: 0)
        #expect(throws: FormatError.self) { try [UInt8](repeating: 0, count: 16).withUnsafeBytes { try ChunkDecoder.decode($0, shape: wrongType) } }
    }

    @Test func outOfDomainValuesAreCorruption() {
        // A bool chunk whose plain byte says 2.
        let shape = ChunkShape(type: .bool, encoding: .plain, codec: .none, encodedSizeBytes: 1, rowCount: 1, nullCount: 0)
        #expect(throws: FormatError.self) { try [UInt8]([2]).withUnsafeBytes { try ChunkDecoder.decode($0, shape: shape) } }
    }
}

/// Counts and offsets that pass their checksums but lie (a forger recomputes CRCs) must be refused before
/// they overflow arithmetic or size an allocation.
@Suite struct ForgedLayoutTests {
    @Test func aDictionaryOfLongStringsCannotExpandWithoutBound() throws {
        var writer = ByteWriter()
        writer.append(UInt32(1))
        writer.appendZeros(4)
        let length = 1 << 20
        writer.append(UInt32(0))
        writer.append(UInt32(length))
        writer.appendZeros(length)
        writer.pad(toMultipleOf: 8)
        writer.append(UInt8(0))  // bit width 0: every code is 0
        writer.appendZeros(7)
        let rowCount = FormatLimits.chunkRowCountMax
        let shape = ChunkShape(type: .string, encoding: .dictionary, codec: .none, encodedSizeBytes: writer.count, rowCount: rowCount, nullCount: 0)
        #expect(throws: FormatError("the dictionary's strings expand past \(FormatLimits.blockSizeBytesMax) bytes")) {
            _ = try writer.bytes.withUnsafeBytes { try ChunkDecoder.decode($0, shape: shape) }
        }
    }

    @Test func aHeaderRowCountNearTheTopOfUInt64IsRefused() throws {
        let bytes = SegmentHeader(rowCount: UInt64.max, columnCount: 1, chunkRowCount: 65_536).encoded()
        #expect(throws: FormatError.self) { _ = try bytes.withUnsafeBytes { try SegmentHeader.decode($0) } }
    }

    @Test func aFooterOffsetThatWouldOverflowIsRefused() throws {
        let trailer = SegmentTrailer(footerOffset: UInt64.max - 63, footerSize: 64, footerCRC: 0, fileCRC: 0).encoded()
        let file = [UInt8](repeating: 0, count: SegmentHeader.encodedSizeBytes) + trailer
        #expect(throws: FormatError.self) { _ = try file.withUnsafeBytes { try SegmentTrailer.decode(file: $0) } }
    }
}
