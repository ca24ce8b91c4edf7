import StrataTestSupport
import Testing
@testable import StrataFormat


/// Shapes of data that stress each encoding: empty, one row, all null, extremes, runs, few distinct.
enum DataShape: CaseIterable {
    case empty, oneRow, allNull, someNull, extremes, runs, fewDistinct, sorted, random
}

func makeIntegers(_ shape: DataShape, type: LogicalType, count: Int, random: inout TestRandom) -> ColumnVector {
    let domain = type.integerRange!
    func any() -> Int64 {
        let span = UInt64(bitPattern: domain.upperBound &- domain.lowerBound)
        let offset = span == UInt64.max ? random.next() : random.next() % (span + 1)
        return domain.lowerBound &+ Int64(bitPattern: offset)
    }
    let rowCount: Int
    switch shape {
    case .empty: rowCount = 0
    case .oneRow: rowCount = 1
    default: rowCount = count
    }
    var values = [Int64](repeating: 0, count: rowCount)
    var validity = Validity()
    for index in 0..<rowCount {
        switch shape {
        case .extremes: values[index] = [domain.lowerBound, domain.upperBound, 0 < domain.lowerBound ? domain.lowerBound : 0][random.below(3)]
        case .runs: values[index] = index / 100 % 3 == 0 ? domain.lowerBound : domain.upperBound
        case .fewDistinct: values[index] = [domain.lowerBound, domain.upperBound, domain.upperBound / 2][random.below(3)]
        case .sorted: values[index] = domain.lowerBound / 2 + Int64(index) * (type == .bool ? 0 : 3) + (type == .bool ? 1 : 0)
        default: values[index] = any()
        }
        let valid: Bool
        switch shape {
        case .allNull: valid = false
        case .someNull: valid = random.below(4) != 0
        default: valid = true
        }
        validity.append(valid)
        if !valid { values[index] = 0 }
    }
    if type == .bool { values = values.map { $0 & 1 } }
    return ColumnVector(type: type, values: .integers(values), validity: validity)
}

/// Decodes what the encoder wrote and compares with the input, null slots ignored.
func roundTrip(_ column: ColumnVector, forcing encoding: Encoding?, codec policy: CompressionPolicy) throws -> EncodedChunk {
    let chunk = ChunkEncoder.encode(column, forcing: encoding, policy: policy)
    let shape = ChunkShape(type: column.type, encoding: chunk.encoding, codec: chunk.codec, encodedSizeBytes: chunk.encodedSizeBytes, rowCount: chunk.rowCount, nullCount: chunk.nullCount)
    let decoded = try chunk.stored.withUnsafeBytes { try ChunkDecoder.decode($0, shape: shape) }
    #expect(decoded.count == column.count)
    #expect(decoded.nullCount == column.nullCount)
    for row in 0..<column.count {
        #expect(decoded.isNull(row) == column.isNull(row))
        if column.isNull(row) { continue }
        switch (column.values, decoded.values) {
        case (.integers(let a), .integers(let b)): #expect(a[row] == b[row], "row \(row)")
        case (.floats(let a), .floats(let b)): #expect(a[row].bitPattern == b[row].bitPattern, "row \(row): \(a[row]) vs \(b[row])")
        case (.strings(let a), .strings(let b)): #expect(a[row] == b[row], "row \(row)")
        default: Issue.record("value kinds differ")
        }
    }
    return chunk
}

@Suite struct EncodingRoundTripTests {
    @Test(arguments: [LogicalType.int64, .date, .entity, .bool])
    func everyIntegerEncodingAndCodec(type: LogicalType) throws {
        var random = TestRandom(state: UInt64(type.rawValue))
        for encoding in Encoding.allCases where encoding.applies(to: type) {
            for policy in CompressionPolicy.allCases {
                for shape in DataShape.allCases {
                    let column = makeIntegers(shape, type: type, count: 3000, random: &random)
                    let chunk = try roundTrip(column, forcing: encoding, codec: policy)
                    if !(encoding == .delta && column.count == 0) {
                        #expect(chunk.encoding == encoding, "forced \(encoding) for \(type) \(shape)")
                    }
                }
            }
        }
    }

    @Test func automaticChoiceRoundTripsAndPicksCompactEncodings() throws {
        var random = TestRandom(state: 7)
        for type in [LogicalType.int64, .date, .entity, .bool] {
            for shape in DataShape.allCases {
                _ = try roundTrip(makeIntegers(shape, type: type, count: 5000, random: &random), forcing: nil, codec: .auto)
            }
        }
        // A constant column must not cost a byte per row.
        let constant = ColumnVector(type: .int64, values: .integers(Array(repeating: 42, count: 65_536)))
        #expect(try roundTrip(constant, forcing: nil, codec: .none).stored.count < 64)
        // Sorted dates with small steps: delta or RLE, far below 4 bytes per row.
        let dates = ColumnVector(type: .date, values: .integers((0..<65_536).map { 17_000 + Int64($0 / 2000) }))
        #expect(try roundTrip(dates, forcing: nil, codec: .none).stored.count < 2000)
    }

    @Test func floatsRoundTripBitExactly() throws {
        var random = TestRandom(state: 11)
        let specials: [Double] = [0, -0.0, .infinity, -.infinity, .nan, .leastNonzeroMagnitude, .greatestFiniteMagnitude, -1.5e300, 5e-324, 0.1, 123.456]
        let cases: [[Double]] = [
            [], [1.5], specials,
            (0..<4000).map { _ in Double(bitPattern: random.next()) },
            (0..<4000).map { Double($0 * 7919 % 100_000) / 1000 },  // three-decimal seconds: DECIMAL
            (0..<4000).map { _ in Double(random.below(1_000_000)) / 100 - 5000 },
        ]
        for values in cases {
            var validity = Validity()
            for index in values.indices { validity.append(index % 5 != 3) }
            for nullable in [false, true] {
                let column = ColumnVector(type: .float64, values: .floats(values), validity: nullable ? validity : nil)
                for encoding in [nil, Encoding.plain, .decimal] {
                    for policy in CompressionPolicy.allCases { _ = try roundTrip(column, forcing: encoding, codec: policy) }
                }
            }
        }
        let seconds = ColumnVector(type: .float64, values: .floats((0..<4000).map { Double($0 * 7919 % 100_000) / 1000 }))
        #expect(try roundTrip(seconds, forcing: nil, codec: .none).encoding == .decimal)
        let noise = ColumnVector(type: .float64, values: .floats((0..<100).map { _ in Double(bitPattern: random.next() >> 2) }))
        #expect(try roundTrip(noise, forcing: .decimal, codec: .none).encoding == .plain, "DECIMAL must never be lossy")
    }

    @Test func stringsRoundTrip() throws {
        var random = TestRandom(state: 13)
        let few = (0..<3000).map { _ in ["male", "female", "", "ünïcödé, \"quoted\"\n"][random.below(4)] }
        let many = (0..<3000).map { _ in String((0..<random.below(50)).map { _ in Character(UnicodeScalar(UInt8(33 + random.below(90)))) }) }
        for strings in [[], ["one"], few, many] {
            var validity = Validity()
            for index in strings.indices { validity.append(index % 3 != 1) }
            for valid in [nil, validity, Validity(bits: Array(repeating: 0, count: (strings.count + 7) / 8), count: strings.count)] {
                let column = ColumnVector(type: .string, values: .strings(StringArray(strings)), validity: valid)
                for encoding in [nil, Encoding.plain, .dictionary] {
                    for policy in CompressionPolicy.allCases { _ = try roundTrip(column, forcing: encoding, codec: policy) }
                }
            }
        }
        let lowCardinality = ColumnVector(type: .string, values: .strings(StringArray(few)))
        #expect(try roundTrip(lowCardinality, forcing: nil, codec: .none).encoding == .dictionary)
    }

    @Test func chunksOfALargerColumnSliceValidityOnByteBoundaries() throws {
        var random = TestRandom(state: 17)
        let column = makeIntegers(.someNull, type: .int64, count: 1000, random: &random)
        for start in stride(from: 0, to: 1000, by: 200) {
            let chunk = ChunkEncoder.encode(column, rows: start..<min(1000, start + 203), policy: .none)
            let shape = ChunkShape(type: .int64, encoding: chunk.encoding, codec: chunk.codec, encodedSizeBytes: chunk.encodedSizeBytes, rowCount: chunk.rowCount, nullCount: chunk.nullCount)
            let decoded = try chunk.stored.withUnsafeBytes { try ChunkDecoder.decode($0, shape: shape) }
            guard case .integers(let all) = column.values, case .integers(let part) = decoded.values else { Issue.record("kinds"); return }
            for row in 0..<decoded.count {
                #expect(decoded.isNull(row) == column.isNull(start + row))
                if !decoded.isNull(row) { #expect(part[row] == all[start + row]) }
            }
        }
    }
}

/// The small hash tables the encoders count distinct values with, against the standard library's sets.
@Suite struct DistinctCountTests {
    @Test func smallIntegerSetAgreesWithSet() {
        var random = TestRandom(state: 41)
        for distinct in [0, 1, 31, 32, 33, 256, 257, 1000] {
            // Values that collide under a multiplicative hash: multiples of large powers of two, negatives, extremes.
            let pool: [Int64] = (0..<distinct).map { index in
                switch index % 4 {
                case 0: Int64(index) << 40
                case 1: -Int64(index)
                case 2: index % 8 == 2 ? Int64.min + Int64(index) : Int64.max - Int64(index)
                default: Int64(random.next() >> 1)
                }
            }
            var set = SmallIntegerSet()
            var reference = Set<Int64>()
            for _ in 0..<(3 * distinct) {
                let value = pool[random.below(pool.count)]
                #expect(set.insert(value) == reference.insert(value).inserted)
            }
            #expect(set.count == reference.count)
            for (position, value) in set.values.enumerated() { #expect(set.position(of: value) == position) }
            #expect(set.position(of: 12_345_678_901) == (reference.contains(12_345_678_901) ? set.values.firstIndex(of: 12_345_678_901) : nil))
        }
        // Past 256 distinct values the encoder gives up on a dictionary.
        #expect(distinct(of: (0..<256).map { Int64($0) * 1_000_003 })?.count == 256)
        #expect(distinct(of: (0..<257).map { Int64($0) * 1_000_003 }) == nil)
        #expect(distinct(of: [5, -1, 5, 3]) == [-1, 3, 5])
    }

    func distinct(of values: [Int64]) -> [Int64]? { values.withUnsafeBufferPointer { IntegerEncoder.distinctValues($0) } }

    @Test func stringDistinctCountAgreesWithSet() {
        var random = TestRandom(state: 43)
        for (rows, alphabet) in [(0, 3), (1, 3), (100, 2), (500, 40), (2000, 2000)] {
            let texts = (0..<rows).map { _ in String(repeating: "k", count: random.below(20)) + String(random.below(alphabet)) }
            var validity = Validity()
            for index in 0..<rows { validity.append(index % 7 != 3) }
            let all = StringArray(texts)
            let valid = Set(texts.enumerated().filter { $0.offset % 7 != 3 }.map(\.element))
            for countMax in [0, 1, valid.count - 1, valid.count, rows] where countMax >= 0 {
                let counted = StringEncoder.distinctCount(all, rows: 0..<rows, validity: validity, countMax: countMax)
                #expect(counted == (valid.count <= countMax ? valid.count : nil), "rows \(rows), countMax \(countMax)")
            }
            #expect(StringEncoder.distinctCount(all, rows: 0..<rows, validity: nil, countMax: rows) == Set(texts).count)
        }
        // Empty strings are a value like any other.
        #expect(StringEncoder.distinctCount(StringArray(["", "", "a", ""]), rows: 0..<4, validity: nil, countMax: 4) == 2)
    }
}
