import Foundation
import StrataTestSupport
import Testing
@testable import StrataFormat
@testable import StrataStorage


let eventSchema = [
    ColumnSchema(name: "msno", type: .entity, nullable: false),
    ColumnSchema(name: "day", type: .date, nullable: false),
    ColumnSchema(name: "amount", type: .float64, nullable: true),
    ColumnSchema(name: "note", type: .string, nullable: true),
]

/// Writes one commit of `rows` events into month `partition` of table `events`.
@discardableResult
func commitEvents(_ store: String, partition: Int, days: [Int64], users: [String]) throws -> Manifest {
    let writer = try StoreWriter(path: store)
    try writer.ensureTable("events", columns: eventSchema, partitionColumn: "day", partitioning: .month)
    let ids: [Int64] = users.map { user in
        var bytes = Array(user.utf8)
        return Int64(bytes.withUnsafeMutableBytes { writer.entities.id(for: UnsafeRawBufferPointer($0)) })
    }
    var validity = Validity()
    for index in days.indices { validity.append(index % 4 != 0) }
    let columns = [
        ColumnVector(type: .entity, values: .integers(ids)),
        ColumnVector(type: .date, values: .integers(days)),
        ColumnVector(type: .float64, values: .floats(days.map { Double($0) / 4 }), validity: validity),
        ColumnVector(type: .string, values: .strings(StringArray(days.map { "n\($0 % 3)" })), validity: validity),
    ]
    try writer.writeSegment(table: "events", partition: partition, columns: columns, policy: .auto)
    return try writer.commit(operation: "test")
}

@Suite struct StoreTests {
    @Test func commitsAreVersionedAndOlderVersionsStayReadable() throws {
        let path = temporaryDirectory()
        try commitEvents(path, partition: 201701, days: Array(17167..<17197), users: (0..<30).map { "user\($0 % 7)" })
        let first = try tableCells(path, "events")
        try commitEvents(path, partition: 201702, days: Array(17198..<17220), users: (0..<22).map { "user\($0 % 11)" })
        let latest = try Store(path: path)
        #expect(latest.version == 2)
        #expect(try latest.table("events").rowCount == 52)
        #expect(latest.manifest.entities.count == 11)
        // Time travel: version 1 is unchanged by the second commit.
        #expect(try tableCells(path, "events", version: 1) == first)
        #expect(try tableCells(path, "events").prefix(30) == first[...])
        #expect(throws: StorageError.unknownVersion(requested: 3, latest: 2)) { try Store(path: path, version: 3) }
        let report = try Store.verify(path: path)
        #expect(report.isClean, "\(report.problems)")
        #expect(report.manifestsChecked == 2)
    }

    @Test func anUncommittedWriteIsInvisibleAndLeavesOnlyOrphans() throws {
        let path = temporaryDirectory()
        try commitEvents(path, partition: 201701, days: [17167, 17168], users: ["a", "b"])
        do {
            let writer = try StoreWriter(path: path)
            try writer.ensureTable("events", columns: eventSchema, partitionColumn: "day", partitioning: .month)
            try writer.writeSegment(table: "events", partition: 201702, columns: [
                ColumnVector(type: .entity, values: .integers([0])), ColumnVector(type: .date, values: .integers([17200])),
                ColumnVector(type: .float64, values: .floats([1])), ColumnVector(type: .string, values: .strings(StringArray(["x"]))),
            ], policy: .none)
            // A second writer is refused while the first holds the lock.
            #expect(throws: StorageError.locked(path: path)) { try StoreWriter(path: path) }
            writer.abort()
        }
        let store = try Store(path: path)
        #expect(store.version == 1)
        #expect(try store.table("events").rowCount == 2)
        #expect(try Store.verify(path: path).orphans.isEmpty, "abort removes its files")
    }

    @Test func schemaChangesAreRefused() throws {
        let path = temporaryDirectory()
        try commitEvents(path, partition: 201701, days: [17167], users: ["a"])
        let writer = try StoreWriter(path: path)
        #expect(throws: StorageError.self) {
            try writer.ensureTable("events", columns: Array(eventSchema.dropLast()), partitionColumn: "day", partitioning: .month)
        }
    }

    @Test func unknownTablesAndColumnsNameTheAlternatives() throws {
        let path = temporaryDirectory()
        try commitEvents(path, partition: 201701, days: [17167], users: ["a"])
        let store = try Store(path: path)
        #expect(throws: StorageError.unknownTable(name: "nope", available: ["events"])) { try store.table("nope") }
        #expect(throws: StorageError.unknownColumn(table: "events", name: "x", available: ["msno", "day", "amount", "note"])) {
            try TableScan(store: store, table: "events", columns: ["x"])
        }
        #expect(throws: StorageError.notAStore(path: path + "/missing")) { try Store(path: path + "/missing") }
    }

    @Test func dateRangeScansPrunePartitionsAndFilterRows() throws {
        let path = temporaryDirectory()
        try commitEvents(path, partition: 201701, days: Array(17167..<17198), users: (0..<31).map { "u\($0)" })
        try commitEvents(path, partition: 201702, days: Array(17198..<17226), users: (0..<28).map { "u\($0)" })
        let store = try Store(path: path)
        let scan = try TableScan(store: store, table: "events", columns: ["day"], dayRange: 17200...17205)
        var days: [Int64] = []
        while let batch = try scan.next() {
            guard case .integers(let values) = batch.columns[0].values else { Issue.record("kind"); return }
            days += values
        }
        #expect(days == Array(17200...17205))
        #expect(scan.segmentsPruned == 1)
    }
}

/// Flipping any byte of any committed file must be caught by verify and by reading the damaged data:
/// a clear error, never different values, never a crash.
@Suite struct CorruptionTests {
    @Test func everyFlippedByteIsCaught() throws {
        let path = temporaryDirectory()
        // Two commits into one month, then compacted: the files are those `strata compact` writes (one
        // clustered segment, a manifest entry with sortedBy) beside the versions before it.
        try commitEvents(path, partition: 201701, days: Array(17167..<17182), users: (0..<15).map { "user\(($0 * 7) % 15)" })
        try commitEvents(path, partition: 201701, days: Array(17182..<17197), users: (0..<15).map { "user\($0)" })
        let compacted = try Store.compact(path: path, table: "events")
        #expect(compacted.partitions.map(\.segmentsBefore) == [2] && compacted.committedVersion == 3)
        #expect(try Store(path: path).manifest.tables["events"]!.segments.map(\.sortedBy) == [["msno", "day"]])
        let pristine = try tableCells(path, "events")
        let files = try FileSystem.listDirectory(path + "/manifest").filter { $0.hasSuffix(".manifest") }.map { "manifest/" + $0 }
            + (try Store(path: path)).manifest.tables["events"]!.segments.map(\.file)
            + (try Store(path: path)).manifest.entities.segments.map(\.file)
        let latestManifest = files.filter { $0.hasPrefix("manifest/") }.max()!
        var random = TestRandom(state: 99)
        var flips = 0
        for file in files {
            let absolute = path + "/" + file
            let original = try FileSystem.readFile(absolute)
            // Every byte of small files, a random sample of larger ones.
            let offsets = original.count <= 2048 ? Array(0..<original.count) : (0..<600).map { _ in random.below(original.count) }
            for offset in offsets {
                var damaged = original
                damaged[offset] ^= UInt8(1 << random.below(8))
                try Data(damaged).write(to: URL(fileURLWithPath: absolute))
                let report = try Store.verify(path: path)
                #expect(!report.isClean, "verify missed a flip at \(file):\(offset)")
                do {
                    // Padding between blocks is covered by the file checksum (verify) but holds no data,
                    // so a read may succeed there; anywhere else it must fail.
                    // Older manifests are not read by a reader of the latest version.
                    let rows = try tableCells(path, "events")
                    #expect(rows == pristine, "wrong data read from a store damaged at \(file):\(offset)")
                    let padding = try isPadding(absolute, offset: offset, original: original)
                    #expect(file < latestManifest || padding, "read succeeded after damage at \(file):\(offset)")
                } catch is StorageError {
                    // The expected outcome: a typed error naming the file.
                }
                flips += 1
            }
            try Data(original).write(to: URL(fileURLWithPath: absolute))
        }
        #expect(flips > 1000)
        #expect(try tableCells(path, "events") == pristine)
        #expect(try Store.verify(path: path).isClean)
    }

    /// Whether `offset` of a segment lies outside the header, every block, the footer and the trailer.
    func isPadding(_ path: String, offset: Int, original: [UInt8]) throws -> Bool {
        guard path.hasSuffix(".seg") else { return false }
        let pristinePath = path + ".pristine"
        try Data(original).write(to: URL(fileURLWithPath: pristinePath))
        defer { try? FileSystem.remove(pristinePath) }
        let reader = try SegmentReader(path: pristinePath)
        if offset < SegmentHeader.encodedSizeBytes || offset >= Int(reader.trailer.footerOffset) { return false }
        return !reader.footer.chunks.contains { (Int($0.offset)..<(Int($0.offset) + Int($0.storedSizeBytes))).contains(offset) }
    }

    @Test func truncatedAndEmptySegmentsAreReported() throws {
        let path = temporaryDirectory()
        try commitEvents(path, partition: 201701, days: Array(17167..<17197), users: (0..<30).map { "user\($0)" })
        let file = path + "/" + (try Store(path: path)).manifest.tables["events"]!.segments[0].file
        let original = try FileSystem.readFile(file)
        for length in [0, 10, 64, original.count / 2, original.count - 1] {
            try Data(original.prefix(length)).write(to: URL(fileURLWithPath: file))
            let report = try Store.verify(path: path)
            #expect(report.problems.contains { $0.contains(file) }, "length \(length): \(report.problems)")
            #expect(throws: StorageError.self) { try tableCells(path, "events") }
        }
    }
}

/// A manifest that was rewritten with valid checksums but wrong facts (a buggy writer, or tampering)
/// must still be caught by verify: readers trust these facts to find entities and to skip data.
@Suite struct ManifestFactsTests {
    private func rewriteManifest(_ path: String, _ change: (inout Manifest) -> Void) throws {
        let file = path + "/manifest/" + StorePaths.zeroPadded(1, 12) + ".manifest"
        var manifest = try Manifest.decode(Array(try Data(contentsOf: URL(fileURLWithPath: file))), validate: false)
        change(&manifest)
        try Data(try manifest.encoded()).write(to: URL(fileURLWithPath: file))
    }

    @Test func verifyCatchesAWrongEntityCountAndRepeatedSegments() throws {
        let path = temporaryDirectory()
        try commitEvents(path, partition: 201701, days: [17167, 17168, 17169], users: ["a", "b", "c"])
        #expect(try Store.verify(path: path).isClean)

        try rewriteManifest(path) { $0.entities.count = 1 }
        #expect(try Store.verify(path: path).problems.contains { $0.contains("entity segments hold 3 ids, entities.count says 1") })
        #expect(throws: StorageError.self) { try EntityNames(store: try Store(path: path)) }

        try rewriteManifest(path) { manifest in
            manifest.entities.count = 3
            manifest.tables["events"]!.segments.append(manifest.tables["events"]!.segments[0])
        }
        #expect(try Store.verify(path: path).problems.contains { $0.contains("listed twice") })
    }
}

@Suite struct EntityDictionaryTests {
    /// Keys of every length around the 8-byte words the hash and the compare read, some repeated.
    static func keys(_ count: Int, seed: UInt64) -> [[UInt8]] {
        var random = TestRandom(state: seed)
        var distinct: [[UInt8]] = (0..<max(1, count / 3)).map { index in
            let length = [0, 1, 7, 8, 9, 15, 16, 17, 43, 44, 45][index % 11]
            return (0..<length).map { _ in UInt8(random.below(64) + 48) }
        }
        // Two keys that differ only in their last byte, and only in their first.
        distinct.append(Array("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH".utf8))
        distinct.append(Array("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGI".utf8))
        distinct.append(Array("bbcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH".utf8))
        return (0..<count).map { _ in distinct[random.below(distinct.count)] }
    }

    @Test func batchedIdsAreTheIdsOneByOne() {
        // 3,000 keys through a table that starts at 1,024 slots: it grows inside the batch, and keys met for the
        // first time within the prefetch window are found again a few keys later.
        let keys = Self.keys(3000, seed: 11)
        let oneByOne = EntityDictionary(capacity: 1)
        let expected = keys.map { key in key.withUnsafeBytes { oneByOne.id(for: $0) } }
        let batched = EntityDictionary(capacity: 1)
        var ids = [UInt32](repeating: .max, count: keys.count)
        let arena = keys.flatMap { $0 }
        var starts = [0]
        for key in keys { starts.append(starts.last! + key.count) }
        let hashes = keys.map { key in key.withUnsafeBytes { EntityDictionary.hash($0) } }
        arena.withUnsafeBytes { bytes in
            hashes.withUnsafeBufferPointer { hashes in
                ids.withUnsafeMutableBufferPointer { ids in
                    batched.ids(count: keys.count, hashes: hashes, key: { UnsafeRawBufferPointer(rebasing: bytes[starts[$0]..<starts[$0 + 1]]) }, into: ids)
                }
            }
        }
        #expect(ids == expected)
        #expect(batched.count == oneByOne.count)
        #expect((0..<batched.count).allSatisfy { batched.string($0) == oneByOne.string($0) })
        // The two near-twins are two users.
        #expect(batched.lookup("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH") != batched.lookup("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGI"))
    }

    @Test func aCommitOfManyNewUsersIsSplitIntoEntitySegmentsThatReadBack() throws {
        let store = temporaryDirectory()
        let users = (0..<1000).map { "user-\($0)-" + String(repeating: "x", count: $0 % 50) }
        let writer = try StoreWriter(path: store)
        writer.entitySegmentIdsMax = 300
        for user in users {
            var bytes = Array(user.utf8)
            _ = bytes.withUnsafeMutableBytes { writer.entities.id(for: UnsafeRawBufferPointer($0)) }
        }
        let manifest = try writer.commit(operation: "entities")
        #expect(manifest.entities.segments.map(\.firstId) == [0, 300, 600, 900])
        #expect(manifest.entities.segments.map(\.count) == [300, 300, 300, 100])
        #expect(manifest.entities.segments.map(\.file) == ["entities/e000000000001.seg", "entities/e000000000001-1.seg",
                                                           "entities/e000000000001-2.seg", "entities/e000000000001-3.seg"])
        let loaded = try Store(path: store).loadEntities()
        #expect((0..<users.count).map { loaded.string($0) } == users)
        #expect(loaded.lookup("user-999-" + String(repeating: "x", count: 999 % 50)) == 999)
        // A second commit continues the ids in a segment of its own.
        let second = try StoreWriter(path: store)
        var more = Array("newcomer".utf8)
        #expect(more.withUnsafeMutableBytes { second.entities.id(for: UnsafeRawBufferPointer($0)) } == 1000)
        #expect(try second.commit(operation: "entities").entities.segments.last?.file == "entities/e000000000002.seg")
        let report = try Store.verify(path: store)
        #expect(report.problems.isEmpty)
    }
}
