/// Column types (format-spec §3.4). Raw values are the on-disk ids.
public enum LogicalType: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case int64 = 1
    case float64 = 2
    /// Days since 1970-01-01, i32 on disk.
    case date = 3
    case string = 4
    case bool = 5
    /// A dense u32 id from the store's entity dictionary (the msno of KKBox).
    case entity = 6

    public var name: String {
        switch self {
        case .int64: "int64"
        case .float64: "float64"
        case .date: "date"
        case .string: "string"
        case .bool: "bool"
        case .entity: "entity"
        }
    }

    public var description: String { name }

    public init?(name: String) {
        guard let type = LogicalType.allCases.first(where: { $0.name == name }) else { return nil }
        self = type
    }

    /// Width of one value in the PLAIN encoding; nil for strings.
    public var plainWidthBytes: Int? {
        switch self {
        case .int64, .float64: 8
        case .date, .entity: 4
        case .bool: 1
        case .string: nil
        }
    }

    /// Whether values travel as the i64 "integer view" in memory (everything but floats and strings).
    public var isIntegerLike: Bool { self != .float64 && self != .string }

    /// The values an integer-like column may hold; anything else decoded from disk is corruption.
    public var integerRange: ClosedRange<Int64>? {
        switch self {
        case .int64: Int64.min...Int64.max
        case .date: Int64(Int32.min)...Int64(Int32.max)
        case .entity: 0...Int64(UInt32.max)
        case .bool: 0...1
        case .float64, .string: nil
        }
    }
}

/// Value encodings (format-spec §4). Raw values are the on-disk ids.
public enum Encoding: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case plain = 0
    case bitpack = 1
    case delta = 2
    case rle = 3
    case dictionary = 4
    case decimal = 5

    public var description: String {
        switch self {
        case .plain: "plain"
        case .bitpack: "bitpack"
        case .delta: "delta"
        case .rle: "rle"
        case .dictionary: "dict"
        case .decimal: "decimal"
        }
    }

    public func applies(to type: LogicalType) -> Bool {
        switch self {
        case .plain: true
        case .bitpack, .rle: type.isIntegerLike
        case .delta: type.isIntegerLike && type != .bool
        case .dictionary: type == .string || (type.isIntegerLike && type != .bool)
        case .decimal: type == .float64
        }
    }
}

/// General-purpose compression over the encoded bytes (format-spec §5).
public enum Codec: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case none = 0
    case lz4 = 1
    case zstd = 2

    public var description: String {
        switch self {
        case .none: "none"
        case .lz4: "lz4"
        case .zstd: "zstd"
        }
    }
}

/// How a writer picks the codec of each chunk. Not part of the format: any reader accepts any codec.
public enum CompressionPolicy: String, Sendable, CaseIterable {
    /// Zstd when it saves at least 1/8 of the encoded bytes, otherwise none.
    case auto
    case lz4
    case zstd
    case none
}

/// Limits checked on decode so that a damaged length can never drive an allocation (format-spec §9).
public enum FormatLimits {
    public static let columnCountMax = 1024
    public static let chunkRowCountMax = 1 << 20
    /// Rows of one segment: far above any writer's (ingest writes 2^20), low enough that counts derived
    /// from it never overflow.
    public static let segmentRowCountMax = 1 << 40
    public static let blockSizeBytesMax = 256 << 20
    public static let columnNameBytesMax = 255
    public static let manifestPayloadBytesMax = 256 << 20
    public static let decimalExponentMax = 15
    /// Rows per chunk that writers use: large enough to amortise headers, small enough for zone maps.
    public static let defaultChunkRowCount = 65_536
}
