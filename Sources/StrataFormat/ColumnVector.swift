/// Variable-length byte strings stored contiguously: value i is `bytes[offsets[i]..<offsets[i+1]]`.
public struct StringArray: Equatable, Sendable {
    public var offsets: [UInt32]
    public var bytes: [UInt8]

    public init() {
        offsets = [0]
        bytes = []
    }

    public init(_ strings: [String]) {
        self.init()
        for string in strings { append(Array(string.utf8)) }
    }

    public var count: Int { offsets.count - 1 }

    public mutating func append(_ value: UnsafeRawBufferPointer) {
        bytes.append(contentsOf: value)
        offsets.append(UInt32(bytes.count))
    }

    public mutating func append(_ value: [UInt8]) {
        value.withUnsafeBytes { append($0) }
    }

    public mutating func reserveCapacity(count: Int, bytes byteCount: Int) {
        offsets.reserveCapacity(count + 1)
        bytes.reserveCapacity(byteCount)
    }

    public subscript(index: Int) -> ArraySlice<UInt8> {
        bytes[Int(offsets[index])..<Int(offsets[index + 1])]
    }

    public func string(at index: Int) -> String {
        String(decoding: self[index], as: UTF8.self)
    }

    public mutating func removeAll() {
        offsets.removeAll(keepingCapacity: true)
        offsets.append(0)
        bytes.removeAll(keepingCapacity: true)
    }
}

/// The values of one column in memory: integers in their i64 view, floats, or strings.
public enum ColumnValues: Equatable, Sendable {
    case integers([Int64])
    case floats([Double])
    case strings(StringArray)

    public var count: Int {
        switch self {
        case .integers(let values): values.count
        case .floats(let values): values.count
        case .strings(let values): values.count
        }
    }
}

/// Validity of rows: bit i set when row i is non-null (the on-disk bitmap layout of format-spec §4).
public struct Validity: Equatable, Sendable {
    public private(set) var bits: [UInt8]
    public private(set) var count: Int
    public private(set) var nullCount: Int

    public init() {
        bits = []
        count = 0
        nullCount = 0
    }

    public init(bits: [UInt8], count: Int) {
        self.bits = bits
        self.count = count
        var valid = 0
        for index in 0..<count where bits[index >> 3] & (1 << UInt8(index & 7)) != 0 { valid += 1 }
        nullCount = count - valid
    }

    public init(allValid count: Int) {
        self.init()
        for _ in 0..<count { append(true) }
    }

    @inline(__always) public func isValid(_ index: Int) -> Bool {
        bits[index >> 3] & (1 << UInt8(index & 7)) != 0
    }

    @inline(__always) public mutating func append(_ valid: Bool) {
        if count & 7 == 0 { bits.append(0) }
        if valid {
            bits[count >> 3] |= 1 << UInt8(count & 7)
        } else {
            nullCount += 1
        }
        count += 1
    }

    public mutating func removeAll() {
        bits.removeAll(keepingCapacity: true)
        count = 0
        nullCount = 0
    }
}

/// One column's rows in memory: what a chunk encodes from and decodes to.
public struct ColumnVector: Equatable, Sendable {
    public var type: LogicalType
    public var values: ColumnValues
    /// nil when no row is null.
    public var validity: Validity?

    public init(type: LogicalType, values: ColumnValues, validity: Validity? = nil) {
        self.type = type
        self.values = values
        self.validity = validity.flatMap { $0.nullCount == 0 ? nil : $0 }
    }

    public var count: Int { values.count }
    public var nullCount: Int { validity?.nullCount ?? 0 }

    public func isNull(_ index: Int) -> Bool { validity.map { !$0.isValid(index) } ?? false }
}
