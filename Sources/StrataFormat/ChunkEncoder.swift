/// One column chunk ready to be written: stored (possibly compressed) bytes plus the metadata that goes
/// into its footer entry (format-spec §3.3).
public struct EncodedChunk: Sendable {
    public var stored: [UInt8]
    public var encodedSizeBytes: Int
    public var rowCount: Int
    public var nullCount: Int
    public var encoding: Encoding
    public var codec: Codec
    /// Zone map in the integer view (floats: their bit pattern); nil when absent.
    public var zone: (min: Int64, max: Int64)?
}

/// Turns a column chunk into bytes: analyse the values, pick the smallest encoding, then compress
/// when it pays (analyse → score → compress, per chunk; format-spec §4).
public enum ChunkEncoder {
    /// Encodes `rows` of `column`. `rows.lowerBound` must be a multiple of 8 so the validity bitmap
    /// slices on a byte boundary. `forcing` makes tests exercise every encoding (it must apply to the type).
    public static func encode(
        _ column: ColumnVector, rows: Range<Int>? = nil, forcing forced: Encoding? = nil, policy: CompressionPolicy = .auto
    ) -> EncodedChunk {
        let rows = rows ?? 0..<column.count
        precondition(rows.lowerBound % 8 == 0 && rows.upperBound <= column.count)
        precondition(forced.map { $0.applies(to: column.type) } ?? true, "encoding does not apply to this type")
        let rowCount = rows.count
        var writer = ByteWriter(capacity: rowCount * 9 + 64)
        var nullCount = 0
        var validRows: Validity?
        if let validity = column.validity {
            let sliced = sliceValidity(validity, rows: rows)
            if sliced.nullCount > 0 {
                nullCount = sliced.nullCount
                validRows = sliced
                writer.append(contentsOf: sliced.bits)
                writer.pad(toMultipleOf: 8)
            }
        }
        let valuesOrigin = writer.count
        let encoding: Encoding
        let zone: (min: Int64, max: Int64)?
        switch column.values {
        case .integers(let all):
            var values = Array(all[rows])
            zone = fillNulls(&values, validity: validRows)
            encoding = IntegerEncoder.encode(values, type: column.type, forcing: forced, into: &writer)
        case .floats(let all):
            var values = Array(all[rows])
            zone = fillNulls(&values, validity: validRows)
            encoding = FloatEncoder.encode(values, forcing: forced, into: &writer)
        case .strings(let all):
            zone = nil
            encoding = StringEncoder.encode(all, rows: rows, validity: validRows, forcing: forced, into: &writer)
        }
        precondition(writer.count >= valuesOrigin)
        let encoded = writer.bytes
        let (stored, codec) = compress(encoded, policy: policy)
        return EncodedChunk(
            stored: stored, encodedSizeBytes: encoded.count, rowCount: rowCount, nullCount: nullCount,
            encoding: encoding, codec: codec, zone: zone)
    }

    static func compress(_ encoded: [UInt8], policy: CompressionPolicy) -> ([UInt8], Codec) {
        encoded.withUnsafeBytes { raw in
            switch policy {
            case .none:
                return (encoded, .none)
            case .lz4:
                return (Compression.compress(raw, codec: .lz4)!, .lz4)
            case .zstd:
                return (Compression.compress(raw, codec: .zstd)!, .zstd)
            case .auto:
                // Tiny blocks never pay for a frame header.
                guard encoded.count >= 64, let packed = Compression.compress(raw, codec: .zstd),
                    packed.count <= encoded.count - encoded.count / 8
                else { return (encoded, .none) }
                return (packed, .zstd)
            }
        }
    }

    static func sliceValidity(_ validity: Validity, rows: Range<Int>) -> Validity {
        let firstByte = rows.lowerBound >> 3
        let byteCount = (rows.count + 7) >> 3
        var bits = Array(validity.bits[firstByte..<(firstByte + byteCount)])
        // Bits past the slice belong to later rows: clear them so the bitmap is canonical.
        if rows.count & 7 != 0, let last = bits.indices.last {
            bits[last] &= UInt8((1 << (rows.count & 7)) - 1)
        }
        return Validity(bits: bits, count: rows.count)
    }

    /// Replaces null slots by the smallest valid value (keeps bit widths small) and returns the zone map.
    static func fillNulls(_ values: inout [Int64], validity: Validity?) -> (min: Int64, max: Int64)? {
        // No nulls: the zone map alone, in a pass the compiler vectorises.
        guard let validity else { return values.minMax() }
        var low = Int64.max
        var high = Int64.min
        var any = false
        for index in values.indices where validity.isValid(index) {
            low = Swift.min(low, values[index])
            high = Swift.max(high, values[index])
            any = true
        }
        guard any else {
            for index in values.indices { values[index] = 0 }
            return nil
        }
        for index in values.indices where !validity.isValid(index) { values[index] = low }
        return (low, high)
    }

    /// Floats: null slots become the first valid value; zone map unless a NaN is present.
    static func fillNulls(_ values: inout [Double], validity: Validity?) -> (min: Int64, max: Int64)? {
        var low = Double.infinity
        var high = -Double.infinity
        var any = false
        var sawNaN = false
        var filler = 0.0
        for index in values.indices where validity?.isValid(index) ?? true {
            let value = values[index]
            if !any { filler = value }
            any = true
            if value.isNaN { sawNaN = true; continue }
            low = Swift.min(low, value)
            high = Swift.max(high, value)
        }
        if let validity {
            for index in values.indices where !validity.isValid(index) { values[index] = filler }
        }
        guard any, !sawNaN else { return nil }
        return (Int64(bitPattern: low.bitPattern), Int64(bitPattern: high.bitPattern))
    }
}
