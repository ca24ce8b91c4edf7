import Foundation
import StrataTestSupport
import Testing
@testable import StrataFeatures
@testable import StrataFormat
@testable import StrataStorage
@testable import StrataTrain

/// Regressions of the "trust nothing" attack: ordinary commands that escaped or damaged the store, inputs
/// that crashed, and files forged with valid checksums that lied. Every forged file must be refused by
/// every reader with an error that names it, and reported by `strata verify`.

/// A small store with every kind of file: tables, a feature view, a training set, a run with a model in
/// production, and an online table. Built once; each test works on its own copy.
let hardeningBase: String = {
    let directory = temporaryDirectory("hardeningBase")
    let db = directory + "/db"
    let steps: [[String]] = [
        ["generate", "--out", directory + "/csv", "--members", "600", "--months", "6", "--start", "20160101", "--label-months", "3", "--seed", "5"],
        ["ingest", "--db", db] + ["members", "transactions", "user_logs", "labels"].map { directory + "/csv/\($0).csv" },
        ["training-set", "--db", db, "--features", packageRoot + "/fixtures/features/w1.yaml", "--labels", "labels", "--out", "train"],
        ["train", "--db", db, "--training-set", "train", "--rounds", "8", "--register", "churn"],
        ["models", "promote", "--db", db, "churn", "1", "--stage", "production"],
        ["features", "materialize", "--db", db, "--as-of", "20160601"],
    ]
    for step in steps {
        let outcome = try! strata(step)
        precondition(outcome.status == 0, "\(step): \(outcome.stderr)")
    }
    return db
}()

/// A fresh copy of the base store.
func hardeningStore(_ name: String = #function) throws -> String {
    let copy = temporaryDirectory(name) + "/db"
    try FileManager.default.copyItem(atPath: hardeningBase, toPath: copy)
    return copy
}

/// Rewrites the latest manifest (or every one from version `from`) in place with `change` applied
/// and valid checksums.
func forgeManifest(_ db: String, from first: Int? = nil, _ change: (inout Manifest) throws -> Void) throws {
    let latest = try StorePaths.versions(db).last!
    for version in (first ?? latest)...latest { try forgeManifest(db, version: version, change) }
}

func forgeManifest(_ db: String, version: Int, _ change: (inout Manifest) throws -> Void) throws {
    let file = db + "/manifest/" + StorePaths.zeroPadded(version, 12) + ".manifest"
    var manifest = try Manifest.decode(try FileSystem.readFile(file), validate: false)
    try change(&manifest)
    try Data(try manifest.encoded()).write(to: URL(fileURLWithPath: file))
}

/// Every column of a one-chunk segment, decoded.
func segmentColumns(_ path: String) throws -> (columns: [ColumnVector], descriptors: [ColumnDescriptor]) {
    let reader = try SegmentReader(path: path)
    precondition(reader.chunkCount == 1)
    return (try (0..<reader.columns.count).map { try reader.read(column: $0, chunk: 0) }, reader.columns)
}

/// Replaces segment `index` of `table` with `columns` (valid checksums) and points the manifest at it.
func forgeSegment(_ db: String, table: String, partition: Int? = nil, _ change: (inout [ColumnVector]) -> Void) throws {
    let store = try Store(path: db)
    let segments = try store.table(table).segments
    let index = partition.flatMap { key in segments.firstIndex { $0.partition == key } } ?? 0
    let entry = segments[index]
    let path = store.absolute(entry.file)
    var (columns, descriptors) = try segmentColumns(path)
    change(&columns)
    try FileSystem.remove(path)
    let written = try SegmentWriter.write(columns: columns, descriptors: descriptors, to: path, relativePath: entry.file, policy: .none)
    try forgeManifest(db) { manifest in
        manifest.tables[table]!.segments[index].fileCRC = written.fileCRC
        manifest.tables[table]!.segments[index].sizeBytes = written.sizeBytes
    }
}

/// Runs `command` with bash; returns its exit status.
func bash(_ command: String) throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = ["-c", command]
    try process.run()
    process.waitUntilExit()
    return process.terminationStatus
}

/// Expects `arguments` to fail with status 1, a message containing `text`, and no crash.
/// Expects the command to fail (status 1; 2 with `usage`) with `text` on stderr.
func expectRefused(_ arguments: [String], _ text: String, usage: Bool = false, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let outcome = try strata(arguments)
    #expect(outcome.status == (usage ? 2 : 1), "\(arguments.joined(separator: " ")): status \(outcome.status), \(outcome.stderr)", sourceLocation: sourceLocation)
    #expect(outcome.stderr.contains(text), "\(arguments.joined(separator: " ")): \(outcome.stderr)", sourceLocation: sourceLocation)
}

/// Expects `strata verify` to exit 1 with a problem containing `text`.
func expectVerifyReports(_ db: String, _ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let outcome = try strata(["verify", "--db", db])
    #expect(outcome.status == 1 && outcome.stdout.contains("DAMAGE") && outcome.stdout.contains(text), "\(outcome.stdout)\(outcome.stderr)", sourceLocation: sourceLocation)
}

let w1View = packageRoot + "/fixtures/features/w1.yaml"

@Suite(.serialized) struct HardeningTests {
    init() throws {
        try #require(FileManager.default.isExecutableFile(atPath: strataBinary), "build the CLI first: swift build (looked for \(strataBinary))")
    }

    // MARK: 1, 2, 4 — names, paths, source tables

    @Test func outputNamesNeverLeaveTheStoreOrBreakIt() throws {
        let db = try hardeningStore()
        let outside = (db as NSString).deletingLastPathComponent
        for name in ["", "./t", "../../x", "a/b", "..", ".", "t.x", "1abc", String(repeating: "a", count: 65)] {
            // A malformed name is a usage error (2), refused before the store is opened.
            try expectRefused(["training-set", "--db", db, "--features", w1View, "--labels", "labels", "--out", name], "is not a valid name", usage: true)
            try expectRefused(["predict", "--db", db, "--model", "churn@production", "--training-set", "train", "--out", name], "is not a valid name", usage: true)
        }
        try expectRefused(["train", "--db", db, "--training-set", "train", "--rounds", "2", "--register", "a/b"], "is not a valid name", usage: true)
        #expect(!FileManager.default.fileExists(atPath: outside + "/x"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: db + "/tables").sorted() == ["labels", "members", "train", "transactions", "user_logs"])
        let verified = try strata(["verify", "--db", db])
        #expect(verified.status == 0 && verified.stdout.contains("ok: no damage found") && !verified.stdout.contains("uncommitted"), "\(verified.stdout)")
        #expect(try strata(["gc", "--db", db]).stdout.contains("deleted 0 files no kept version uses"))
    }

    @Test func replaceNeverOverwritesSourceTablesWithoutForce() throws {
        let db = try hardeningStore()
        try expectRefused(["predict", "--db", db, "--model", "churn@production", "--training-set", "train", "--out", "user_logs", "--replace"], "holds ingested source data")
        try expectRefused(["training-set", "--db", db, "--features", w1View, "--labels", "labels", "--out", "labels", "--replace", "--force"], "is the label table")
        try expectRefused(["training-set", "--db", db, "--features", w1View, "--labels", "labels", "--out", "members", "--replace"], "holds ingested source data")
        // A derived table is replaced as asked; a source table only with --force.
        #expect(try strata(["training-set", "--db", db, "--features", w1View, "--labels", "labels", "--out", "train", "--replace"]).status == 0)
        let forced = try strata(["predict", "--db", db, "--model", "churn@production", "--training-set", "train", "--out", "members", "--replace", "--force"])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(try strata(["verify", "--db", db]).status == 0)
    }

    @Test func aForgedManifestPathOutsideTheStoreIsRefused() throws {
        let db = try hardeningStore()
        try forgeManifest(db) { $0.tables["train"]!.segments[0].file = "../../x.seg" }
        try expectRefused(["scan", "--db", db, "members", "--limit", "1"], "leaves the store")
        try expectVerifyReports(db, "leaves the store")
    }

    // MARK: 3 — limits at the point of writing

    @Test func featureViewsOverTheColumnLimitAreRefusedBeforeWriting() throws {
        let db = try hardeningStore()
        let file = temporaryDirectory() + "/wide.yaml"
        let days = (1...1001).map(String.init).joined(separator: ", ")
        try "name: wide\nentity: msno\nfeatures:\n  - window: {source: user_logs, time: date, days: [\(days)]}\n    aggregates: [{name: \"n_{days}\", function: count}]\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        try expectRefused(["training-set", "--db", db, "--features", file, "--labels", "labels", "--out", "wide"], "1001 features; a view computes at most 1000")
        try expectRefused(["features", "materialize", "--db", db, "--features", file, "--as-of", "20160601"], "at most 1000")
        #expect(try Store(path: db).version == 5, "nothing committed")
    }

    // MARK: 5, 6, 7 — crashes with no damage

    @Test func unknownMsnoAndExtremeDatesNeverCrash() throws {
        let db = try hardeningStore()
        for key in ["NOPE", ""] {
            try expectRefused(["features", "get", "--db", db, key, "--as-of", "20160815"], "unknown msno")
        }
        let yearZero = try strata(["features", "get", "--db", db, "x", "--as-of", "00000101"])
        #expect(yearZero.status != 0 && yearZero.stderr.contains("must be a date as YYYYMMDD or YYYY-MM-DD (years 0001-9999)"), "\(yearZero.stderr)")
        let msno = try String(contentsOfFile: (hardeningBase as NSString).deletingLastPathComponent + "/csv/members.csv", encoding: .utf8)
            .split(separator: "\n")[1].split(separator: ",")[0]
        let early = try strata(["features", "get", "--db", db, String(msno), "--as-of", "00010101", "--format", "csv"])
        #expect(early.status == 0 && early.stdout.contains(String(msno)), "\(early.stderr)")
        #expect(try strata(["features", "materialize", "--db", db, "--as-of", "1900-01-01"]).status == 0)
        #expect(try strata(["predict", "--db", db, "--model", "churn@production", "--as-of", "99991231", "--out", "late"]).status == 0)
        // A label at the first representable month: ingest accepts it, and training sets are built.
        let labels = temporaryDirectory() + "/labels.csv"
        try "msno,cutoff_date,is_churn\n\(msno),00010201,1\n".write(toFile: labels, atomically: true, encoding: .utf8)
        #expect(try strata(["ingest", "--db", db, "--table", "labels", labels]).status == 0)
        let built = try strata(["training-set", "--db", db, "--features", w1View, "--labels", "labels", "--out", "early"])
        #expect(built.status == 0, "\(built.stderr)")
    }

    @Test func deeplyNestedDerivedExpressionsAreRefused() throws {
        let db = try hardeningStore()
        for expression in [String(repeating: "-", count: 50_000) + "1", String(repeating: "(", count: 100_000) + "1" + String(repeating: ")", count: 100_000),
                           (0..<300).map { _ in "1" }.joined(separator: "+")] {
            let file = temporaryDirectory() + "/deep.yaml"
            try "name: deep\nentity: msno\nfeatures:\n  - derived: {name: d, expression: \"\(expression)\"}\n".write(toFile: file, atomically: true, encoding: .utf8)
            let outcome = try strata(["features", "apply", "--db", db, file])
            #expect(outcome.status == 1 && outcome.stderr.contains("deep.yaml"), "\(outcome.stderr.prefix(300))")
            #expect(["nests deeper than 256", "bytes long", "more than 256 operators"].contains { outcome.stderr.contains($0) }, "\(outcome.stderr.prefix(300))")
        }
        // YAML nested 100,000 deep: the parser's own bound, and a message of a few lines, not the file.
        let file = temporaryDirectory() + "/deep.yaml"
        try ("name: x\nentity: msno\nfeatures: " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "\n")
            .write(toFile: file, atomically: true, encoding: .utf8)
        let outcome = try strata(["features", "apply", "--db", db, file])
        #expect(outcome.status == 1 && outcome.stderr.contains("not valid YAML") && outcome.stderr.count < 2_000, "\(outcome.stderr.prefix(300))")
    }

    // MARK: 8 — entity ids that lie

    @Test func entityIdsBeyondTheDictionaryAreRefusedByEveryReader() throws {
        for (table, id) in [("user_logs", Int64(3000)), ("members", Int64(4_294_967_295)), ("labels", Int64(600))] {
            let db = try hardeningStore()
            // user_logs: a month every reader below needs (windows before 2016-06-01).
            try forgeSegment(db, table: table, partition: table == "user_logs" ? 201605 : nil) { columns in
                guard case .integers(var ids) = columns[0].values else { return }
                ids[0] = id
                columns[0] = ColumnVector(type: .entity, values: .integers(ids))
            }
            let message = "600 entities"
            let readers: [[String]] = [
                ["scan", "--db", db, table, "--limit", "100000000"], ["query", "--db", db, "SELECT count(*) FROM \(table) t LEFT JOIN members m USING (msno)"],
                ["training-set", "--db", db, "--features", w1View, "--labels", "labels", "--out", "again"],
                ["features", "materialize", "--db", db, "--as-of", "20160601"],
                ["features", "get", "--db", db, try EntityNames(store: try Store(path: db)).string(0), "--as-of", "20160515"],
                ["predict", "--db", db, "--model", "churn@production", "--as-of", "20160601", "--out", "p"],
            ]
            for arguments in readers where !(table == "labels" && ["features", "predict"].contains(arguments[0])) {
                let outcome = try strata(arguments)
                #expect(outcome.status == 1 && outcome.stderr.contains(message) && outcome.stderr.contains("entity id"),
                        "\(table) \(arguments[0]): \(outcome.status) \(outcome.stderr)")
            }
            try expectVerifyReports(db, "entit")
        }
    }

    /// A clustered segment whose rows are not in the order its manifest entry claims (valid checksums): no
    /// reader relies on the claim, so answers do not change; verify reports it; compact repairs it.
    @Test func aSegmentThatLiesAboutItsOrderIsReportedAndHarmless() throws {
        let db = try hardeningStore()
        let before = try strata(["scan", "--db", db, "train", "--format", "csv", "--limit", "100000000"]).stdout
        try #require(try Store(path: db).table("user_logs").segments.allSatisfy { $0.sortedBy == ["msno", "date"] })
        try forgeSegment(db, table: "user_logs", partition: 201605) { columns in
            let reversed = Array((0..<columns[0].count).reversed())
            columns = columns.map { $0.selecting(reversed) }
        }
        try expectVerifyReports(db, "out of the order (msno, date)")
        let rebuilt = try strata(["training-set", "--db", db, "--features", w1View, "--labels", "labels", "--out", "again"])
        #expect(rebuilt.status == 0, "\(rebuilt.stderr)")
        #expect(try strata(["scan", "--db", db, "again", "--format", "csv", "--limit", "100000000"]).stdout == before)
        let compacted = try strata(["compact", "--db", db, "user_logs", "--partition", "201605"])
        #expect(compacted.status == 0 && compacted.stdout.contains("201605: 1 segment → 1"), "\(compacted.stdout)\(compacted.stderr)")
        #expect(try strata(["gc", "--db", db, "--keep-versions", "1"]).status == 0)
        let report = try Store.verify(path: db)
        #expect(report.isClean, "\(report.problems)")
    }

    @Test func aDictionaryWithTwoIdsForOneMsnoIsReported() throws {
        let db = try hardeningStore()
        let store = try Store(path: db)
        let entry = store.manifest.entities.segments[0]
        let path = store.absolute(entry.file)
        var (columns, descriptors) = try segmentColumns(path)
        guard case .strings(let strings) = columns[0].values else { Issue.record("msno is not a string column"); return }
        var forged = StringArray()
        for row in 0..<strings.count { forged.append(Array(strings.string(at: row == 1 ? 0 : row).utf8)) }
        columns[0] = ColumnVector(type: .string, values: .strings(forged))
        try FileSystem.remove(path)
        let written = try SegmentWriter.write(columns: columns, descriptors: descriptors, to: path, relativePath: entry.file, policy: .none)
        try forgeManifest(db, from: 1) { manifest in
            manifest.entities.segments[0].fileCRC = written.fileCRC
            manifest.entities.segments[0].sizeBytes = written.sizeBytes
        }
        try expectVerifyReports(db, "entity ids 0 and 1 have the same msno")
    }

    // MARK: 9 — online tables that lie

    @Test func onlineTablesThatLieAreRefused() throws {
        // A string slot past the string area; a column type changed from string to float64.
        let forgeries: [(String, (inout [UInt8], OnlineLayout.Parsed) -> Void)] = [
            ("outside the string area", { bytes, layout in
                let gender = layout.schemas.firstIndex { $0.type == .string }!
                for row in 0..<layout.rowCount {
                    let slot = layout.rowsOffset + row * layout.rowWidth + 8 * (layout.validityWords + gender)
                    bytes.withUnsafeMutableBytes { $0.storeBytes(of: (UInt64(1) << 40 | 3).littleEndian, toByteOffset: slot, as: UInt64.self) }
                }
            }),
            ("are not those of feature view", { bytes, layout in
                let gender = layout.schemas.firstIndex { $0.type == .string }!
                bytes[64 + 16 * gender + 6] = LogicalType.float64.rawValue
            }),
        ]
        for (message, forge) in forgeries {
            let db = try hardeningStore()
            let store = try Store(path: db)
            let entry = store.manifest.online!["w1"]!
            let path = store.absolute(entry.file)
            var bytes = try FileSystem.readFile(path)
            let layout = try bytes.withUnsafeBytes { try OnlineLayout.Parsed($0, path: path, entry: entry) }
            forge(&bytes, layout)
            // Valid checksums again: the envelope's and the manifest's copy.
            let fileCRC = Envelope.storedCRC(bytes)
            let trailer = bytes.count - Envelope.trailerSizeBytes
            bytes.withUnsafeMutableBytes { $0.storeBytes(of: fileCRC.littleEndian, toByteOffset: trailer, as: UInt32.self) }
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            try forgeManifest(db) { $0.online!["w1"]!.fileCRC = fileCRC }
            let msno = try EntityNames(store: try Store(path: db)).string(0)
            try expectRefused(["features", "get", "--db", db, msno], message)
            try expectVerifyReports(db, message)
        }
    }

    // MARK: 10 — model files that lie

    @Test func modelFilesThatLieAreRefused() throws {
        let forgeries: [(String, (inout [String: Any]) -> Void)] = [
            ("splits on feature 999", { gbdt in gbdt.trees { $0["splitFeature"] = ($0["splitFeature"] as! [Int]).map { _ in 999 } } }),
            ("splits on feature -5", { gbdt in gbdt.trees { $0["splitFeature"] = ($0["splitFeature"] as! [Int]).map { _ in -5 } } }),
            ("points to node", { gbdt in gbdt.trees { var left = $0["left"] as! [Int]; left[0] = 0; $0["left"] = left } }),
            ("points to leaf", { gbdt in gbdt.trees { var left = $0["left"] as! [Int]; left[0] = -1000; $0["left"] = left } }),
            ("its arrays do not all describe", { gbdt in gbdt.trees { $0["leafValue"] = [0.5] } }),
            ("sends bins outside", { gbdt in gbdt.trees { tree in
                tree["isCategorical"] = (tree["isCategorical"] as! [Bool]).map { _ in true }
                tree["leftBins"] = (tree["leftBins"] as! [[Int]]).map { _ in [1_000_000] }
            } }),
            ("a numeric mapper with 0 bins", { gbdt in gbdt["mappers"] = (gbdt["mappers"] as! [[String: Any]]).map { var m = $0; m["upperBounds"] = [Double](); m["isCategorical"] = false; m["categories"] = [Double](); return m } }),
            ("the base score is nan", { gbdt in gbdt["baseScore"] = "nan" }),
            ("not a valid model: at gbdt.baseScore: expected Double", { gbdt in gbdt["baseScore"] = ["not", "a", "number"] }),
        ]
        for (message, forge) in forgeries {
            let db = try hardeningStore()
            let store = try Store(path: db)
            let run = store.manifest.runs![0]
            let path = store.absolute(run.modelFile)
            let bytes = try FileSystem.readFile(path)
            var payload = try JSONSerialization.jsonObject(with: Data(bytes[16..<(bytes.count - 4)])) as! [String: Any]
            var gbdt = payload["gbdt"] as! [String: Any]
            forge(&gbdt)
            payload["gbdt"] = gbdt
            let json = Array(try JSONSerialization.data(withJSONObject: payload))
            var writer = ByteWriter()
            writer.append(contentsOf: Array(bytes[0..<12]))
            writer.append(UInt32(json.count))
            writer.append(contentsOf: json)
            writer.append(Checksum.crc32(writer.bytes))
            try Data(writer.bytes).write(to: URL(fileURLWithPath: path))
            // Every version that lists the run (3: train, 4: promote, 5: materialize).
            try forgeManifest(db, from: 3) { $0.runs![0].modelFileCRC = ModelFile.storedCRC(writer.bytes) }
            try expectRefused(["predict", "--db", db, "--model", "churn@production", "--training-set", "train", "--out", "p"], message)
            #expect(!(try strata(["predict", "--db", db, "--model", "churn@production", "--training-set", "train", "--out", "p"]).stderr.contains("DecodingError")))
            try expectVerifyReports(db, message)
        }
    }

    @Test func aModelFileFromAnotherStoreIsRefused() throws {
        let db = try hardeningStore()
        let other = try hardeningStore("otherStore")
        #expect(try strata(["train", "--db", other, "--training-set", "train", "--rounds", "3", "--register", "churn"]).status == 0)
        let source = try Store(path: other)
        let target = try Store(path: db)
        try FileManager.default.removeItem(atPath: target.absolute(target.manifest.runs![0].modelFile))
        try FileManager.default.copyItem(atPath: source.absolute(source.manifest.runs![1].modelFile), toPath: target.absolute(target.manifest.runs![0].modelFile))
        try expectRefused(["predict", "--db", db, "--model", "churn@production", "--training-set", "train", "--out", "p"], "not the model file run run-000001 wrote")
        try expectVerifyReports(db, "not the model file")
    }

    @Test func runRecordsAreChecked() throws {
        let db = try hardeningStore()
        let store = try Store(path: db)
        let path = store.absolute(store.manifest.runs![0].file)
        var text = try String(contentsOfFile: path, encoding: .utf8)
        text = text.replacingOccurrences(of: "\"trainRows\" : ", with: "\"trainRows\" : 1")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        try expectRefused(["runs", "show", "--db", db, "run-000001"], "checksum differs from the manifest")
        try expectVerifyReports(db, "run record's checksum")
    }

    // MARK: 11 — manifests that lie

    @Test func manifestsThatLieAreRefusedBeforeAnythingIsAllocated() throws {
        let cases: [(String, (inout Manifest) -> Void)] = [
            ("entities.count 1099511627776", { $0.entities.count = 1 << 40 }),
            ("listed twice", { $0.tables["members"]!.segments.append($0.tables["members"]!.segments[0]) }),
            ("2 production versions", { manifest in
                manifest.models!["churn"]!.append(ModelVersionEntry(version: 2, runId: "run-000001", stage: "production", updatedAt: ""))
            }),
        ]
        for (message, change) in cases {
            let db = try hardeningStore()
            let msno = try EntityNames(store: try Store(path: db)).string(0)
            try forgeManifest(db, change)
            // Every reader opens the manifest first, and refuses it.
            for arguments in [
                ["scan", "--db", db, "members"], ["query", "--db", db, "SELECT count(*) FROM members"],
                ["training-set", "--db", db, "--features", w1View, "--labels", "labels", "--out", "again"],
                ["features", "get", "--db", db, msno], ["features", "get", "--db", db, msno, "--as-of", "20160501"],
                ["features", "materialize", "--db", db, "--as-of", "20160601"],
                ["train", "--db", db, "--training-set", "train", "--rounds", "2"],
                ["predict", "--db", db, "--model", "churn@production", "--training-set", "train", "--out", "p"],
            ] {
                try expectRefused(arguments, message)
            }
            try expectVerifyReports(db, message)
        }
    }

    // MARK: 11b — gc never deletes what it cannot prove is uncommitted

    @Test func gcDeletesNothingWhileAManifestCannotBeReadAndNothingOutsideItsDirectories() throws {
        let db = try hardeningStore()
        // A user's directory in the store, and a link from a data directory to a directory outside it.
        let outside = temporaryDirectory() + "/victim"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try "keep".write(toFile: outside + "/a.seg", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: db + "/notes", withIntermediateDirectories: true)
        try "keep".write(toFile: db + "/notes/readme.md", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: db + "/tables/evil", withDestinationPath: outside)
        // A real orphan, which gc must delete.
        try "x".write(toFile: db + "/tables/orphan.seg", atomically: true, encoding: .utf8)
        let gc = try strata(["gc", "--db", db])
        #expect(gc.status == 0 && gc.stdout.contains("deleted 1 files no kept version uses"), "\(gc.stdout) \(gc.stderr)")
        #expect(FileManager.default.fileExists(atPath: outside + "/a.seg") && FileManager.default.fileExists(atPath: db + "/notes/readme.md"))
        #expect(!FileManager.default.fileExists(atPath: db + "/tables/orphan.seg"))
        // A manifest that cannot be read: gc refuses and deletes nothing (its files would look uncommitted).
        let latest = try StorePaths.versions(db).last!
        let file = db + "/manifest/" + StorePaths.zeroPadded(latest, 12) + ".manifest"
        var bytes = try FileSystem.readFile(file)
        bytes[40] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        let before = try FileManager.default.subpathsOfDirectory(atPath: db).count
        try expectRefused(["gc", "--db", db], "gc deletes nothing while a manifest cannot be read")
        #expect(try FileManager.default.subpathsOfDirectory(atPath: db).count == before)
    }

    @Test func viewsThatSQLCouldNotReadOrColumnsCouldNotHoldAreRefused() throws {
        let db = try hardeningStore()
        let cases: [(String, String)] = [
            ("  - window: {source: user_logs, time: date, days: [7]}\n    aggregates:\n      - {name: n, function: count, filter: \"msno = 'x'\"}\n",
             "uses msno, the entity"),
            ("  - window: {source: user_logs, time: date, days: [7]}\n    aggregates:\n      - {name: Secs, function: sum, column: total_secs}\n      - {name: secs, function: count}\n",
             "differ only in case"),
            ("  - window: {source: user_logs, time: date, days: [7]}\n    aggregates:\n      - {name: x, function: sum, column: num_100, fill: 1e300}\n",
             "is not an integer that a int64 column holds"),
            ("  - window: {source: user_logs, time: date, days: [7]}\n    aggregates:\n      - {name: x, function: sum, column: num_100, fill: 0.5}\n",
             "is not an integer that a int64 column holds"),
            ("  - window: {source: user_logs, time: date, days: [7]}\n    aggregates:\n      - {name: d, function: max, column: date, fill: 1e15}\n",
             "is not a day number"),
            ("  - derived: {name: msno, expression: \"1\"}\n", "it is the entity column"),
            ("  - derived: {name: d, expression: \"cutoff\", round: 2}\n", "round applies to numbers only"),
        ]
        for (features, message) in cases {
            let file = temporaryDirectory() + "/view.yaml"
            try ("name: v\nentity: msno\nfeatures:\n" + features).write(toFile: file, atomically: true, encoding: .utf8)
            try expectRefused(["features", "apply", "--db", db, file], message)
        }
        // A runtime error of a window filter names the filter.
        let file = temporaryDirectory() + "/cast.yaml"
        try "name: v\nentity: msno\nfeatures:\n  - window: {source: user_logs, time: date, days: [7]}\n    aggregates:\n      - {name: n, function: count, filter: \"CAST('x' AS BIGINT) > 0\"}\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        try expectRefused(["training-set", "--db", db, "--features", file, "--labels", "labels", "--out", "t"], "window filter")
    }

    // MARK: 12 — feature-view files edited inside the store

    @Test func anEditedFeatureViewFileIsRefused() throws {
        let db = try hardeningStore()
        let store = try Store(path: db)
        let path = store.absolute(store.manifest.featureViews!["w1"]![0].file)
        let text = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "days: [7, 30, 90]", with: "days: [7, 30, 91]")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let message = "was changed after it was registered"
        try expectRefused(["features", "materialize", "--db", db, "--as-of", "20160601"], message)
        let msno = try EntityNames(store: store).string(0)
        try expectRefused(["features", "get", "--db", db, msno, "--as-of", "20160501"], message)
        try expectRefused(["predict", "--db", db, "--model", "churn@production", "--as-of", "20160601", "--out", "p"], message)
        try expectVerifyReports(db, message)
    }

    // MARK: 14 – 18 — wrong or unclear, but safe

    @Test func invalidUTF8IsRejectedAtIngestWithAReason() throws {
        let directory = temporaryDirectory()
        var bytes = Array("msno,city,bd,gender,registered_via,registration_init_time\n".utf8)
        bytes += Array("AAA\u{FF}".utf8.dropLast(2)) + [0xFF] + Array(",1,20,,7,20150101\n".utf8)
        bytes += [0x41, 0x42, 0xC3] + Array(",1,20,,7,20150101\n".utf8)
        bytes += Array("good,1,20,male,7,20150101\n".utf8)
        try Data(bytes).write(to: URL(fileURLWithPath: directory + "/members.csv"))
        let outcome = try strata(["ingest", "--db", directory + "/db", "--max-rejects", "2", directory + "/members.csv"])
        #expect(outcome.status == 0 && outcome.stdout.contains("1 rows, 2 rejected"), "\(outcome.stdout)\(outcome.stderr)")
        #expect(outcome.stderr.contains("not valid UTF-8 text"))
    }

    @Test func sqlDatesStayInRangeForConstantsAndColumns() throws {
        let db = try hardeningStore()
        try expectRefused(["query", "--db", db, "SELECT DATE '2017-01-01' + 100000000 FROM members LIMIT 1"], "date out of range")
        try expectRefused(["query", "--db", db, "SELECT registration_init_time + 100000000 FROM members LIMIT 1"], "date out of range")
    }

    @Test func aClosedPipeEndsQuietlyAndStreamsIngest() throws {
        let db = try hardeningStore()
        // Far more rows than a pipe buffers, so strata writes after head has gone.
        let errors = temporaryDirectory() + "/stderr"
        #expect(try bash("set -o pipefail; '\(strataBinary)' query --db '\(db)' 'SELECT * FROM user_logs' --format csv 2>'\(errors)' | head -1 >/dev/null") == 0)
        #expect(try String(contentsOfFile: errors, encoding: .utf8).isEmpty)

        let csv = (hardeningBase as NSString).deletingLastPathComponent + "/csv/members.csv"
        let fresh = temporaryDirectory() + "/db"
        #expect(try bash("cat '\(csv)' | '\(strataBinary)' ingest --db '\(fresh)' /dev/stdin") == 0)
        #expect(try strata(["query", "--db", fresh, "SELECT count(*) FROM members", "--format", "csv"]).stdout == "count(*)\n600\n")
        #expect(!FileManager.default.fileExists(atPath: fresh + "/tmp/stream-1-0.csv"))
    }

    @Test func modelReferencesAndGeneratorFlagsAreChecked() throws {
        let db = try hardeningStore()
        for reference in ["", "@", "@production", "churn@", "churn@@x", "churn@0", "churn@-1", "../x@1"] {
            try expectRefused(["predict", "--db", db, "--model", reference, "--training-set", "train", "--out", "p"], "must be NAME, NAME@STAGE")
        }
        let directory = temporaryDirectory()
        #expect(try strata(["generate", "--out", directory + "/a", "--start", "2016-01-01", "--members", "10", "--months", "2"]).status == 0)
        let late = try strata(["generate", "--out", directory + "/b", "--start", "99990101", "--members", "10", "--months", "2"])
        #expect(late.status != 0 && late.stderr.contains("--start must lie in the years 1900-9000"))
        for activity in ["0", "5", "nan", "-1"] {
            let wrong = try strata(["generate", "--out", directory + "/c", "--members", "10", "--months", "2", "--activity", activity])
            #expect(wrong.status != 0 && wrong.stderr.contains("--activity must be between 0.2 and 3"), "\(activity): \(wrong.stderr)")
        }
        for threads in ["0", "257", "-2"] {
            let wrong = try strata(["serve", "--db", db, "--threads", threads])
            #expect(wrong.status != 0 && wrong.stderr.contains("--threads must be 1 to 256"), "\(threads): \(wrong.stderr)")
        }
        let file = directory + "/early.yaml"
        try "name: early\nentity: msno\nfeatures:\n  - derived: {name: d, expression: \"x + 1\"}\n".write(toFile: file, atomically: true, encoding: .utf8)
        try expectRefused(["features", "apply", "--db", db, file], "unknown column 'x'")
    }

    @Test func messagesSayWhatToDo() throws {
        let db = try hardeningStore()
        let negative = try strata(["query", "--db", db, "SELECT 1 FROM members", "--memory-limit", "-1"])
        #expect(negative.status != 0 && negative.stderr.contains("--memory-limit must be between"), "\(negative.stderr)")
        // A newer minimum reader version is not damage.
        let store = try Store(path: db)
        let model = store.absolute(store.manifest.runs![0].modelFile)
        var bytes = try FileSystem.readFile(model)
        bytes[10] = 9
        bytes.replaceSubrange((bytes.count - 4)..., with: withUnsafeBytes(of: Checksum.crc32(Array(bytes[0..<(bytes.count - 4)])).littleEndian, Array.init))
        try Data(bytes).write(to: URL(fileURLWithPath: model))
        try forgeManifest(db) { $0.runs![0].modelFileCRC = nil }
        let newer = try strata(["predict", "--db", db, "--model", "churn@production", "--training-set", "train", "--out", "p"])
        #expect(newer.stderr.contains("needs reader version 9") && newer.stderr.contains("upgrade Strata") && !newer.stderr.contains("corruption"), "\(newer.stderr)")
        // A writer waits for another with --wait.
        let lock = try FileSystem.lockExclusive(db + "/LOCK", lockedError: .locked(path: db))
        try expectRefused(["features", "materialize", "--db", db, "--as-of", "20160601"], "pass --wait SECONDS")
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.5) { FileSystem.close(lock) }
        #expect(try strata(["features", "materialize", "--db", db, "--as-of", "20160601", "--wait", "10"]).status == 0)
    }
}

private extension Dictionary where Key == String, Value == Any {
    /// Applies `change` to every tree of a GBDT payload that has at least one split.
    mutating func trees(_ change: (inout [String: Any]) -> Void) {
        self["trees"] = (self["trees"] as! [[String: Any]]).map { tree in
            var tree = tree
            if !(tree["splitFeature"] as! [Int]).isEmpty { change(&tree) }
            return tree
        }
    }
}

/// The sections of the layers above storage as plain properties, so that forgeries read and write them
/// in place (`forgeManifest(db) { $0.runs![0].modelFileCRC = nil }`). Reading checks the section.
extension Manifest {
    var featureViews: [String: [FeatureViewVersion]]? {
        get { try! section(FeatureCatalog.self).views }
        set { try! setSection(FeatureCatalog(views: newValue ?? [:])) }
    }
    var online: [String: OnlineTableEntry]? {
        get { try! section(OnlineCatalog.self).tables }
        set { try! setSection(OnlineCatalog(tables: newValue ?? [:])) }
    }
    var runs: [RunEntry]? {
        get { try! section(RunLog.self).runs }
        set { try! setSection(RunLog(runs: newValue ?? [])) }
    }
    var models: [String: [ModelVersionEntry]]? {
        get { try! section(ModelCatalog.self).models }
        set { try! setSection(ModelCatalog(models: newValue ?? [:])) }
    }
}
