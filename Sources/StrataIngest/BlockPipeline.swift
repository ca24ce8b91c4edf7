import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import StrataFormat
import StrataStorage

/// The rows of one block, parsed on a worker thread: grouped by partition, with entity columns still
/// holding references into `entityBytes`.
struct ParsedBlock: @unchecked Sendable {
    var partitions: [Int] = []
    var groups: [PartitionBuffer] = []
    /// Every accepted row in file order as `group << 32 | row in group`, to give entity ids in order.
    var rowOrder: [UInt64] = []
    var entityBytes: [UInt8] = []
    /// The entity references (`offset << 16 | length` into `entityBytes`) of every accepted row's non-NULL
    /// entity columns, in file order (row by row, column by column), and their dictionary hashes: computed
    /// here, on the parsing threads, so that the merge only looks them up.
    var entityReferences: [Int64] = []
    var entityHashes: [UInt64] = []
    /// Rejected lines, numbered from 1 at the block's first line.
    var rejects: [RejectedLine] = []
    var lineCount = 0
    var byteCount = 0
    /// CRC-32C of the block's bytes: the file's checksum is combined from them (duplicate-file detection).
    var crc: UInt32 = 0

    /// Calls `body` with every accepted row's non-NULL fields of `columns`, in file order, row by row and
    /// column by column: the order the merge gives entity ids in.
    func forEachEntityField(_ columns: [Int], _ body: (PartitionBuffer, _ row: Int, _ column: Int) -> Void) {
        guard var group = groups.first else { return }
        var groupIndex = 0
        for order in rowOrder {
            if Int(order >> 32) != groupIndex {
                groupIndex = Int(order >> 32)
                group = groups[groupIndex]
            }
            let row = Int(order & 0xFFFF_FFFF)
            for column in columns where !group.isNull(column: column, row: row) { body(group, row, column) }
        }
    }
}

enum BlockParser {
    /// Parses every record of `block`. Runs concurrently with other blocks: it touches nothing shared.
    static func parse(_ block: RecordBlock, spec: TableSpec, file: String) -> ParsedBlock {
        var state = State(spec: spec, file: file)
        state.parsed.byteCount = block.bytes.count
        let bytes = UnsafeRawBufferPointer(block.bytes)
        state.parsed.crc = Checksum.crc32c(bytes)
        if bytes.count > 0, memchr(bytes.baseAddress!, Int32(UInt8(ascii: "\"")), bytes.count) == nil {
            parseUnquoted(block, &state)
        } else {
            parseGeneral(CSVReader(block: block.bytes, path: file), &state, lineOffset: 0)
            state.parsed.lineCount = state.linesConsumed
        }
        state.parsed.entityBytes = state.parser.entityBytes
        hashEntities(&state.parsed, entityColumns: spec.columns.indices.filter { spec.columns[$0].schema.type == .entity })
        return state.parsed
    }

    /// Fills `entityReferences` and `entityHashes` in the order the merge gives ids.
    static func hashEntities(_ parsed: inout ParsedBlock, entityColumns: [Int]) {
        guard !entityColumns.isEmpty else { return }
        var references: [Int64] = []
        var hashes: [UInt64] = []
        references.reserveCapacity(parsed.rowOrder.count * entityColumns.count)
        hashes.reserveCapacity(parsed.rowOrder.count * entityColumns.count)
        parsed.entityBytes.withUnsafeBytes { bytes in
            parsed.forEachEntityField(entityColumns) { group, row, column in
                let reference = group.integer(column: column, row: row)
                let offset = Int(reference >> 16)
                references.append(reference)
                hashes.append(EntityDictionary.hash(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + Int(reference & 0xFFFF))])))
            }
        }
        parsed.entityReferences = references
        parsed.entityHashes = hashes
    }

    struct State {
        var parser: RowParser
        var parsed = ParsedBlock()
        let spec: TableSpec
        var groupOfPartition: [Int: Int] = [:]
        var lastPartition = Int.min
        var lastGroup = 0
        var linesConsumed = 0
        /// The group of `lastPartition` and the parser's row, without reference counting per row (a tenth of
        /// the parse's time): `parsed.groups` and `parser` keep them alive.
        var lastBuffer: Unmanaged<PartitionBuffer>
        let row: Unmanaged<RowValues>
        /// Holds `lastBuffer` until the first row names a partition.
        private let placeholder: PartitionBuffer

        init(spec: TableSpec, file: String) {
            self.spec = spec
            parser = RowParser(spec: spec, file: file)
            row = .passUnretained(parser.row)
            placeholder = PartitionBuffer(partition: 0, schemas: [], capacity: 0)
            lastBuffer = .passUnretained(placeholder)
        }

        /// Appends the parser's current row to the group of `partition`.
        @inline(__always) mutating func accept(partition: Int) {
            if partition != lastPartition {
                lastPartition = partition
                if let group = groupOfPartition[partition] {
                    lastGroup = group
                } else {
                    lastGroup = parsed.groups.count
                    groupOfPartition[partition] = lastGroup
                    parsed.partitions.append(partition)
                    parsed.groups.append(PartitionBuffer(partition: partition, schemas: spec.schemas, capacity: 1 << 16))
                }
                lastBuffer = .passUnretained(parsed.groups[lastGroup])
            }
            lastBuffer._withUnsafeGuaranteedRef { buffer in
                parsed.rowOrder.append(UInt64(lastGroup) << 32 | UInt64(buffer.rowCount))
                row._withUnsafeGuaranteedRef { buffer.append($0) }
            }
        }
    }

    /// Line by line with the one-pass parser; a line it cannot take goes through the general parser.
    static func parseUnquoted(_ block: RecordBlock, _ state: inout State) {
        let bytes = UnsafeRawBufferPointer(block.bytes)
        let count = bytes.count
        var position = 0
        var line = 0
        while position < count {
            let remaining = count - position
            let newline = memchr(bytes.baseAddress! + position, Int32(UInt8(ascii: "\n")), remaining)
            let lineEnd = newline.map { $0 - UnsafeMutableRawPointer(mutating: bytes.baseAddress!) } ?? count
            line += 1
            var contentEnd = lineEnd
            if contentEnd > position && bytes[contentEnd - 1] == UInt8(ascii: "\r") { contentEnd -= 1 }
            if contentEnd > position {
                if let partition = state.parser.parseUnquoted(bytes, start: position, end: contentEnd) {
                    state.accept(partition: partition)
                } else {
                    let lineBytes = UnsafeMutableRawBufferPointer(rebasing: block.bytes[position..<min(count, lineEnd + 1)])
                    parseGeneral(CSVReader(block: lineBytes, path: state.parser.file), &state, lineOffset: line - 1)
                }
            }
            position = lineEnd + 1
        }
        state.parsed.lineCount = newlineCount(bytes, lines: line)
    }

    /// Lines ended by a newline: every line but possibly the last of the file.
    static func newlineCount(_ bytes: UnsafeRawBufferPointer, lines: Int) -> Int {
        bytes.last == UInt8(ascii: "\n") ? lines : max(0, lines - 1)
    }

    /// Every record of `reader`, quote-aware; reject lines are numbered from the block's start.
    static func parseGeneral(_ reader: CSVReader, _ state: inout State, lineOffset: Int) {
        do {
            while try reader.next() {
                if reader.isBlankRecord { continue }
                switch state.parser.parse(reader) {
                case .success(let partition):
                    state.accept(partition: partition)
                case .failure(var reject):
                    reject.line += lineOffset
                    state.parsed.rejects.append(reject)
                }
            }
        } catch {
            // A block holds whole records in memory: reading it cannot fail.
            preconditionFailure("parsing an in-memory block failed: \(error)")
        }
        state.linesConsumed = reader.linesConsumed
    }
}

/// Merges parsed blocks in file order: numbers reject lines, gives entity ids in order of first
/// appearance, and gathers rows into per-partition buffers that are flushed as segments.
final class BlockMerger {
    let spec: TableSpec
    let file: String
    let writer: StoreWriter
    let flusher: SegmentFlusher
    let options: IngestOptions
    let progress: (Int, Int) -> Void
    private let entityColumns: [Int]
    private var buffers: [Int: PartitionBuffer] = [:]
    private var bufferedRows = 0
    private var nextLine: Int
    private var bytesMerged = 0
    private(set) var rowsIngested = 0
    private(set) var rowsRejected = 0
    /// The first rejected lines of this file, for an error that refuses it.
    private(set) var firstRejects: [RejectedLine] = []
    /// CRC-32C of the file's bytes so far: the header's, then every merged block's.
    var crc: UInt32 = 0

    init(spec: TableSpec, file: String, writer: StoreWriter, flusher: SegmentFlusher, options: IngestOptions, firstLine: Int,
         progress: @escaping (Int, Int) -> Void) {
        self.spec = spec
        self.file = file
        self.writer = writer
        self.flusher = flusher
        self.options = options
        self.progress = progress
        nextLine = firstLine
        entityColumns = spec.columns.indices.filter { spec.columns[$0].schema.type == .entity }
    }

    func merge(_ block: ParsedBlock, rejects: inout RejectLog) throws {
        for var reject in block.rejects {
            reject.line += nextLine - 1
            if options.strict {
                throw IngestError.malformed(file: file, line: reject.line, column: reject.column, reason: reject.reason + " (--strict: nothing was ingested)")
            }
            rowsRejected += 1
            if firstRejects.count < 5 { firstRejects.append(reject) }
            try rejects.add(reject)
        }
        nextLine += block.lineCount
        resolveEntities(block)
        for (partition, group) in zip(block.partitions, block.groups) {
            // A segment that would pass its row limit is written first: the buffer never grows past the
            // limit (growing doubles its capacity, which held twice the rows in memory for a moment).
            if let pending = buffers[partition], pending.rowCount > 0, pending.rowCount + group.rowCount > options.segmentRowCountMax {
                try flush(pending)
            }
            let buffer = buffers[partition] ?? {
                let created = PartitionBuffer(partition: partition, schemas: spec.schemas)
                buffers[partition] = created
                return created
            }()
            buffer.append(contentsOf: group)
            bufferedRows += group.rowCount
            rowsIngested += group.rowCount
            if buffer.rowCount >= options.segmentRowCountMax { try flush(buffer) }
        }
        while bufferedRows >= options.bufferedRowCountMax, let largest = buffers.values.max(by: { $0.rowCount < $1.rowCount }) {
            try flush(largest)
        }
        bytesMerged += block.byteCount
        crc = Checksum.crc32cCombine(crc, block.crc, secondLength: block.byteCount)
        progress(bytesMerged, rowsIngested)
    }

    /// Entity references become ids, row by row in file order (the order `hashEntities` listed them in).
    private func resolveEntities(_ block: ParsedBlock) {
        guard !entityColumns.isEmpty else { return }
        let count = block.entityReferences.count
        var ids = [UInt32](repeating: 0, count: count)
        block.entityBytes.withUnsafeBytes { bytes in
            block.entityReferences.withUnsafeBufferPointer { references in
                block.entityHashes.withUnsafeBufferPointer { hashes in
                    ids.withUnsafeMutableBufferPointer { ids in
                        writer.entities.ids(count: count, hashes: hashes, key: { index in
                            let reference = references[index]
                            let offset = Int(reference >> 16)
                            return UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + Int(reference & 0xFFFF))])
                        }, into: ids)
                    }
                }
            }
        }
        var next = 0
        block.forEachEntityField(entityColumns) { group, row, column in
            group.setInteger(column: column, row: row, Int64(ids[next]))
            next += 1
        }
    }

    private func flush(_ buffer: PartitionBuffer) throws {
        bufferedRows -= buffer.rowCount
        // Dropping the buffer frees its capacity: a month that is done must not hold memory to the end.
        buffers[buffer.partition] = nil
        try flusher.enqueue(table: spec.name, partition: buffer.partition, columns: buffer.takeColumns(), policy: options.policy)
    }

    /// Flushes what is left, partition by partition.
    func finish() throws {
        for key in buffers.keys.sorted() where buffers[key]!.rowCount > 0 { try flush(buffers[key]!) }
    }
}

/// A value computed on a global queue; `wait()` blocks until it is there.
final class Future<Value>: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var value: Value?

    init(_ work: @escaping @Sendable () -> Value) {
        DispatchQueue.global().async {
            self.value = work()
            self.done.signal()
        }
    }

    func wait() -> Value {
        done.wait()
        return value!
    }
}

