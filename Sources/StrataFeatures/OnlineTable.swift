import Foundation
import StrataFormat
import StrataStorage

/// The online table file (format-spec §11): the feature vector of every entity as of one day, one
/// fixed-width row per entity id, so a lookup is one hash probe (msno → id) and one row read. The file is
/// an envelope (format-spec §14); its payload begins with a 48-byte header at offset 16, and every offset
/// in it counts from the start of the file.
enum OnlineLayout {
    static let magic: [UInt8] = Array("STRATONL".utf8)
    static let formatVersion: UInt16 = 2
    static let readerVersion: UInt16 = 2
    /// Envelope header and payload header: column entries start here.
    static let headerSizeBytes = 64
    static let columnEntrySizeBytes = 16

    static func validityWords(columnCount: Int) -> Int { (columnCount + 63) / 64 }

    /// Whether `bytes` are an online table of format 1 (a 64-byte header with its own CRC, a trailer ending
    /// in "STRATEND"), written before the shared envelope: derived data to materialise again, not damage.
    static func isFormat1(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 16 && bytes.starts(with: magic) && bytes.loadUnaligned(fromByteOffset: 8, as: UInt16.self).littleEndian == 1
            && bytes.suffix(8).elementsEqual("STRATEND".utf8)
    }

    static let format1Advice = "an online table of format 1, written by an older Strata: run strata features materialize again"

    /// The header and column entries of an online table, checked: the envelope (magic, CRC, versions),
    /// sizes that add up to the file without overflow, and agreement with the manifest entry.
    struct Parsed {
        var columnCount = 0
        var rowCount = 0
        var rowWidth = 0
        var asOfDay = 0
        var rowsOffset = 0
        var validityWords = 0
        var nameAreaOffset = 0
        var stringAreaOffset = 0
        var stringAreaSize = 0
        var schemas: [ColumnSchema] = []

        init(_ bytes: UnsafeRawBufferPointer, path: String, entry: OnlineTableEntry) throws {
            func corrupt(_ reason: String) -> StorageError { .corrupt(file: path, column: nil, chunk: nil, reason: reason) }
            // Format 1 (before the shared envelope): rebuilt, not read.
            if OnlineLayout.isFormat1(bytes) { throw StorageError.invalid("\(path): \(OnlineLayout.format1Advice)") }
            let opened = try Envelope.open(bytes, magic: magic, readerVersion: readerVersion, what: "online table")
            guard Envelope.storedCRC(bytes) == entry.fileCRC else { throw corrupt("online table checksum mismatch (not the file the manifest committed)") }
            guard opened.formatVersion >= 2 else { throw corrupt("online table format \(opened.formatVersion) is not readable") }
            var reader = ByteReader(bytes, offset: Envelope.headerSizeBytes)
            func size(_ value: UInt64, _ what: String) throws -> Int {
                guard let size = Int(exactly: value), size <= bytes.count else { throw corrupt("\(what) \(value) exceeds the file's \(bytes.count) bytes") }
                return size
            }
            columnCount = Int(try reader.read(UInt32.self, "column count"))
            guard try reader.read(UInt32.self, "reserved") == 0 else { throw corrupt("reserved header bytes are not zero") }
            let entityCount = try reader.read(UInt64.self, "entity count")
            rowWidth = Int(try reader.read(UInt32.self, "row width"))
            asOfDay = Int(try reader.read(Int32.self, "as-of day"))
            nameAreaOffset = try size(try reader.read(UInt64.self, "name area offset"), "name area offset")
            stringAreaOffset = try size(try reader.read(UInt64.self, "string area offset"), "string area offset")
            stringAreaSize = try size(try reader.read(UInt64.self, "string area size"), "string area size")
            guard entityCount == UInt64(entry.entityCount), asOfDay == entry.asOf else {
                throw corrupt("header says \(entityCount) entities as of day \(asOfDay); the manifest says \(entry.entityCount) as of \(entry.asOf)")
            }
            rowCount = entry.entityCount
            guard (1...FormatLimits.columnCountMax).contains(columnCount) else { throw corrupt("\(columnCount) columns (1...\(FormatLimits.columnCountMax) allowed)") }
            validityWords = OnlineLayout.validityWords(columnCount: columnCount)
            rowsOffset = OnlineLayout.rowsOffset(columnCount: columnCount)
            let (rowsSize, overflow) = rowWidth.multipliedReportingOverflow(by: rowCount)
            guard !overflow, rowWidth == OnlineLayout.rowWidthBytes(columnCount: columnCount), rowsOffset + rowsSize == nameAreaOffset,
                nameAreaOffset <= stringAreaOffset, stringAreaOffset + stringAreaSize == opened.payload.upperBound
            else { throw corrupt("online table layout does not add up") }
            reader.offset = headerSizeBytes
            for _ in 0..<columnCount {
                let nameOffset = Int(try reader.read(UInt32.self, "name offset"))
                let nameLength = Int(try reader.read(UInt16.self, "name length"))
                guard let type = LogicalType(rawValue: try reader.read(UInt8.self, "type")), type != .entity else { throw corrupt("unknown column type") }
                let flags = try reader.read(UInt8.self, "flags")
                guard flags <= 1 else { throw corrupt("unknown column flags \(flags)") }
                try reader.skipZeros(8, "reserved")
                guard nameLength > 0, nameAreaOffset + nameOffset + nameLength <= stringAreaOffset else { throw corrupt("column name out of bounds") }
                let name = String(decoding: bytes[(nameAreaOffset + nameOffset)..<(nameAreaOffset + nameOffset + nameLength)], as: UTF8.self)
                schemas.append(ColumnSchema(name: name, type: type, nullable: flags == 1))
            }
        }

        /// Every non-NULL string slot must point inside the string area.
        func checkStringSlots(_ bytes: UnsafeRawBufferPointer, path: String) throws {
            let stringColumns = schemas.indices.filter { schemas[$0].type == .string }
            guard !stringColumns.isEmpty else { return }
            for row in 0..<rowCount {
                let base = rowsOffset + row * rowWidth
                for column in stringColumns {
                    let word = bytes.loadUnaligned(fromByteOffset: base + 8 * (column / 64), as: UInt64.self).littleEndian
                    guard word & (1 << UInt64(column % 64)) != 0 else { continue }
                    let bits = bytes.loadUnaligned(fromByteOffset: base + 8 * (validityWords + column), as: UInt64.self).littleEndian
                    guard Int(bits >> 32) + Int(bits & 0xFFFF_FFFF) <= stringAreaSize else {
                        throw StorageError.corrupt(file: path, column: schemas[column].name, chunk: nil,
                                                   reason: "entity \(row)'s string points outside the string area")
                    }
                }
            }
        }
    }
    static func rowWidthBytes(columnCount: Int) -> Int { 8 * (validityWords(columnCount: columnCount) + columnCount) }
    static func rowsOffset(columnCount: Int) -> Int { (headerSizeBytes + columnEntrySizeBytes * columnCount + 63) / 64 * 64 }
}

/// Writes an online table from computed features (rows = entity ids 0..<count).
enum OnlineTableWriter {
    static func encode(matrix: FeatureMatrix, asOfDay: Int) -> [UInt8] {
        let columnCount = matrix.schemas.count
        let rowCount = matrix.rowCount
        let words = OnlineLayout.validityWords(columnCount: columnCount)
        let rowWidth = OnlineLayout.rowWidthBytes(columnCount: columnCount)
        let rowsOffset = OnlineLayout.rowsOffset(columnCount: columnCount)
        var names = ByteWriter()
        var strings = ByteWriter()
        var stringOffsets: [String: UInt64] = [:]
        var entries = ByteWriter()
        for schema in matrix.schemas {
            let name = Array(schema.name.utf8)
            entries.append(UInt32(names.count))
            entries.append(UInt16(name.count))
            entries.append(schema.type.rawValue)
            entries.append(UInt8(schema.nullable ? 1 : 0))
            entries.appendZeros(8)
            names.append(contentsOf: name)
        }
        var rows = [UInt8](repeating: 0, count: rowWidth * rowCount)
        rows.withUnsafeMutableBytes { raw in
            for row in 0..<rowCount {
                let base = row * rowWidth
                for column in 0..<columnCount {
                    let slot = base + 8 * (words + column)
                    let bits: UInt64
                    switch matrix.value(row: row, column: column) {
                    case .null: continue
                    case .integer(let value): bits = UInt64(bitPattern: value)
                    case .float(let value): bits = value.bitPattern
                    case .string(let value):
                        let offset: UInt64
                        if let known = stringOffsets[value] {
                            offset = known
                        } else {
                            offset = UInt64(strings.count)
                            stringOffsets[value] = offset
                            strings.append(contentsOf: Array(value.utf8))
                        }
                        bits = offset << 32 | UInt64(value.utf8.count)
                    }
                    raw.storeBytes(of: bits.littleEndian, toByteOffset: slot, as: UInt64.self)
                    let wordOffset = base + 8 * (column / 64)
                    let word = raw.load(fromByteOffset: wordOffset, as: UInt64.self) | (UInt64(1) << UInt64(column % 64)).littleEndian
                    raw.storeBytes(of: word, toByteOffset: wordOffset, as: UInt64.self)
                }
            }
        }
        let nameAreaOffset = rowsOffset + rows.count
        let stringAreaOffset = nameAreaOffset + names.count
        let payloadSize = stringAreaOffset + strings.count - Envelope.headerSizeBytes
        var file = ByteWriter(capacity: stringAreaOffset + strings.count + Envelope.trailerSizeBytes)
        file.append(contentsOf: Envelope.header(magic: OnlineLayout.magic, formatVersion: OnlineLayout.formatVersion,
                                                minReaderVersion: OnlineLayout.readerVersion, payloadSize: payloadSize))
        file.append(UInt32(columnCount))
        file.appendZeros(4)
        file.append(UInt64(rowCount))
        file.append(UInt32(rowWidth))
        file.append(Int32(asOfDay))
        file.append(UInt64(nameAreaOffset))
        file.append(UInt64(stringAreaOffset))
        file.append(UInt64(strings.count))
        precondition(file.count == OnlineLayout.headerSizeBytes)
        file.append(contentsOf: entries.bytes)
        file.pad(toMultipleOf: 64)
        precondition(file.count == rowsOffset)
        file.append(contentsOf: rows)
        file.append(contentsOf: names.bytes)
        file.append(contentsOf: strings.bytes)
        file.append(Checksum.crc32(file.bytes))
        return file.bytes
    }
}

/// A feature vector read from an online table: a view of one row, valid while its table is open.
public struct OnlineVector {
    let table: OnlineTable
    let rowOffset: Int

    public var count: Int { table.schemas.count }

    public func isNull(_ column: Int) -> Bool {
        let word = table.file.bytes.loadUnaligned(fromByteOffset: rowOffset + 8 * (column / 64), as: UInt64.self).littleEndian
        return word & (UInt64(1) << UInt64(column % 64)) == 0
    }

    /// The raw 8-byte slot of a non-null column (int64 value, f64 bits, or string offset/length).
    @inline(__always) public func slot(_ column: Int) -> UInt64 {
        table.file.bytes.loadUnaligned(fromByteOffset: rowOffset + 8 * (table.validityWords + column), as: UInt64.self).littleEndian
    }

    public func value(_ column: Int) -> FeatureValue {
        if isNull(column) { return .null }
        let bits = slot(column)
        switch table.schemas[column].type {
        case .float64: return .float(Double(bitPattern: bits))
        case .string:
            let start = table.stringAreaOffset + Int(bits >> 32)
            let bytes = table.file.bytes[start..<(start + Int(bits & 0xFFFF_FFFF))]
            return .string(String(decoding: bytes, as: UTF8.self))
        default: return .integer(Int64(bitPattern: bits))
        }
    }

    public var values: [FeatureValue] { (0..<count).map(value) }

    /// The row's validity words and slots as raw memory, for a reader of many columns (the mapping lives as
    /// long as the vector): no reference counting per column.
    @inline(__always) public func withRow<Result>(_ body: (_ validity: UnsafeRawPointer, _ slots: UnsafeRawPointer) throws -> Result) rethrows -> Result {
        let base = table.file.bytes.baseAddress! + rowOffset
        return try body(base, base + 8 * table.validityWords)
    }

    /// Copies the validity words and every slot of the row into `buffer` (at least `table.rowWidthBytes`
    /// bytes): the whole vector, fetched without allocating.
    @inline(__always) public func copyRow(into buffer: UnsafeMutableRawPointer) {
        buffer.copyMemory(from: table.file.bytes.baseAddress! + rowOffset, byteCount: table.rowWidth)
    }
}

/// An open online table: lookups by msno without allocation, in well under a microsecond.
public final class OnlineTable: @unchecked Sendable {
    public let schemas: [ColumnSchema]
    public let asOfDay: Int
    public let entry: OnlineTableEntry
    let file: MappedFile
    let entities: EntityDictionary
    let rowCount: Int
    let rowWidth: Int
    public var rowWidthBytes: Int { rowWidth }
    let rowsOffset: Int
    let validityWords: Int
    let stringAreaOffset: Int

    /// Opens the latest materialisation of `view` in `store`, checking every checksum of the file and
    /// every fact a lookup relies on (format-spec §11): the header against the manifest entry, the column
    /// schemas against the registered feature view, every string slot against the string area.
    public init(store: Store, view: String) throws {
        guard let entry = try store.manifest.section(OnlineCatalog.self).tables[view] else {
            throw FeaturePlanError(message: "feature view \(view) has no online table; run strata features materialize --db \(store.path) --as-of YYYYMMDD")
        }
        self.entry = entry
        let path = store.absolute(entry.file)
        file = try MappedFile(path: path)
        entities = try store.loadEntities()
        let layout: OnlineLayout.Parsed
        do {
            layout = try OnlineLayout.Parsed(file.bytes, path: path, entry: entry)
        } catch let error as FormatError {
            throw StorageError.from(error, file: path)
        }
        rowCount = layout.rowCount
        rowWidth = layout.rowWidth
        asOfDay = layout.asOfDay
        rowsOffset = layout.rowsOffset
        validityWords = layout.validityWords
        stringAreaOffset = layout.stringAreaOffset
        schemas = layout.schemas
        // The columns must be the ones the registered view computes: a type changed on disk would
        // otherwise reinterpret slots (a string's offset read as a float).
        let registered = try FeatureRegistry.load(store: store, name: view, version: entry.featureViewVersion)
        let expected = try FeaturePlan(view: registered.0, store: store).outputs.map { ColumnSchema(name: $0.name, type: $0.type, nullable: true) }
        guard schemas.map({ ColumnSchema(name: $0.name, type: $0.type, nullable: true) }) == expected else {
            throw StorageError.corrupt(file: path, column: nil, chunk: nil,
                                       reason: "its columns are not those of feature view \(view) v\(entry.featureViewVersion)")
        }
        try layout.checkStringSlots(file.bytes, path: path)
    }

    /// The vector of `msno`, or nil when the store has never seen it.
    @inline(__always) public func lookup(_ msno: String) -> OnlineVector? {
        guard let id = entities.lookup(msno), Int(id) < rowCount else { return nil }
        return OnlineVector(table: self, rowOffset: rowsOffset + Int(id) * rowWidth)
    }

    /// The same, for msno bytes (no String needed on the hot path).
    @inline(__always) public func lookup(_ msno: UnsafeRawBufferPointer) -> OnlineVector? {
        guard let id = entities.lookup(msno), Int(id) < rowCount else { return nil }
        return OnlineVector(table: self, rowOffset: rowsOffset + Int(id) * rowWidth)
    }
}

/// Materialisation: the latest feature vector of every entity as of a day, written as an online table.
public enum OnlineMaterializer {
    public struct Report: Sendable {
        public var entityCount: Int
        public var view: String
        public var featureViewVersion: Int
        public var committedVersion: Int
        public var sizeBytes: Int
        public var seconds: Double
    }

    /// Computes `view` (a file, or the registered view of that name) for every entity as of `asOfDay`
    /// with the same engine as training sets, so online and offline values are the same by construction.
    public static func materialize(storePath: String, featuresFile: String?, viewName: String?, asOfDay: Int, inclusive: Bool = false) throws -> Report {
        let started = Date()
        let writer = try StoreWriter(path: storePath, create: false)
        do {
            let store = try Store(path: storePath, version: writer.base.version)
            let view: FeatureView
            let registration: FeatureViewVersion
            if let featuresFile {
                view = try FeatureViewParser.parse(file: featuresFile)
                registration = try FeatureRegistry.register(view, sourceText: try String(contentsOfFile: featuresFile, encoding: .utf8), writer: writer).version
            } else {
                let names = try store.manifest.section(FeatureCatalog.self).views.keys.sorted()
                guard let name = viewName ?? (names.count == 1 ? names[0] : nil) else {
                    throw FeaturePlanError(message: "name the feature view with --view or --features (registered: \(names.joined(separator: ", ")))")
                }
                (view, registration) = try FeatureRegistry.load(store: store, name: name)
            }
            let plan = try FeaturePlan(view: view, store: store)
            let entityCount = store.manifest.entities.count
            let requests = FeatureRequests(entities: (0..<Int64(entityCount)).map { $0 }, cutoffs: Array(repeating: Int64(asOfDay), count: entityCount))
            let matrix = try PointInTimeEngine(plan: plan, store: store, inclusive: inclusive).compute(requests)
            let bytes = OnlineTableWriter.encode(matrix: matrix, asOfDay: asOfDay)
            let relative = "online/\(view.name)-\(Dates.yyyymmdd(dayNumber: asOfDay))-v\(StorePaths.zeroPadded(writer.newVersion, 12)).onl"
            try writer.writeFile(bytes, relativePath: relative)
            let crc = Envelope.storedCRC(bytes)
            var online = try writer.section(OnlineCatalog.self)
            online.tables[view.name] = OnlineTableEntry(
                file: relative, asOf: asOfDay, featureViewVersion: registration.version, storeVersion: store.version,
                entityCount: entityCount, sizeBytes: bytes.count, fileCRC: crc)
            try writer.setSection(online)
            let manifest = try writer.commit(operation: "features materialize \(view.name) as of \(ValueText.date(Int64(asOfDay), style: .iso))")
            return Report(entityCount: entityCount, view: view.name, featureViewVersion: registration.version, committedVersion: manifest.version,
                          sizeBytes: bytes.count, seconds: -started.timeIntervalSinceNow)
        } catch {
            writer.abort()
            throw error
        }
    }
}
