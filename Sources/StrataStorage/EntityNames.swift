import Foundation
import StrataFormat

/// The text of entity ids, decoded one chunk of an entity segment at a time on first use: printing ten
/// msno values reads one 64 Ki-string chunk, not the whole dictionary (about 300 MB at KKBox's 6.7 M
/// users). For msno → id lookups, load the `EntityDictionary` instead. Safe to use from several threads.
public final class EntityNames: @unchecked Sendable {
    private struct Chunk {
        let segment: Int
        let index: Int
        let firstId: Int
        let count: Int
    }

    private let store: Store
    private var readers: [SegmentReader?]
    private var chunks: [Chunk] = []
    private var decoded: [Int: StringArray] = [:]
    private let lock = NSLock()

    /// Opens the entity segments of the store's version (checked as `loadEntities` checks them).
    public init(store: Store) throws {
        self.store = store
        let segments = store.manifest.entities.segments
        readers = Array(repeating: nil, count: segments.count)
        var nextId = 0
        for (segmentIndex, segment) in segments.enumerated() {
            guard segment.firstId == nextId else {
                throw StorageError.corrupt(file: store.absolute(segment.file), column: nil, chunk: nil,
                                           reason: "entity segment starts at id \(segment.firstId), expected \(nextId)")
            }
            nextId += segment.count
            let reader = try SegmentReader(path: store.absolute(segment.file))
            guard reader.trailer.fileCRC == segment.fileCRC, reader.rowCount == segment.count,
                  reader.columns == [EntitySegmentSchema.descriptor] else {
                throw StorageError.corrupt(file: reader.path, column: nil, chunk: nil, reason: "entity segment does not match its manifest entry")
            }
            var firstId = segment.firstId
            for chunk in 0..<reader.chunkCount {
                let rowCount = Int(reader.footer.chunk(column: 0, chunk: chunk).rowCount)
                chunks.append(Chunk(segment: segmentIndex, index: chunk, firstId: firstId, count: rowCount))
                firstId += rowCount
            }
            readers[segmentIndex] = reader
        }
        guard nextId == store.manifest.entities.count else {
            throw StorageError.corrupt(file: store.path + "/entities", column: nil, chunk: nil,
                                       reason: "entity dictionary has \(nextId) ids, manifest says \(store.manifest.entities.count)")
        }
    }

    public var count: Int { store.manifest.entities.count }

    /// Calls `body` with the bytes of entity `id` (empty for an id the store does not have).
    public func withBytes<R>(of id: Int, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        guard id >= 0, id < count, let chunkIndex = chunkIndex(of: id) else { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        let strings = try self.strings(chunkIndex)
        let row = id - chunks[chunkIndex].firstId
        return try strings.bytes.withUnsafeBytes { raw in
            try body(UnsafeRawBufferPointer(rebasing: raw[Int(strings.offsets[row])..<Int(strings.offsets[row + 1])]))
        }
    }

    public func string(_ id: Int) throws -> String {
        try withBytes(of: id) { String(decoding: $0, as: UTF8.self) }
    }

    /// An immutable view of the text of `ids` (their chunks decoded now), read without locks: what a
    /// sort that compares msno millions of times needs.
    public func snapshot(of ids: [Int64]) throws -> EntityText {
        var needed = Set<Int>()
        for id in ids where id >= 0 && Int(id) < count {
            if let index = chunkIndex(of: Int(id)) { needed.insert(index) }
        }
        var decoded: [StringArray?] = Array(repeating: nil, count: chunks.count)
        for index in needed { decoded[index] = try strings(index) }
        return EntityText(firstIds: chunks.map(\.firstId), strings: decoded)
    }

    private func chunkIndex(of id: Int) -> Int? {
        var low = 0, high = chunks.count
        while low < high {
            let middle = (low + high) / 2
            if chunks[middle].firstId + chunks[middle].count <= id { low = middle + 1 } else { high = middle }
        }
        return low < chunks.count && chunks[low].firstId <= id ? low : nil
    }

    private func strings(_ chunkIndex: Int) throws -> StringArray {
        lock.lock()
        defer { lock.unlock() }
        if let strings = decoded[chunkIndex] { return strings }
        let chunk = chunks[chunkIndex]
        guard case .strings(let strings) = try readers[chunk.segment]!.read(column: 0, chunk: chunk.index).values else {
            preconditionFailure("entity column decoded as non-strings")
        }
        decoded[chunkIndex] = strings
        return strings
    }
}

/// Text of some entity ids, decoded ahead (see `EntityNames.snapshot(of:)`).
public struct EntityText: Sendable {
    let firstIds: [Int]
    let strings: [StringArray?]

    /// Calls `body` with the bytes of `id`; empty when the snapshot does not hold it.
    public func withBytes<R>(of id: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        var low = 0, high = firstIds.count
        while low < high {
            let middle = (low + high) / 2
            if firstIds[middle] <= id { low = middle + 1 } else { high = middle }
        }
        let chunk = low - 1
        guard chunk >= 0, let strings = strings[chunk], id - firstIds[chunk] < strings.count else {
            return body(UnsafeRawBufferPointer(start: nil, count: 0))
        }
        let row = id - firstIds[chunk]
        return strings.bytes.withUnsafeBytes { raw in
            body(UnsafeRawBufferPointer(rebasing: raw[Int(strings.offsets[row])..<Int(strings.offsets[row + 1])]))
        }
    }
}
