import Foundation
import StrataTestSupport
import Testing
@testable import StrataFeatures
@testable import StrataFormat
@testable import StrataIngest
@testable import StrataStorage

let w1Features = packageRoot + "/fixtures/features/w1.yaml"
let w1Fixtures = packageRoot + "/fixtures/w1"


/// A store holding the four CSVs of `directory`.
func makeStore(from directory: String, at store: String) throws {
    _ = try Ingester.ingest(store: store, files: kkboxTables.map { directory + "/\($0).csv" })
}

func header(_ store: String, _ table: String) throws -> [String] { try Store(path: store).table(table).columns.map(\.name) }

@discardableResult
func buildW1(_ store: String, out: String = "w1", inclusive: Bool = false, version: Int? = nil) throws -> TrainingSetReport {
    var request = TrainingSetRequest(featuresFile: w1Features, labelsTable: "labels", outputTable: out)
    request.inclusive = inclusive
    request.inputVersion = version
    return try TrainingSetBuilder.build(storePath: store, request: request)
}

/// A store of a small generated dataset (300 members, 5 months, 3 label months) with its W1 training set.
func generatedStoreWithW1(_ name: String = #function) throws -> (directory: String, store: String) {
    let generated = try generatedStore(members: 300, months: 5, labelMonths: 3, name: name)
    try buildW1(generated.store)
    return generated
}

func copyFixtures(to directory: String) throws {
    for name in kkboxTables {
        try FileManager.default.copyItem(atPath: w1Fixtures + "/\(name).csv", toPath: directory + "/\(name).csv")
    }
}

@Suite struct TrainingSetTests {
    @Test func w1HasTheColumnsOfDesignW1AndPinnedEdgeCases() throws {
        let store = temporaryDirectory() + "/db"
        try makeStore(from: w1Fixtures, at: store)
        let report = try buildW1(store)
        #expect(report.rowCount == 13)
        let names = try header(store, "w1")
        var expected = ["msno", "cutoff_date", "is_churn"]
        for days in [7, 30, 90] { expected += ["total_secs", "num_100", "num_25", "num_unq", "active_days"].map { "w\(days)_\($0)" } }
        expected += ["last_payment_method_id", "last_payment_plan_days", "last_plan_list_price", "last_actual_amount_paid", "last_is_auto_renew",
                     "last_is_cancel", "days_to_expire", "tx_count_365", "cancel_count_365", "city", "bd", "gender", "registered_via", "tenure_days"]
        #expect(names == expected)
        let rows = try tableCells(store, "w1")
        func row(_ user: String, _ cutoff: String) -> [String: String] {
            let found = rows.first { $0[0].hasPrefix(user) && $0[1] == cutoff }!
            return Dictionary(uniqueKeysWithValues: zip(names, found))
        }
        // Sorted by (cutoff, msno byte-wise): '+' < '/' < 'U' < 'u'.
        #expect(rows.map { String($0[0].prefix(5)) + "@" + $0[1] } == [
            "User7@20170105", "+plus@20170201", "/slas@20170201", "User1@20170201", "User1@20170201", "User2@20170201", "User5@20170201",
            "User6@20170201", "User8@20170201", "user3@20170201", "User1@20170301", "User4@20170301", "User5@20170501",
        ])
        let user1 = row("User1", "20170201")
        #expect(user1["w7_total_secs"] == String(8000.126))   // 1500.0005 twice (a duplicate row) + 5000.125; the cutoff day is out
        #expect(user1["w7_active_days"] == "3")
        #expect(user1["w90_active_days"] == "5")                // 2016-11-03 is exactly 90 days before: in; 11-02: out
        #expect(user1["last_payment_method_id"] == "41")        // the 2017-02-01 transaction is on the cutoff: not before it
        #expect(user1["days_to_expire"] == "-1")
        #expect(user1["tx_count_365"] == "3")
        #expect(row("User5", "20170201")["last_payment_method_id"] == "38")  // same day: the later expiry wins
        #expect(row("User6", "20170201")["last_payment_method_id"] == "31")  // full tie: the later row of the file wins
        let user7 = row("User7", "20170105")
        #expect(user7["w90_total_secs"] == String(100.003))     // the window crosses the year
        #expect(user7["tx_count_365"] == "2")
        #expect(user7["cancel_count_365"] == "1")
        let user8 = row("User8", "20170201")                    // no events at all
        #expect(user8["w30_active_days"] == "0" && user8["w30_total_secs"] == "NULL" && user8["tx_count_365"] == "0" && user8["cancel_count_365"] == "NULL")
        let user3 = row("user3", "20170201")                    // not a member
        #expect(user3["city"] == "NULL" && user3["tenure_days"] == "NULL")
        let user4 = row("User4", "20170301")                    // duplicated members row: the later one wins
        #expect(user4["city"] == "6" && user4["tenure_days"] == "2547")
        #expect(row("User2", "20170201")["tenure_days"] == "17")   // events before registration are kept
    }

    @Test func atOrBeforeSemanticsCountTheCutoffDay() throws {
        let store = temporaryDirectory() + "/db"
        try makeStore(from: w1Fixtures, at: store)
        try buildW1(store, inclusive: true)
        let names = try header(store, "w1")
        let row = try tableCells(store, "w1").first { $0[0].hasPrefix("User1") && $0[1] == "20170201" }!
        let values = Dictionary(uniqueKeysWithValues: zip(names, row))
        #expect(values["w7_num_100"] == String(34 + 99))
        #expect(values["last_payment_method_id"] == "40")
        #expect(try Store(path: store).table("w1").featureLineage()?.semantics == "at-or-before")
    }

    /// Moving one event from the day before a cutoff onto the cutoff changes exactly the cells it fed.
    @Test func movingOneEventAcrossTheCutoffChangesExactlyItsCells() throws {
        let directory = temporaryDirectory()
        try copyFixtures(to: directory)
        try makeStore(from: directory, at: directory + "/before")
        try buildW1(directory + "/before")
        let logs = directory + "/user_logs.csv"
        let text = try String(contentsOfFile: logs, encoding: .utf8)
        let moved = text.replacingOccurrences(of: ",20170131,0,0,0,1,20,15,5000.125", with: ",20170201,0,0,0,1,20,15,5000.125")
        #expect(moved != text)
        try moved.write(toFile: logs, atomically: true, encoding: .utf8)
        try makeStore(from: directory, at: directory + "/after")
        try buildW1(directory + "/after")
        let names = try header(directory + "/before", "w1")
        let before = try tableCells(directory + "/before", "w1")
        let after = try tableCells(directory + "/after", "w1")
        var changed: Set<String> = []
        for (row, (old, new)) in zip(before, after).enumerated() {
            for (column, (a, b)) in zip(old, new).enumerated() where a != b { changed.insert("\(row):\(names[column])") }
        }
        // Rows 3 and 4 are User1 at 2017-02-01 (twice): num_25 was 0, so it does not move.
        var expected: Set<String> = []
        for row in [3, 4] {
            for days in [7, 30, 90] {
                for name in ["total_secs", "num_100", "num_unq", "active_days"] { expected.insert("\(row):w\(days)_\(name)") }
            }
        }
        #expect(changed == expected)
        let w7 = names.firstIndex(of: "w7_num_100")!
        #expect(Int(before[3][w7])! - Int(after[3][w7])! == 20)
    }

    /// Rows dated on or after each user's last cutoff cannot change any feature: the training set of a
    /// generated dataset is identical, cell for cell, after appending a burst of them to every table.
    @Test func appendingEventsOnAndAfterEveryCutoffChangesNothing() throws {
        let (directory, store) = try generatedStoreWithW1()
        let before = try tableCells(store, "w1")
        // Each user's last cutoff, then rows on it and the 40 days after.
        var lastCutoff: [String: Int] = [:]
        for line in try String(contentsOfFile: directory + "/labels.csv", encoding: .utf8).split(separator: "\n").dropFirst() {
            let fields = line.split(separator: ",")
            lastCutoff[String(fields[0])] = max(lastCutoff[String(fields[0])] ?? 0, Int(fields[1])!)
        }
        var logs = "msno,date,num_25,num_50,num_75,num_985,num_100,num_unq,total_secs\n"
        var transactions = "msno,payment_method_id,payment_plan_days,plan_list_price,actual_amount_paid,is_auto_renew,transaction_date,membership_expire_date,is_cancel\n"
        for (user, cutoff) in lastCutoff.sorted(by: { $0.key < $1.key }) {
            let day = Dates.dayNumber(yyyymmdd: cutoff)!
            for offset in [0, 1, 15, 40] {
                let date = Dates.yyyymmdd(dayNumber: day + offset)
                logs += "\(user),\(date),99,99,99,99,999,999,86399.999\n"
                transactions += "\(user),99,7,1,1,0,\(date),\(Dates.yyyymmdd(dayNumber: day + offset + 400)),1\n"
            }
        }
        try logs.write(toFile: directory + "/late_logs.csv", atomically: true, encoding: .utf8)
        try transactions.write(toFile: directory + "/late_transactions.csv", atomically: true, encoding: .utf8)
        _ = try Ingester.ingest(store: store, files: [directory + "/late_logs.csv", directory + "/late_transactions.csv"])
        try buildW1(store, out: "w1_after")
        #expect(try tableCells(store, "w1_after") == before)
        // And with at-or-before semantics the rows on the cutoff do count: the check can fail.
        try buildW1(store, out: "w1_inclusive", inclusive: true)
        #expect(try tableCells(store, "w1_inclusive") != before)
    }

    @Test func sameInputsGiveIdenticalBytesAndTimeTravelRebuildsThePast() throws {
        let directory = temporaryDirectory()
        try copyFixtures(to: directory)
        let store = directory + "/db"
        try makeStore(from: directory, at: store)
        try buildW1(store, out: "first")
        try buildW1(store, out: "second")
        let opened = try Store(path: store)
        let first = try FileSystem.readFile(opened.absolute(opened.table("first").segments[0].file))
        let second = try FileSystem.readFile(opened.absolute(opened.table("second").segments[0].file))
        #expect(first == second)
        // New events after the fact; the training set built at the old version is the first one again.
        let extra = "msno,date,num_25,num_50,num_75,num_985,num_100,num_unq,total_secs\n" + "User7xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx=,20170102,5,5,5,5,5,5,55.5\n"
        try extra.write(toFile: directory + "/extra.csv", atomically: true, encoding: .utf8)
        _ = try Ingester.ingest(store: store, files: [directory + "/extra.csv"])
        let report = try buildW1(store, out: "rebuilt", version: 1)
        #expect(report.lineage.storeVersion == 1)
        #expect(try tableCells(store, "rebuilt") == tableCells(store, "first"))
        try buildW1(store, out: "current")
        #expect(try tableCells(store, "current") != tableCells(store, "first"))
    }

    @Test func featureViewsAreVersionedNeverOverwritten() throws {
        let directory = temporaryDirectory()
        let store = directory + "/db"
        try makeStore(from: w1Fixtures, at: store)
        let first = try FeatureRegistry.apply(storePath: store, files: [w1Features])
        #expect(first.map(\.isNew) == [true] && first[0].version.version == 1)
        // The same meaning with other comments and layout: unchanged.
        let reformatted = directory + "/w1.yaml"
        try ("# reformatted\n" + String(contentsOfFile: w1Features, encoding: .utf8)).write(toFile: reformatted, atomically: true, encoding: .utf8)
        #expect(try FeatureRegistry.apply(storePath: store, files: [reformatted]).map(\.isNew) == [false])
        // A changed definition: version 2, and version 1 is still readable.
        let changed = try String(contentsOfFile: w1Features, encoding: .utf8).replacingOccurrences(of: "days: [7, 30, 90]", with: "days: [7, 30, 60]")
        try changed.write(toFile: reformatted, atomically: true, encoding: .utf8)
        let second = try FeatureRegistry.apply(storePath: store, files: [reformatted])
        #expect(second[0].isNew && second[0].version.version == 2)
        let opened = try Store(path: store)
        #expect(try opened.manifest.section(FeatureCatalog.self).views["w1"]?.map(\.version) == [1, 2])
        let (old, _) = try FeatureRegistry.load(store: opened, name: "w1", version: 1)
        #expect(old == (try FeatureViewParser.parse(file: w1Features)))
        // The training set's lineage names the version it used.
        let report = try buildW1(store)
        #expect(report.lineage.featureViewVersion == 1 && !report.featureViewIsNew)
    }
}

@Suite struct AggregateTests {
    /// Every aggregate function, the null policy, TTL and ratios, on the hand-checked fixture rows.
    @Test func functionsFillTTLAndRatios() throws {
        let directory = temporaryDirectory()
        let store = directory + "/db"
        try makeStore(from: w1Fixtures, at: store)
        let view = directory + "/all.yaml"
        try """
        name: all
        entity: msno
        features:
          - window: {source: user_logs, time: date, days: [90]}
            aggregates:
              - {name: unq_mean, function: mean, column: num_unq}
              - {name: unq_min, function: min, column: num_unq}
              - {name: unq_max, function: max, column: num_unq}
              - {name: unq_distinct, function: count_distinct, column: num_unq}
              - {name: unq_count, function: count, column: num_unq}
              - {name: secs_max, function: max, column: total_secs}
              - {name: first_day, function: min, column: date}
          - window: {source: user_logs, time: date, days: [7]}
            aggregates:
              - {name: week_secs, function: sum, column: total_secs, fill: 0}
          - last: {name: recent_tx, source: transactions, time: transaction_date, ttl_days: 30, columns: {recent_method: payment_method_id}}
          - derived: {name: unq_ratio, expression: unq_max / unq_min, round: 2}
          - derived: {name: per_zero, expression: unq_max / (unq_min - unq_min)}
        """.write(toFile: view, atomically: true, encoding: .utf8)
        var request = TrainingSetRequest(featuresFile: view, labelsTable: "labels", outputTable: "all")
        request.inclusive = false
        _ = try TrainingSetBuilder.build(storePath: store, request: request)
        let names = try header(store, "all")
        let rows = try tableCells(store, "all")
        func row(_ user: String, _ cutoff: String) -> [String: String] {
            Dictionary(uniqueKeysWithValues: zip(names, rows.first { $0[0].hasPrefix(user) && $0[1] == cutoff }!))
        }
        let user1 = row("User1", "20170201")   // num_unq over 90 days: 10, 6, 8, 8, 15
        #expect(user1["unq_mean"] == String(9.4))
        #expect(user1["unq_min"] == "6" && user1["unq_max"] == "15")
        #expect(user1["unq_distinct"] == "4" && user1["unq_count"] == "5")
        #expect(user1["secs_max"] == String(5000.125))
        #expect(user1["first_day"] == "20161103")   // min of a date stays a date
        #expect(user1["unq_ratio"] == String(2.5))
        #expect(user1["per_zero"] == "inf")           // x / 0 is SQL's (DuckDB's) float division
        #expect(user1["recent_method"] == "NULL")     // its last transaction, 2016-12-31, is 32 days old: past the TTL
        #expect(row("User6", "20170201")["recent_method"] == "31")   // 22 days old: within it
        let user8 = row("User8", "20170201")
        #expect(user8["week_secs"] == String(0.0))     // fill: 0 instead of NULL
        #expect(user8["unq_count"] == "0" && user8["unq_distinct"] == "0" && user8["unq_mean"] == "NULL")
        #expect(row("User4", "20170301")["recent_method"] == "NULL")   // older than the TTL
        #expect(try Store(path: store).table("all").columns.first { $0.name == "first_day" }?.type == .date)
    }
}

@Suite struct OnlineTests {
    /// The online vector materialised as of a cutoff equals that cutoff's training-set row.
    @Test func onlineEqualsOffline() throws {
        let (_, store) = try generatedStoreWithW1()
        let names = try header(store, "w1")
        let rows = try tableCells(store, "w1")
        let cutoffs = Array(Set(rows.map { $0[1] })).sorted()
        var compared = 0
        for cutoff in cutoffs {
            _ = try OnlineMaterializer.materialize(storePath: store, featuresFile: w1Features, viewName: nil, asOfDay: Dates.dayNumber(yyyymmdd: Int(cutoff)!)!)
            let table = try OnlineTable(store: try Store(path: store), view: "w1")
            #expect(table.schemas.map(\.name) == Array(names.dropFirst(3)))
            for row in rows where row[1] == cutoff {
                let vector = try #require(table.lookup(row[0]))
                let online = vector.values.map { value -> String in
                    switch value {
                    case .null: "NULL"
                    case .integer(let integer): String(integer)
                    case .float(let float): String(float)
                    case .string(let string): string
                    }
                }
                #expect(online == Array(row.dropFirst(3)), "\(row[0]) as of \(cutoff)")
                compared += 1
            }
        }
        #expect(compared == rows.count && compared > 100)
        let table = try OnlineTable(store: try Store(path: store), view: "w1")
        #expect(table.lookup("not-an-msno") == nil)
    }

    @Test func damagedOnlineTablesAreRefused() throws {
        let (store, opened, entry) = try w1OnlineStore()
        let path = opened.absolute(entry.file)
        var bytes = try FileSystem.readFile(path)
        bytes[bytes.count / 2] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(throws: StorageError.self) { try OnlineTable(store: opened, view: "w1") }
        #expect(try FeatureStoreVerifier.verify(path: store).problems.contains { $0.contains("online table checksum mismatch") })
    }
}

/// A store of the W1 fixtures with the online table of w1 as of 2017-02-01: its path, the store and the
/// online table's manifest entry.
func w1OnlineStore(_ name: String = #function) throws -> (String, Store, OnlineTableEntry) {
    let store = temporaryDirectory(name) + "/db"
    try makeStore(from: w1Fixtures, at: store)
    _ = try OnlineMaterializer.materialize(storePath: store, featuresFile: w1Features, viewName: nil, asOfDay: Dates.dayNumber(yyyymmdd: 20170201)!)
    let opened = try Store(path: store)
    return (store, opened, try opened.manifest.section(OnlineCatalog.self).tables["w1"]!)
}

/// The classes the online-table fuzzer found (tools/fuzz/findings/online-*.bin): header sizes of 2^63 and
/// more, sums that overflow, with every checksum valid, are refused instead of trapping.
@Suite struct ForgedOnlineHeaderTests {
    @Test func hugeOrOverflowingSizesAreRefused() throws {
        let (_, opened, entry) = try w1OnlineStore()
        let original = try FileSystem.readFile(opened.absolute(entry.file))
        // Offsets of the header's u64 fields (format-spec §11): entity count, name area, string area offset and size.
        for (offset, value) in [(24, UInt64.max), (40, UInt64(1) << 63), (48, UInt64.max - 7), (56, UInt64(1) << 62), (24, UInt64(1) << 40)] {
            var bytes = original
            bytes.withUnsafeMutableBytes { $0.storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt64.self) }
            // The envelope's CRC made valid again.
            let trailer = bytes.count - Envelope.trailerSizeBytes
            let fileCRC = Envelope.storedCRC(bytes)
            bytes.withUnsafeMutableBytes { $0.storeBytes(of: fileCRC.littleEndian, toByteOffset: trailer, as: UInt32.self) }
            var forged = entry
            forged.fileCRC = fileCRC
            #expect(throws: (any Error).self, "u64 \(value) at \(offset)") {
                _ = try bytes.withUnsafeBytes { try OnlineLayout.Parsed($0, path: "forged.onl", entry: forged) }
            }
        }
        // The untouched file parses.
        _ = try original.withUnsafeBytes { try OnlineLayout.Parsed($0, path: "original.onl", entry: entry) }
    }

    /// An online table of format 1 (before the shared envelope) is derived data of an older Strata: lookups
    /// refuse it with the advice to materialise again, and verify notes it without calling it damage.
    @Test func aFormat1OnlineTableIsRefusedWithAdviceAndIsNotDamage() throws {
        let (store, opened, entry) = try w1OnlineStore()
        let path = opened.absolute(entry.file)
        // Format 1's framing: version 1 in the header, then CRC-32 of the body, 4 zero bytes, "STRATEND".
        var bytes = try FileSystem.readFile(path)
        bytes[8] = 1
        bytes[9] = 0
        let crc = Checksum.crc32(bytes)
        bytes += withUnsafeBytes(of: crc.littleEndian, Array.init) + [0, 0, 0, 0] + Array("STRATEND".utf8)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        func setRecordedCRC(_ value: UInt32) throws {
            let file = store + "/manifest/" + StorePaths.zeroPadded(opened.version, 12) + ".manifest"
            var manifest = try Manifest.decode(try FileSystem.readFile(file), validate: false)
            var online = try manifest.section(OnlineCatalog.self)
            online.tables["w1"]!.fileCRC = value
            try manifest.setSection(online)
            try Data(try manifest.encoded()).write(to: URL(fileURLWithPath: file))
        }
        // A format-1 file the manifest did not record is damage, whatever its framing says.
        #expect(try FeatureStoreVerifier.verify(path: store).problems.contains { $0.contains("checksum mismatch (format 1)") })
        try setRecordedCRC(crc)
        #expect(throws: (any Error).self) { _ = try OnlineTable(store: try Store(path: store), view: "w1") }
        do {
            _ = try OnlineTable(store: try Store(path: store), view: "w1")
        } catch {
            #expect("\(error)".contains("format 1") && "\(error)".contains("strata features materialize again"), "\(error)")
        }
        let report = try FeatureStoreVerifier.verify(path: store)
        #expect(report.problems.isEmpty, "\(report.problems)")
        #expect(report.notes.contains { $0.contains("format 1") })
        // Materialising again replaces it with the current format.
        _ = try OnlineMaterializer.materialize(storePath: store, featuresFile: nil, viewName: "w1", asOfDay: Dates.dayNumber(yyyymmdd: 20170201)!)
        #expect(try OnlineTable(store: try Store(path: store), view: "w1").lookup("nobody") == nil)
    }
}

@Suite struct DefinitionErrorTests {
    func parse(_ yaml: String) -> String {
        do {
            _ = try FeatureViewParser.parse(yaml: yaml, file: "view.yaml")
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test func mistakesInTheFileNameTheLine() {
        #expect(parse("name: x\nfeatures:\n  - window: {source: user_logs, time: date, days: [7]}\n    aggregates:\n      - {name: a, function: median, column: x}\n")
            .hasPrefix("view.yaml:5"))
        #expect(parse("name: x\nfeatures:\n  - window: {source: t, time: d, days: [7, 30]}\n    aggregates: [{name: a, function: count}]\n")
            .contains("needs {days}"))
        #expect(parse("name: x\nfeaturs: []\n").contains("unknown key 'featurs'"))
        #expect(parse("name: x\nfeatures:\n  - derived: {name: d, expression: \"a +\"}\n").contains("expected an expression"))
        #expect(parse("name: x\nfeatures: [{window: {source: t, time: d, days: [0]}, aggregates: [{name: a, function: count}]}]\n").contains("window length"))
        #expect(parse(": : :").contains("view.yaml"))
    }

    @Test func mistakesAgainstTheStoreNameTheAlternatives() throws {
        let store = temporaryDirectory() + "/db"
        try makeStore(from: w1Fixtures, at: store)
        let opened = try Store(path: store)
        func plan(_ yaml: String) -> String {
            do {
                _ = try FeaturePlan(view: try FeatureViewParser.parse(yaml: yaml), store: opened)
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        #expect(plan("name: x\nfeatures: [{window: {source: logs, time: date, days: [7]}, aggregates: [{name: a, function: count}]}]\n")
            .contains("no table 'logs' in the store (tables: labels, members, transactions, user_logs)"))
        #expect(plan("name: x\nfeatures: [{window: {source: user_logs, time: date, days: [7]}, aggregates: [{name: a, function: sum, column: secs}]}]\n")
            .contains("table user_logs has no column 'secs' (columns: msno, date, num_25"))
        #expect(plan("name: x\nfeatures: [{window: {source: user_logs, time: num_25, days: [7]}, aggregates: [{name: a, function: count}]}]\n")
            .contains("not a date"))
        #expect(plan("name: x\nfeatures: [{derived: {name: d, expression: \"later + 1\"}}]\n").contains("unknown column 'later'"))
        #expect(plan("name: x\nfeatures: [{derived: {name: d, expression: \"later + 1\"}}]\n").contains("earlier features and cutoff: cutoff"))
        #expect(plan("name: x\nfeatures: [{attributes: {name: m, source: members, columns: {g: gender}}}, {derived: {name: d, expression: \"m.gender + 1\"}}]\n")
            .contains("cannot apply + to VARCHAR and BIGINT"))
        #expect(plan("name: x\nfeatures: [{window: {source: user_logs, time: date, days: [7]}, aggregates: [{name: a, function: sum, column: msno}]}]\n")
            .contains("sum needs an integer or float column"))
    }

    @Test func trainingSetsRefuseToOverwriteAndNameMissingLabels() throws {
        let store = temporaryDirectory() + "/db"
        try makeStore(from: w1Fixtures, at: store)
        try buildW1(store)
        #expect(throws: StorageError.invalid("table w1 already exists; choose another --out or pass --replace")) { try buildW1(store) }
        var request = TrainingSetRequest(featuresFile: w1Features, labelsTable: "members", outputTable: "other")
        request.replace = true
        #expect(throws: FeaturePlanError.self) { try TrainingSetBuilder.build(storePath: store, request: request) }
        #expect(try Store(path: store).version == 2, "failed builds commit nothing")
    }
}

@Suite struct EntityPassTests {
    /// Above its memory budget the engine computes ranges of entities in separate passes, each reading
    /// only its entities' rows: every value equals the one-pass value bit for bit, and fewer source
    /// rows are held at once. Each month of user_logs is two segments here (its rows ingested in two
    /// interleaved halves), so the passes also cut across segments.
    @Test func passesOverEntityRangesGiveTheSameValuesAndHoldFewerRows() throws {
        let directory = try generatedCSVs(members: 600, months: 6, labelMonths: 4)
        let store = directory + "/db"
        let lines = try String(contentsOfFile: directory + "/user_logs.csv", encoding: .utf8).split(separator: "\n")
        for half in 0..<2 {
            let rows = lines.dropFirst().enumerated().filter { $0.offset % 2 == half }.map(\.element)
            try ([lines[0]] + rows).joined(separator: "\n").appending("\n").write(toFile: directory + "/logs\(half).csv", atomically: true, encoding: .utf8)
        }
        var logs = IngestOptions()
        logs.forcedTable = "user_logs"
        _ = try Ingester.ingest(store: store, files: ["members", "transactions", "labels"].map { directory + "/\($0).csv" })
        for half in 0..<2 { _ = try Ingester.ingest(store: store, files: [directory + "/logs\(half).csv"], options: logs) }
        let opened = try Store(path: store)
        #expect(try opened.table("user_logs").segments.count > opened.table("user_logs").partitions.count)
        // W1, and a view of the other aggregates: MIN and MAX (each user's extremes of a month), COUNT
        // DISTINCT (string codes shared across partitions), a filter.
        let extremes = directory + "/extremes.yaml"
        try """
        name: extremes
        entity: msno
        features:
          - window: {source: user_logs, time: date, days: [7, 30, 90, 180]}
            aggregates:
              - {name: "w{days}_unq_min", function: min, column: num_unq}
              - {name: "w{days}_secs_max", function: max, column: total_secs}
              - {name: "w{days}_unq_distinct", function: count_distinct, column: num_unq}
              - {name: "w{days}_heavy", function: count, filter: "num_100 > 10"}
        """.write(toFile: extremes, atomically: true, encoding: .utf8)
        let labels = try LabelTable(store: opened, table: "labels", entity: "msno", cutoff: "cutoff_date")
        // Label rows, and users the store has never seen (ids past the last): no values, in either path.
        let unknown = Int64(opened.manifest.entities.count)
        let requests = FeatureRequests(entities: labels.requests.entities + [unknown, unknown + 7],
                                       cutoffs: labels.requests.cutoffs + [labels.requests.cutoffs[0], labels.requests.cutoffs[0]])
        for file in [w1Features, extremes] {
            let plan = try FeaturePlan(view: try FeatureViewParser.parse(file: file), store: opened)
            let whole = PointInTimeEngine(plan: plan, store: opened)
            #expect(try whole.entityRanges(requests).count == 1)
            let reference = try whole.compute(requests)
            var split = PointInTimeEngine(plan: plan, store: opened)
            let span = Int(requests.entities.max()! - requests.entities.min()! + 1)
            split.memoryBudget = try whole.heldBytes(requests) * min(span, opened.manifest.entities.count) / opened.manifest.entities.count / 7
            let ranges = try split.entityRanges(requests)
            #expect(ranges.count == 8)
            #expect(ranges.first!.lowerBound == requests.entities.min()! && ranges.last!.upperBound == requests.entities.max()!)
            #expect(zip(ranges, ranges.dropFirst()).allSatisfy { $0.upperBound + 1 == $1.lowerBound })
            let matrix = try split.compute(requests)
            var differences = 0, unknownValues = 0
            for column in 0..<reference.schemas.count {
                for row in 0..<reference.rowCount {
                    let (a, b) = (reference.value(row: row, column: column), matrix.value(row: row, column: column))
                    let same: Bool
                    if case .float(let x) = a, case .float(let y) = b { same = x.bitPattern == y.bitPattern } else { same = a == b }
                    if !same { differences += 1 }
                    if row >= labels.rowCount, b != .null, b != .integer(0) { unknownValues += 1 }
                }
            }
            #expect(reference.rowCount == requests.count && differences == 0 && unknownValues == 0, "\(file)")
            let held = { (engine: PointInTimeEngine) in engine.stats.windowSources.first { $0.source == "user_logs" }?.peakRows ?? 0 }
            #expect(held(split) > 0 && held(split) * 4 < held(whole))
        }
        // No requests: nothing is read, in either path.
        let plan = try FeaturePlan(view: try FeatureViewParser.parse(file: w1Features), store: opened)
        var tiny = PointInTimeEngine(plan: plan, store: opened)
        tiny.memoryBudget = 1
        #expect(try tiny.entityRanges(FeatureRequests(entities: [], cutoffs: [])).isEmpty)
        #expect(try tiny.compute(FeatureRequests(entities: [], cutoffs: [])).rowCount == 0)
        // A budget far too small is capped at `maximumPasses`.
        #expect(try tiny.entityRanges(labels.requests).count == min(PointInTimeEngine.maximumPasses, Set(labels.requests.entities).count))
    }
}
