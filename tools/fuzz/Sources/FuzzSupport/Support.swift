import CFuzzShim
import Foundation
import StrataFeatures
import StrataFormat
import StrataIngest
import StrataStorage
import StrataTrain

#if canImport(Glibc)
import Glibc
#endif

/// Runs libFuzzer on `callback`. SwiftPM links an executable target's `main` to `<Target>_main`
/// (`--defsym main=<Target>_main`), so each target defines that symbol and calls this instead of
/// relying on libFuzzer's own `main`.
public func runLibFuzzer(
    _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt {
    var argc = argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return LLVMFuzzerRunDriver(&argc, &argv, callback)
}

/// The input as a byte array (libFuzzer may pass a null pointer for an empty input).
public func inputBytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    guard let data, size > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: size))
}

/// Something the harness itself could not do (not a finding in Strata): stop loudly.
public func harnessFailure(_ message: String, file: StaticString = #file, line: UInt = #line) -> Never {
    fputs("fuzz harness setup failed: \(message)\n", stderr)
    fflush(stderr)
    Glibc.abort()
}

/// Temporary files: one directory per process under $STRATA_FUZZ_TMP (tools/fuzz.sh sets it and removes it
/// afterwards), else /dev/shm, else the system temporary directory.
public enum Scratch {
    public static let directory: String = {
        let environment = ProcessInfo.processInfo.environment
        let parent = environment["STRATA_FUZZ_TMP"] ?? (FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory())
        let path = parent + "/strata-fuzz-\(getpid())"
        try? FileManager.default.removeItem(atPath: path)
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            harnessFailure("cannot create \(path): \(error)")
        }
        atexit { try? FileManager.default.removeItem(atPath: Scratch.directory) }
        return path
    }()

    public static func path(_ name: String) -> String { directory + "/" + name }

    /// Writes `bytes` to `path` (no fsync: these are throwaway files).
    public static func write(_ bytes: [UInt8], to path: String) {
        guard let file = fopen(path, "wb") else { harnessFailure("cannot write \(path)") }
        if !bytes.isEmpty { _ = bytes.withUnsafeBytes { fwrite($0.baseAddress!, 1, $0.count, file) } }
        fclose(file)
    }

    public static func remove(_ path: String) { try? FileManager.default.removeItem(atPath: path) }

    /// `cp -R`.
    public static func copyTree(_ from: String, to: String) {
        remove(to)
        do { try FileManager.default.copyItem(atPath: from, toPath: to) } catch { harnessFailure("cannot copy \(from) to \(to): \(error)") }
    }
}

/// The repository (for fixtures): $STRATA_ROOT, else four levels above this file.
public let repositoryRoot: String = {
    if let root = ProcessInfo.processInfo.environment["STRATA_ROOT"] { return root }
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<5 { url.deleteLastPathComponent() }  // Support.swift, FuzzSupport, Sources, fuzz, tools
    return url.path
}()

public let w1FeaturesFile = repositoryRoot + "/fixtures/features/w1.yaml"

/// A tiny store built once per process with the public API, the way the tests build theirs: a generated
/// dataset (60 members, 5 months, 3 label months) ingested in small segments, the W1 training set, a
/// GBDT and a logistic model registered as `churn` / `churn_lr`, and the W1 online table.
public final class FixtureStore: @unchecked Sendable {
    public static let shared = FixtureStore()

    public let path: String
    public let csvDirectory: String
    public let store: Store
    /// msno of every entity id, in id order.
    public let msnos: [String]
    public let trainingSet: String
    public let view: String
    public let asOfDay: Int

    private init() {
        let root = Scratch.path("fixture")
        let csvDirectory = root + "/csv"
        let path = root + "/store"
        let trainingSet = "train_w1"
        let view = "w1"
        self.csvDirectory = csvDirectory
        self.path = path
        guard let asOf = Dates.dayNumber(yyyymmdd: 20160501) else { harnessFailure("date") }
        asOfDay = asOf
        do {
            var options = GeneratorOptions()
            options.memberCount = 60
            options.start = 20160101
            options.monthCount = 5
            options.labelMonthCount = 3
            options.seed = 7
            var generator = DatasetGenerator(options: options)
            _ = try generator.generate(into: csvDirectory)
            var ingest = IngestOptions()
            ingest.segmentRowCountMax = 1500
            ingest.bufferedRowCountMax = 3000
            _ = try Ingester.ingest(
                store: path, files: ["members", "transactions", "user_logs", "labels"].map { csvDirectory + "/\($0).csv" }, options: ingest)
            _ = try TrainingSetBuilder.build(
                storePath: path, request: TrainingSetRequest(featuresFile: w1FeaturesFile, labelsTable: "labels", outputTable: trainingSet))
            var gbdt = TrainRequest(trainingSet: trainingSet)
            gbdt.parameters.rounds = 6
            gbdt.parameters.numLeaves = 6
            gbdt.parameters.minDataInLeaf = 3
            gbdt.parameters.threads = 1
            gbdt.register = "churn"
            _ = try TrainingRunner.run(storePath: path, request: gbdt)
            var logistic = TrainRequest(trainingSet: trainingSet)
            logistic.model = .logistic
            logistic.register = "churn_lr"
            _ = try TrainingRunner.run(storePath: path, request: logistic)
            _ = try OnlineMaterializer.materialize(storePath: path, featuresFile: nil, viewName: view, asOfDay: asOf)
            self.trainingSet = trainingSet
            self.view = view
            store = try Store(path: path)
            let entities = try store.loadEntities()
            msnos = (0..<entities.count).map { entities.string($0) }
        } catch {
            harnessFailure("building the fixture store at \(path): \(error)")
        }
    }

    /// A private copy of the store (for targets that rewrite files in it).
    public func copy(named name: String) -> String {
        let target = Scratch.path(name)
        Scratch.copyTree(path, to: target)
        return target
    }
}

// MARK: - Checksum fix-ups
//
// Every Strata file is guarded by CRC-32s, so a random mutation almost always stops at "checksum
// mismatch". The targets first feed the input as it is (that path must throw cleanly), then again with
// every checksum recomputed, so mutations reach the decoders behind the checks.

@inline(__always) func load32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
    UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
}

@inline(__always) func load64(_ bytes: [UInt8], _ offset: Int) -> UInt64 {
    UInt64(load32(bytes, offset)) | UInt64(load32(bytes, offset + 4)) << 32
}

@inline(__always) func store32(_ bytes: inout [UInt8], _ offset: Int, _ value: UInt32) {
    for index in 0..<4 { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(index))) }
}

func crc(_ bytes: [UInt8], _ range: Range<Int>) -> UInt32 {
    bytes.withUnsafeBytes { Checksum.crc32(UnsafeRawBufferPointer(rebasing: $0[range])) }
}

public enum Fixups {
    /// `MAGIC(8) u16 u16 u32 size, payload, u32 CRC` files (manifest, model): an input that starts with
    /// the magic gets its size and CRC recomputed; any other input becomes the payload of a new frame.
    public static func framed(_ input: [UInt8], magic: [UInt8]) -> [UInt8] {
        if input.count >= 20, Array(input[0..<8]) == magic {
            var bytes = input
            store32(&bytes, 12, UInt32(bytes.count - 20))
            store32(&bytes, bytes.count - 4, crc(bytes, 0..<(bytes.count - 4)))
            return bytes
        }
        var bytes = magic + [1, 0, 1, 0]
        let size = UInt32(truncatingIfNeeded: input.count)
        bytes += [UInt8(size & 0xFF), UInt8(size >> 8 & 0xFF), UInt8(size >> 16 & 0xFF), UInt8(size >> 24)]
        bytes += input
        bytes += [0, 0, 0, 0]
        store32(&bytes, bytes.count - 4, crc(bytes, 0..<(bytes.count - 4)))
        return bytes
    }

    /// A segment file with its header, block, footer, file and trailer checksums recomputed where the
    /// structure lets them be found. Returns the input unchanged when it is too short to be a segment.
    public static func segment(_ input: [UInt8]) -> [UInt8] {
        var bytes = input
        let headerSize = SegmentHeader.encodedSizeBytes
        let trailerSize = SegmentTrailer.encodedSizeBytes
        guard bytes.count >= headerSize + trailerSize else { return bytes }
        store32(&bytes, 60, crc(bytes, 0..<60))
        let trailerStart = bytes.count - trailerSize
        let footerOffset = load64(bytes, trailerStart)
        let footerSize = UInt64(load32(bytes, trailerStart + 8))
        if footerOffset <= UInt64(trailerStart), footerSize <= UInt64(trailerStart) - footerOffset {
            let footerStart = Int(footerOffset)
            let footerEnd = footerStart + Int(footerSize)
            // Block checksums live in the footer's chunk entries: recompute each one whose block is in the file.
            if footerSize >= 16 {
                let columnCount = Int(load32(bytes, footerStart))
                let chunkCount = Int(load32(bytes, footerStart + 4))
                let entriesStart = footerStart + 16 + 16 * min(columnCount, 1 << 20)
                let (entryCount, overflow) = columnCount.multipliedReportingOverflow(by: chunkCount)
                if !overflow {
                    var entry = entriesStart
                    var done = 0
                    while done < entryCount, entry + ChunkEntry.encodedSizeBytes <= footerEnd {
                        let offset = load64(bytes, entry)
                        let stored = UInt64(load32(bytes, entry + 8))
                        if offset <= UInt64(footerStart), stored <= UInt64(footerStart) - offset {
                            store32(&bytes, entry + 24, crc(bytes, Int(offset)..<Int(offset + stored)))
                        }
                        entry += ChunkEntry.encodedSizeBytes
                        done += 1
                    }
                }
            }
            store32(&bytes, trailerStart + 12, crc(bytes, footerStart..<footerEnd))
        }
        store32(&bytes, trailerStart + 16, crc(bytes, 0..<trailerStart))
        store32(&bytes, trailerStart + 20, crc(bytes, trailerStart..<(trailerStart + 20)))
        return bytes
    }

    /// An online table with its file CRC (16 bytes from the end) recomputed; returns the CRC.
    public static func online(_ input: [UInt8]) -> (bytes: [UInt8], crc: UInt32) {
        var bytes = input
        guard bytes.count >= 16 else { return (bytes, 0) }
        if bytes.count >= 64 { store32(&bytes, 60, crc(bytes, 0..<60)) }
        let value = crc(bytes, 0..<(bytes.count - 16))
        store32(&bytes, bytes.count - 16, value)
        return (bytes, value)
    }
}

/// Touches every value of a decoded column (so lazy or out-of-range data is actually read).
public func consume(_ vector: ColumnVector) -> Int {
    var sum = vector.count
    for row in 0..<vector.count where !vector.isNull(row) {
        switch vector.values {
        case .integers(let values): sum &+= Int(truncatingIfNeeded: values[row])
        case .floats(let values): sum &+= values[row].isNaN ? 1 : 0
        case .strings(let values): sum &+= values.string(at: row).utf8.count
        }
    }
    return sum
}

/// Sink for values the optimiser must not drop.
nonisolated(unsafe) public var blackHole = 0

/// Stands in for libFuzzer's pointer when it passes none (an empty input).
public let emptyInput = UnsafePointer<UInt8>(bitPattern: 1)!

// MARK: - Seed files

/// Writes seed files for the binary targets from the fixture store into `directory`/segment, /manifest,
/// /online and /model (tools/fuzz/make_corpus.sh calls this through `STRATA_FUZZ_EXPORT_SEEDS=DIR FuzzSegment`):
/// the store's own files, and the first segment of every table written again with each compression policy
/// and small chunks, so every encoding and codec the writer picks is in the corpus.
public func exportSeeds(to directory: String) throws {
    let fixture = FixtureStore.shared
    let store = fixture.store
    for kind in ["segment", "manifest", "online", "model", "csv"] {
        try FileManager.default.createDirectory(atPath: directory + "/" + kind, withIntermediateDirectories: true)
    }
    func copy(_ relative: String, _ kind: String, _ name: String) throws {
        Scratch.write(try FileSystem.readFile(store.absolute(relative)), to: "\(directory)/\(kind)/\(name)")
    }
    for (index, segment) in store.manifest.entities.segments.enumerated() { try copy(segment.file, "segment", "entities-\(index).seg") }
    for name in store.tableNames {
        let table = try store.table(name)
        guard let first = table.segments.first else { continue }
        try copy(first.file, "segment", "\(name).seg")
        let reader = try store.openSegment(first, of: table)
        var columns: [ColumnVector] = []
        for column in 0..<reader.columns.count {
            guard reader.chunkCount == 1 else { break }
            columns.append(try reader.read(column: column, chunk: 0))
        }
        guard columns.count == reader.columns.count else { continue }
        for (policy, chunkRows) in [(CompressionPolicy.none, 64), (.lz4, 64), (.zstd, 64), (.auto, 8)] {
            let target = "\(directory)/segment/\(name)-\(policy.rawValue)-\(chunkRows).seg"
            Scratch.remove(target)
            _ = try SegmentWriter.write(columns: columns, descriptors: reader.columns, to: target, relativePath: "x", policy: policy, chunkRowCount: chunkRows)
        }
    }
    for version in 1...store.version {
        let digits = String(version)
        try copy("manifest/" + String(repeating: "0", count: 12 - digits.count) + digits + ".manifest", "manifest", "v\(version).manifest")
    }
    // Heads of the generated CSV files (header and 30 rows).
    for name in ["members", "transactions", "user_logs", "labels"] {
        let text = try String(contentsOfFile: fixture.csvDirectory + "/\(name).csv", encoding: .utf8)
        let head = text.split(separator: "\n", omittingEmptySubsequences: false).prefix(31).joined(separator: "\n") + "\n"
        Scratch.write(Array(head.utf8), to: "\(directory)/csv/generated-\(name).csv")
    }
    for (name, entry) in try store.manifest.section(OnlineCatalog.self).tables { try copy(entry.file, "online", "\(name).onl") }
    for run in try store.manifest.section(RunLog.self).runs { try copy(run.modelFile, "model", "\(run.id).mdl") }
}

/// With STRATA_FUZZ_VERBOSE set, the targets say which step refused an input (to check seeds reach deep).
public let verbose = ProcessInfo.processInfo.environment["STRATA_FUZZ_VERBOSE"] != nil

public func note(_ message: @autoclosure () -> String) {
    if verbose { fputs("fuzz: \(message())\n", stderr) }
}
