/// What a footer entry says about a block, needed to decode it.
public struct ChunkShape: Sendable {
    public var type: LogicalType
    public var encoding: Encoding
    public var codec: Codec
    public var encodedSizeBytes: Int
    public var rowCount: Int
    public var nullCount: Int

    public init(type: LogicalType, encoding: Encoding, codec: Codec, encodedSizeBytes: Int, rowCount: Int, nullCount: Int) {
        self.type = type
        self.encoding = encoding
        self.codec = codec
        self.encodedSizeBytes = encodedSizeBytes
        self.rowCount = rowCount
        self.nullCount = nullCount
    }
}

/// Turns stored block bytes back into a column chunk, checking every length, width and value domain:
/// a damaged block raises `FormatError`, it never yields wrong values or traps.
public enum ChunkDecoder {
    public static func decode(_ stored: UnsafeRawBufferPointer, shape: ChunkShape) throws -> ColumnVector {
        guard shape.encodedSizeBytes <= FormatLimits.blockSizeBytesMax, shape.rowCount <= FormatLimits.chunkRowCountMax,
            shape.nullCount <= shape.rowCount
        else {
            throw FormatError("chunk sizes out of bounds (encoded \(shape.encodedSizeBytes) bytes, \(shape.rowCount) rows, \(shape.nullCount) nulls)")
        }
        guard shape.encoding.applies(to: shape.type) else {
            throw FormatError("encoding \(shape.encoding) does not apply to type \(shape.type)")
        }
        if shape.codec == .none {
            return try decodeEncoded(stored, shape: shape)
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: shape.encodedSizeBytes, alignment: 64)
        defer { buffer.deallocate() }
        try Compression.decompress(stored, codec: shape.codec, into: buffer)
        return try decodeEncoded(UnsafeRawBufferPointer(buffer), shape: shape)
    }

    static func decodeEncoded(_ encoded: UnsafeRawBufferPointer, shape: ChunkShape) throws -> ColumnVector {
        guard encoded.count == shape.encodedSizeBytes else {
            throw FormatError("block holds \(encoded.count) bytes, footer says \(shape.encodedSizeBytes)")
        }
        var reader = ByteReader(encoded)
        let rowCount = shape.rowCount
        var validity: Validity?
        if shape.nullCount > 0 {
            let bitmapBytes = (rowCount + 7) / 8
            let bits = Array(try reader.slice(bitmapBytes, "validity bitmap"))
            try reader.align(to: 8, from: 0, "validity padding")
            let decoded = Validity(bits: bits, count: rowCount)
            guard decoded.nullCount == shape.nullCount else {
                throw FormatError("validity bitmap has \(decoded.nullCount) nulls, footer says \(shape.nullCount)")
            }
            validity = decoded
        }
        let values: ColumnValues
        switch shape.type {
        case .string:
            values = .strings(try StringDecoder.decode(&reader, encoding: shape.encoding, rowCount: rowCount))
        case .float64:
            values = .floats(try decodeFloats(&reader, encoding: shape.encoding, rowCount: rowCount))
        default:
            var integers = try IntegerDecoder.decode(&reader, type: shape.type, encoding: shape.encoding, rowCount: rowCount)
            try IntegerDecoder.checkDomain(&integers, type: shape.type, validity: validity)
            values = .integers(integers)
        }
        guard reader.remaining == 0 else {
            throw FormatError("\(reader.remaining) unexpected bytes after the values of a \(shape.encoding) chunk")
        }
        return ColumnVector(type: shape.type, values: values, validity: validity)
    }

    static func decodeFloats(_ reader: inout ByteReader, encoding: Encoding, rowCount: Int) throws -> [Double] {
        switch encoding {
        case .plain:
            let bytes = try reader.slice(rowCount * 8, "float64 values")
            return [Double](uninitializedCount: rowCount) { output in
                for index in 0..<rowCount {
                    output[index] = Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: index &* 8, as: UInt64.self)))
                }
            }
        case .decimal:
            let exponent = Int(try reader.read(UInt8.self, "decimal exponent"))
            try reader.skipZeros(7, "decimal header padding")
            guard exponent <= FormatLimits.decimalExponentMax else { throw FormatError("decimal exponent \(exponent) exceeds \(FormatLimits.decimalExponentMax)") }
            let integers = try IntegerDecoder.decodeBitpack(&reader, rowCount: rowCount)
            let power = FloatEncoder.powersOfTen[exponent]
            var tooLarge = false
            let values = [Double](uninitializedCount: rowCount) { output in
                integers.withUnsafeBufferPointer { integers in
                    for index in 0..<rowCount {
                        let integer = integers[index]
                        tooLarge = tooLarge || integer.magnitude >= 1 << 53
                        output[index] = Double(integer) / power
                    }
                }
            }
            guard !tooLarge else { throw FormatError("a decimal integer is not exact in a double") }
            return values
        default:
            throw FormatError("encoding \(encoding) does not apply to float64")
        }
    }
}

enum IntegerDecoder {
    static func decode(_ reader: inout ByteReader, type: LogicalType, encoding: Encoding, rowCount: Int) throws -> [Int64] {
        switch encoding {
        case .plain:
            let width = type.plainWidthBytes!
            let bytes = try reader.slice(rowCount * width, "\(type) values")
            return [Int64](uninitializedCount: rowCount) { output in
                switch type {
                case .date:
                    for index in 0..<rowCount { output[index] = Int64(Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: index &* 4, as: Int32.self))) }
                case .entity:
                    for index in 0..<rowCount { output[index] = Int64(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: index &* 4, as: UInt32.self))) }
                case .bool:
                    for index in 0..<rowCount { output[index] = Int64(bytes[index]) }
                default:
                    for index in 0..<rowCount { output[index] = Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: index &* 8, as: Int64.self)) }
                }
            }
        case .bitpack:
            return try decodeBitpack(&reader, rowCount: rowCount)
        case .delta:
            guard rowCount > 0 else { throw FormatError("a DELTA chunk must have at least one row") }
            let first = try reader.read(Int64.self, "delta first value")
            let minDelta = try reader.read(Int64.self, "delta minimum")
            let width = try readWidth(&reader)
            var deltas = try unpack(&reader, count: rowCount - 1, bitWidth: width, base: minDelta)
            var values = [Int64](repeating: first, count: rowCount)
            var running = first
            for index in 1..<rowCount {
                running = running &+ deltas[index - 1]
                values[index] = running
            }
            deltas.removeAll()
            return values
        case .rle:
            let runCount = Int(try reader.read(UInt32.self, "run count"))
            try reader.skipZeros(4, "RLE header padding")
            guard runCount <= rowCount else { throw FormatError("\(runCount) runs for \(rowCount) rows") }
            let runValues = try reader.slice(runCount * 8, "run values")
            let runLengths = try reader.slice(runCount * 4, "run lengths")
            var values = [Int64]()
            values.reserveCapacity(rowCount)
            for run in 0..<runCount {
                let value = Int64(littleEndian: runValues.loadUnaligned(fromByteOffset: run * 8, as: Int64.self))
                let length = Int(UInt32(littleEndian: runLengths.loadUnaligned(fromByteOffset: run * 4, as: UInt32.self)))
                guard length >= 1, length <= rowCount - values.count else { throw FormatError("run \(run) has a bad length \(length)") }
                values.append(contentsOf: repeatElement(value, count: length))
            }
            guard values.count == rowCount else { throw FormatError("runs cover \(values.count) of \(rowCount) rows") }
            return values
        case .dictionary:
            let dictCount = Int(try reader.read(UInt32.self, "dictionary size"))
            try reader.skipZeros(4, "dictionary header padding")
            guard dictCount <= rowCount else { throw FormatError("dictionary of \(dictCount) entries for \(rowCount) rows") }
            let entries = try reader.slice(dictCount * 8, "dictionary values")
            let dictionary = (0..<dictCount).map { Int64(littleEndian: entries.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
            let codes = try decodeCodes(&reader, rowCount: rowCount, dictCount: dictCount)
            return codes.map { dictCount == 0 ? 0 : dictionary[Int($0)] }
        case .decimal:
            throw FormatError("encoding decimal does not apply to integers")
        }
    }

    static func readWidth(_ reader: inout ByteReader) throws -> Int {
        let width = Int(try reader.read(UInt8.self, "bit width"))
        try reader.skipZeros(7, "bit width padding")
        guard width <= 64 else { throw FormatError("bit width \(width) exceeds 64") }
        return width
    }

    static func unpack(_ reader: inout ByteReader, count: Int, bitWidth: Int, base: Int64) throws -> [Int64] {
        let words = try reader.slice(8 * BitPacking.wordCount(count: count, bitWidth: bitWidth), "bit-packed values")
        return [Int64](uninitializedCount: count) { output in
            BitPacking.unpack(words, bitWidth: bitWidth, base: base, into: output)
        }
    }

    static func decodeBitpack(_ reader: inout ByteReader, rowCount: Int) throws -> [Int64] {
        let base = try reader.read(Int64.self, "bitpack base")
        let width = try readWidth(&reader)
        return try unpack(&reader, count: rowCount, bitWidth: width, base: base)
    }

    /// Codes of a dictionary chunk; every code must index the dictionary (all 0 for an empty one).
    static func decodeCodes(_ reader: inout ByteReader, rowCount: Int, dictCount: Int) throws -> [Int64] {
        let width = try readWidth(&reader)
        let codes = try unpack(&reader, count: rowCount, bitWidth: width, base: 0)
        let limit = UInt64(max(dictCount, 1))
        for code in codes where UInt64(bitPattern: code) >= limit {
            throw FormatError("dictionary code \(code) out of range for \(dictCount) entries")
        }
        return codes
    }

    /// Values outside the type's domain can only come from damage; null slots are ignored and zeroed.
    static func checkDomain(_ values: inout [Int64], type: LogicalType, validity: Validity?) throws {
        guard let domain = type.integerRange, type != .int64 else { return }
        // One vectorisable min/max pass; the per-row check runs only when something is out of range.
        if values.allWithin(domain) { return }
        for index in values.indices where !domain.contains(values[index]) {
            if let validity, !validity.isValid(index) {
                values[index] = 0
                continue
            }
            throw FormatError("value \(values[index]) at row \(index) is out of range for \(type)")
        }
    }
}

enum StringDecoder {
    static func decode(_ reader: inout ByteReader, encoding: Encoding, rowCount: Int) throws -> StringArray {
        switch encoding {
        case .plain:
            return try readStrings(&reader, count: rowCount, what: "string")
        case .dictionary:
            let origin = reader.offset
            let dictCount = Int(try reader.read(UInt32.self, "dictionary size"))
            try reader.skipZeros(4, "dictionary header padding")
            guard dictCount <= rowCount else { throw FormatError("dictionary of \(dictCount) entries for \(rowCount) rows") }
            let dictionary = try readStrings(&reader, count: dictCount, what: "dictionary string")
            try reader.align(to: 8, from: origin, "dictionary padding")
            let codes = try IntegerDecoder.decodeCodes(&reader, rowCount: rowCount, dictCount: dictCount)
            // The expanded strings are counted before they are allocated: a small dictionary of long
            // strings must not make a few bytes of codes ask for terabytes.
            var expandedBytes = 0
            if dictCount > 0 {
                for code in codes {
                    expandedBytes += Int(dictionary.offsets[Int(code) + 1] - dictionary.offsets[Int(code)])
                    guard expandedBytes <= FormatLimits.blockSizeBytesMax else {
                        throw FormatError("the dictionary's strings expand past \(FormatLimits.blockSizeBytesMax) bytes")
                    }
                }
            }
            var result = StringArray()
            result.reserveCapacity(count: rowCount, bytes: expandedBytes)
            for code in codes {
                if dictCount == 0 {
                    result.append([])
                } else {
                    let start = Int(dictionary.offsets[Int(code)])
                    let end = Int(dictionary.offsets[Int(code) + 1])
                    result.bytes.append(contentsOf: dictionary.bytes[start..<end])
                    result.offsets.append(UInt32(result.bytes.count))
                }
            }
            return result
        default:
            throw FormatError("encoding \(encoding) does not apply to strings")
        }
    }

    /// `u32 offsets[count + 1]` then the bytes; offsets must start at 0 and never decrease.
    static func readStrings(_ reader: inout ByteReader, count: Int, what: String) throws -> StringArray {
        let offsetBytes = try reader.slice(4 * (count + 1), "\(what) offsets")
        var offsets = [UInt32](repeating: 0, count: count + 1)
        for index in 0...count {
            offsets[index] = UInt32(littleEndian: offsetBytes.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self))
        }
        guard offsets[0] == 0 else { throw FormatError("\(what) offsets must start at 0") }
        for index in 0..<count where offsets[index + 1] < offsets[index] {
            throw FormatError("\(what) offsets decrease at \(index)")
        }
        let bytes = try reader.slice(Int(offsets[count]), "\(what) bytes")
        var result = StringArray()
        result.offsets = offsets
        result.bytes = Array(bytes)
        return result
    }
}
