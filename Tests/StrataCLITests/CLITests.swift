import Foundation
import StrataTestSupport
import Testing
@testable import StrataIngest
@testable import StrataStorage


/// The `strata` binary built next to the tests (tools/test.sh builds it first; STRATA_BIN overrides).
let strataBinary = ProcessInfo.processInfo.environment["STRATA_BIN"] ?? packageRoot + "/.build/debug/strata"


struct Outcome {
    var status: Int32
    var stdout: String
    var stderr: String
}

@discardableResult
func strata(_ arguments: [String], environment: [String: String] = [:]) throws -> Outcome {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: strataBinary)
    process.arguments = arguments
    if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Outcome(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
}

@Suite(.serialized) struct CLITests {
    init() throws {
        try #require(FileManager.default.isExecutableFile(atPath: strataBinary), "build the CLI first: swift build (looked for \(strataBinary))")
    }

    @Test func tourOfTheCommands() throws {
        let directory = temporaryDirectory()
        let generated = try strata(["generate", "--out", directory + "/csv", "--members", "300", "--months", "3", "--start", "20170101"])
        #expect(generated.status == 0, "\(generated.stderr)")
        #expect(generated.stdout.contains("300 members"))
        let db = directory + "/db"
        let ingested = try strata(["ingest", "--db", db] + ["members", "transactions", "user_logs", "labels"].map { directory + "/csv/\($0).csv" })
        #expect(ingested.status == 0, "\(ingested.stderr)")
        #expect(ingested.stdout.contains("committed version 1"))
        #expect(ingested.stdout.range(of: "user_logs.csv → user_logs: [0-9,]+ rows, 0 rejected", options: .regularExpression) != nil)

        let tables = try strata(["tables", "--db", db, "--format", "csv"])
        #expect(tables.stdout.hasPrefix("table,rows,partitions,segments,bytes,csv_bytes,ratio,kind\nlabels,"))
        #expect(tables.stdout.contains("\nmembers,300,1,1,"))

        let described = try strata(["describe", "--db", db, "user_logs"])
        #expect(described.status == 0)
        #expect(described.stdout.contains("partitioned by date (monthly)"))
        for partition in ["201701", "201702", "201703"] { #expect(described.stdout.contains("\n" + partition + " ")) }

        // A selective scan: one day (in both date forms), two columns, CSV; dates print as YYYY-MM-DD.
        let scanned = try strata(["scan", "--db", db, "user_logs", "--columns", "date,num_unq", "--from", "20170210", "--to", "2017-02-10", "--format", "csv"])
        let lines = scanned.stdout.split(separator: "\n")
        #expect(lines.first == "date,num_unq")
        #expect(lines.count > 1 && lines.dropFirst().allSatisfy { $0.hasPrefix("2017-02-10,") })
        let csvLines = try String(contentsOfFile: directory + "/csv/user_logs.csv", encoding: .utf8).split(separator: "\n").filter { $0.contains(",20170210,") }
        #expect(lines.count - 1 == csvLines.count)

        let json = try strata(["scan", "--db", db, "members", "--limit", "2", "--format", "json"])
        let decoded = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
        #expect(decoded?.count == 2)
        #expect((decoded?.first?["msno"] as? String)?.count == 44)

        let verified = try strata(["verify", "--db", db])
        #expect(verified.status == 0)
        #expect(verified.stdout.contains("ok: no damage found"))
    }

    @Test func queryTour() throws {
        let directory = temporaryDirectory()
        _ = try strata(["generate", "--out", directory + "/csv", "--members", "300", "--months", "3", "--start", "20170101"])
        let db = directory + "/db"
        _ = try strata(["ingest", "--db", db] + ["members", "transactions", "user_logs", "labels"].map { directory + "/csv/\($0).csv" })

        let monthly = try strata(["query", "--db", db, "--format", "csv",
                                  "SELECT date_trunc('month', date) AS month, count(*) AS n FROM user_logs GROUP BY month ORDER BY month"])
        #expect(monthly.status == 0, "\(monthly.stderr)")
        let lines = monthly.stdout.split(separator: "\n")
        #expect(lines.map { $0.split(separator: ",").first ?? "" } == ["month", "2017-01-01", "2017-02-01", "2017-03-01"])
        // The counts add up to the CSV's rows.
        let logRows = try String(contentsOfFile: directory + "/csv/user_logs.csv", encoding: .utf8).split(separator: "\n").count - 1
        #expect(lines.dropFirst().compactMap { Int($0.split(separator: ",")[1]) }.reduce(0, +) == logRows)

        let json = try strata(["query", "--db", db, "--format", "json", "SELECT msno, CAST(city AS VARCHAR) AS c, bd > 0 AS adult FROM members LIMIT 2"])
        let decoded = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
        #expect(decoded?.count == 2)
        #expect(decoded?.first?["c"] is String)
        #expect(decoded?.first?["adult"] is Bool)

        let explained = try strata(["query", "--db", db, "EXPLAIN SELECT count(*) FROM user_logs WHERE date >= DATE '2017-03-01'"])
        #expect(explained.stdout.contains("partitions: 1 of 3 read (2 pruned by date)"), "\(explained.stdout)")

        let bad = try strata(["query", "--db", db, "SELECT msno FROM members WHERE ct = 1"])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("unknown column 'ct' (line 1, column 32)\n  SELECT msno FROM members WHERE ct = 1\n" + String(repeating: " ", count: 33) + "^~\n"), "\(bad.stderr)")
        let badLimit = try strata(["query", "--db", db, "--memory-limit", "0", "SELECT 1 FROM members"])
        #expect(badLimit.status != 0)
        #expect(badLimit.stderr.contains("--memory-limit must be between 1 and"))
    }

    @Test func errorsNameTheProblemAndExitNonZero() throws {
        let directory = temporaryDirectory()
        let missing = try strata(["tables", "--db", directory + "/nothing"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("is not a Strata store"))
        let badFlag = try strata(["scan", "--db", directory, "user_logs", "--from", "2017-13-01"])
        #expect(badFlag.status != 0)
        #expect(badFlag.stderr.contains("--from must be a date as YYYYMMDD"))
        _ = try strata(["ingest", "--db", directory + "/db", packageRoot + "/fixtures/csv/members_quirks.csv"])
        let unknownTable = try strata(["scan", "--db", directory + "/db", "userlogs"])
        #expect(unknownTable.status == 1)
        #expect(unknownTable.stderr.contains("no table named 'userlogs'. Tables: members"))
        let unknownColumn = try strata(["scan", "--db", directory + "/db", "members", "--columns", "msno,age"])
        #expect(unknownColumn.stderr.contains("table members has no column 'age'. Columns: msno, city, bd"))
        // 4 of its 10 lines are bad: over the default --max-rejects of 1%, nothing is committed...
        let refused = try strata(["ingest", "--db", directory + "/db", packageRoot + "/fixtures/csv/transactions_bad.csv"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("4 of 10 lines rejected (40.0%), more than --max-rejects 1% allows. Nothing was ingested."))
        #expect(refused.stderr.contains("line 6 column payment_plan_days: 'thirty' is not an integer"))
        // ...and a higher bound lets the good lines in, each bad one reported.
        let rejected = try strata(["ingest", "--db", directory + "/db", "--max-rejects", "50%", packageRoot + "/fixtures/csv/transactions_bad.csv"])
        #expect(rejected.status == 0)
        #expect(rejected.stderr.contains("4 lines rejected"))
        #expect(rejected.stderr.contains("transactions_bad.csv:6 column payment_plan_days: 'thirty' is not an integer"))
    }

    @Test func verifyReportsDamageWithFileColumnAndBlock() throws {
        let directory = temporaryDirectory()
        let db = directory + "/db"
        _ = try strata(["generate", "--out", directory + "/csv", "--members", "200", "--months", "2"])
        _ = try strata(["ingest", "--db", db, "--compression", "none", directory + "/csv/user_logs.csv"])
        let store = try Store(path: db)
        let segment = try store.table("user_logs").segments[0]
        let reader = try store.openSegment(segment, of: store.table("user_logs"))
        let entry = reader.footer.chunk(column: 8, chunk: 0)
        let path = db + "/" + segment.file
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[Int(entry.offset) + Int(entry.storedSizeBytes) / 2] ^= 0x10
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let verified = try strata(["verify", "--db", db])
        #expect(verified.status == 1)
        #expect(verified.stdout.contains("DAMAGE"))
        #expect(verified.stdout.contains(segment.file + ", column total_secs, block 0: block checksum mismatch"))
        let scanned = try strata(["scan", "--db", db, "user_logs", "--columns", "total_secs", "--format", "csv"])
        #expect(scanned.status == 1)
        #expect(scanned.stderr.contains("column total_secs, block 0"))
        // Columns that are intact still read.
        #expect(try strata(["scan", "--db", db, "user_logs", "--columns", "num_unq", "--format", "csv"]).status == 0)
    }

    /// SIGKILL an ingest at random moments, again and again: the store always opens at its last committed
    /// version, verify passes, and what was committed before is intact.
    @Test func killedIngestsNeverDamageTheStore() throws {
        let directory = temporaryDirectory()
        let db = directory + "/db"
        _ = try strata(["generate", "--out", directory + "/csv", "--members", "2000", "--months", "6"])
        let base = try strata(["ingest", "--db", db, directory + "/csv/members.csv"])
        try #require(base.status == 0)
        let membersBefore = try strata(["scan", "--db", db, "members", "--format", "csv"]).stdout
        var random = SystemRandomNumberGenerator()
        var committed = 1
        var killed = 0
        for attempt in 0..<12 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: strataBinary)
            process.arguments = ["ingest", "--db", db, directory + "/csv/transactions.csv", directory + "/csv/user_logs.csv"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            usleep(UInt32.random(in: 0...(attempt < 6 ? 150_000 : 600_000), using: &random))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            if process.terminationReason == .uncaughtSignal { killed += 1 }
            let store = try Store(path: db)
            #expect(store.version == committed || store.version == committed + 1, "attempt \(attempt)")
            committed = store.version
            let report = try Store.verify(path: db)
            #expect(report.isClean, "attempt \(attempt): \(report.problems)")
            #expect(try strata(["scan", "--db", db, "members", "--format", "csv"]).stdout == membersBefore)
            if let logs = store.manifest.tables["user_logs"] {
                // Each committed ingest added the whole file: never part of it.
                let perIngest = try String(contentsOfFile: directory + "/csv/user_logs.csv", encoding: .utf8).split(separator: "\n").count - 1
                #expect(logs.rowCount % perIngest == 0)
            }
        }
        #expect(killed > 0, "no ingest was actually killed mid-way")
        // After the orphans of killed writers, a normal ingest still commits, and gc removes the orphans
        // without touching any committed file.
        let finished = try strata(["ingest", "--db", db, directory + "/csv/labels.csv"])
        #expect(finished.status == 0)
        #expect(try Store.verify(path: db).isClean)
        let collected = try strata(["gc", "--db", db])
        #expect(collected.status == 0 && collected.stdout.contains("files no kept version uses"))
        let after = try Store.verify(path: db)
        #expect(after.isClean && after.orphans.isEmpty, "\(after.orphans)")
        #expect(try strata(["scan", "--db", db, "members", "--format", "csv"]).stdout == membersBefore)
    }

    /// `strata compact` killed at random moments: the store stays at its last committed version, verifies
    /// clean and holds the same rows; a finished compaction leaves one clustered segment per partition, and
    /// the training set built from it is the one built before, byte for byte.
    @Test func killedCompactionsNeverDamageTheStore() throws {
        let directory = temporaryDirectory()
        let db = directory + "/db"
        _ = try strata(["generate", "--out", directory + "/csv", "--members", "2500", "--months", "4", "--label-months", "1"])
        // user_logs in three appends, a line in turn to each: three clustered segments in every month.
        let lines = try String(contentsOfFile: directory + "/csv/user_logs.csv", encoding: .utf8).split(separator: "\n")
        var files = ["members", "transactions", "labels"].map { directory + "/csv/\($0).csv" }
        for part in 0..<3 {
            let rows = lines.dropFirst().enumerated().filter { $0.offset % 3 == part }.map(\.element)
            let file = directory + "/csv/user_logs_\(part).csv"
            try (([lines[0]] + rows).joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
            files.append(file)
        }
        for file in files { try #require(try strata(["ingest", "--db", db, file]).status == 0) }
        func sortedLogs() throws -> [Substring] {
            try strata(["scan", "--db", db, "user_logs", "--format", "csv", "--limit", "100000000"]).stdout.split(separator: "\n").sorted()
        }
        let before = try sortedLogs()
        try #require(try strata(["training-set", "--db", db, "--features", packageRoot + "/fixtures/features/w1.yaml", "--labels", "labels", "--out", "w1_before"]).status == 0)
        let trainingBefore = try strata(["scan", "--db", db, "w1_before", "--format", "csv", "--limit", "100000000"]).stdout
        let base = try Store(path: db).version
        var committed = base
        var random = SystemRandomNumberGenerator()
        var killed = 0
        for attempt in 0..<6 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: strataBinary)
            process.arguments = ["compact", "--db", db, "user_logs"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            // Later attempts wait longer (up to 60, 120, … 360 ms), so the first is killed on any machine and the
            // others land anywhere in the work.
            usleep(UInt32.random(in: 0...(60_000 * UInt32(attempt + 1)), using: &random))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            if process.terminationReason == .uncaughtSignal { killed += 1 }
            let store = try Store(path: db)
            #expect(store.version == committed || store.version == committed + 1, "attempt \(attempt)")
            committed = store.version
            let report = try Store.verify(path: db)
            #expect(report.isClean, "attempt \(attempt): \(report.problems)")
            #expect(try sortedLogs() == before, "attempt \(attempt)")
            if store.version > base { break }  // compacted: later runs would have nothing to do
        }
        #expect(killed > 0, "no compaction was actually killed mid-way")
        let finished = try strata(["compact", "--db", db, "user_logs"])
        #expect(finished.status == 0, "\(finished.stderr)")
        let logs = try Store(path: db).table("user_logs")
        #expect(Dictionary(grouping: logs.segments, by: \.partition).values.allSatisfy { $0.count == 1 && $0[0].sortedBy == ["msno", "date"] })
        #expect(try sortedLogs() == before)
        let again = try strata(["compact", "--db", db, "user_logs"])
        #expect(again.status == 0 && again.stdout.contains("nothing to compact"), "\(again.stdout)")
        try #require(try strata(["training-set", "--db", db, "--features", packageRoot + "/fixtures/features/w1.yaml", "--labels", "labels", "--out", "w1_after"]).status == 0)
        #expect(try strata(["scan", "--db", db, "w1_after", "--format", "csv", "--limit", "100000000"]).stdout == trainingBefore)
        // What compact refuses, and says why.
        try expectRefused(["compact", "--db", db, "w1_after"], "derived")
        try expectRefused(["compact", "--db", db, "user_log"], "user_logs")
        try expectRefused(["compact", "--db", db, "user_logs", "--partition", "199901"], "no partition 199901")
        try expectRefused(["compact", "--db", db, "user_logs", "--partition", "201613"], "not a month", usage: true)
        #expect(try strata(["gc", "--db", db]).status == 0)
        #expect(try Store.verify(path: db).isClean)
    }

    @Test func featuresTour() throws {
        let directory = temporaryDirectory()
        let db = directory + "/db"
        let fixtures = packageRoot + "/fixtures/w1"
        _ = try strata(["ingest", "--db", db] + ["members", "transactions", "user_logs", "labels"].map { fixtures + "/\($0).csv" })
        let features = packageRoot + "/fixtures/features/w1.yaml"
        let applied = try strata(["features", "apply", "--db", db, features])
        #expect(applied.stdout.hasPrefix("w1: version 1 registered"))
        let built = try strata(["training-set", "--db", db, "--features", features, "--labels", "labels", "--out", "train"])
        #expect(built.status == 0, "\(built.stderr)")
        #expect(built.stdout.contains("train: 13 rows × 32 columns"))
        #expect(built.stdout.contains("feature view w1 v1 hash"))
        let again = try strata(["training-set", "--db", db, "--features", features, "--labels", "labels", "--out", "train"])
        #expect(again.status == 1 && again.stderr.contains("table train already exists; choose another --out or pass --replace"))
        let scanned = try strata(["scan", "--db", db, "train", "--columns", "msno,cutoff_date,w7_active_days", "--format", "csv", "--limit", "2"])
        #expect(scanned.stdout == "msno,cutoff_date,w7_active_days\nUser7xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx=,2017-01-05,2\n+plusxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx=,2017-02-01,0\n")
        let materialized = try strata(["features", "materialize", "--db", db, "--as-of", "20170201"])
        #expect(materialized.stdout.contains("w1 v1 as of 2017-02-01"))
        let user1 = "User1xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx="
        let online = try strata(["features", "get", "--db", db, user1, "--format", "csv"])
        // Same values as the training-set row of User1 at 2017-02-01.
        let offline = try strata(["scan", "--db", db, "train", "--format", "csv"]).stdout.split(separator: "\n")
            .first { $0.hasPrefix(user1 + ",2017-02-01,") }!
        let onlineRow = online.stdout.split(separator: "\n")[1]
        #expect(onlineRow.split(separator: ",", omittingEmptySubsequences: false).dropFirst()
            == offline.split(separator: ",", omittingEmptySubsequences: false).dropFirst(3))
        // A day with no online table is computed on the fly, with the same engine.
        let computed = try strata(["features", "get", "--db", db, user1, "--as-of", "20170201", "--format", "csv"])
        #expect(computed.stdout == online.stdout)
        let unknown = try strata(["features", "get", "--db", db, "nobody"])
        #expect(unknown.status == 1 && unknown.stderr.contains("unknown msno (never ingested): nobody"))
        let badFile = directory + "/bad.yaml"
        try "name: x\nfeatures:\n  - window: {source: user_logs, time: date, days: [7]}\n    aggregates: [{name: a, function: avg, column: num_25}]\n"
            .write(toFile: badFile, atomically: true, encoding: .utf8)
        let bad = try strata(["training-set", "--db", db, "--features", badFile, "--labels", "labels", "--out", "x"])
        #expect(bad.status == 1 && bad.stderr.contains("bad.yaml:4") && bad.stderr.contains("unknown function 'avg'"))
    }

    /// The whole job: generate → ingest → training set → train → register → promote → predict.
    @Test func trainPromotePredict() throws {
        let directory = temporaryDirectory()
        let db = directory + "/db"
        _ = try strata(["generate", "--out", directory + "/csv", "--members", "1500", "--months", "8", "--label-months", "4"])
        _ = try strata(["ingest", "--db", db] + ["members", "transactions", "user_logs", "labels"].map { directory + "/csv/\($0).csv" })
        let features = packageRoot + "/fixtures/features/w1.yaml"
        _ = try strata(["training-set", "--db", db, "--features", features, "--labels", "labels", "--out", "train"])
        let trained = try strata(["train", "--db", db, "--training-set", "train", "--rounds", "30", "--register", "churn"])
        #expect(trained.status == 0, "\(trained.stderr)")
        #expect(trained.stdout.contains("run-000001: gbdt on train"))
        #expect(trained.stdout.range(of: "test: AUC 0\\.[0-9]{4}", options: .regularExpression) != nil)
        #expect(trained.stdout.contains("registered as churn version 1 (stage none)"))
        let baseline = try strata(["train", "--db", db, "--training-set", "train", "--model", "logistic", "--register", "churn"])
        #expect(baseline.stdout.contains("run-000002: logistic"))
        let listed = try strata(["runs", "list", "--db", db, "--format", "csv"])
        #expect(listed.stdout.split(separator: "\n").count == 3)
        let shown = try strata(["runs", "show", "--db", db, "run-000001"])
        #expect(shown.stdout.contains("feature") && shown.stdout.contains("gain") && shown.stdout.contains("parameters: bagging_fraction=1.0"))
        let compared = try strata(["runs", "compare", "--db", db, "run-000001", "run-000002"])
        #expect(compared.stdout.contains("auc") && compared.stdout.contains("difference"))
        // One production version at a time: promoting v2 archives v1.
        _ = try strata(["models", "promote", "--db", db, "churn", "1", "--stage", "production"])
        let promoted = try strata(["models", "promote", "--db", db, "churn", "2", "--stage", "production"])
        #expect(promoted.stdout.contains("churn v1: archived") && promoted.stdout.contains("churn v2: production"))
        _ = try strata(["models", "promote", "--db", db, "churn", "1", "--stage", "production"])
        let models = try strata(["models", "list", "--db", db, "--format", "csv"]).stdout
        #expect(models.contains("churn,1,production,run-000001") && models.contains("churn,2,archived,run-000002"))
        // Predictions for everyone as of a day, with buckets and reasons for the risky ones.
        let predicted = try strata(["predict", "--db", db, "--model", "churn@production", "--as-of", "20160901", "--out", "risk"])
        #expect(predicted.status == 0, "\(predicted.stderr)")
        #expect(predicted.stdout.contains("risk: 1,500 users scored with churn@production (v1, run-000001)"))
        let rows = try strata(["scan", "--db", db, "risk", "--format", "csv"]).stdout.split(separator: "\n")
        #expect(rows.first == "msno,cutoff_date,churn_probability,bucket," + (1...3).map { "reason_\($0)_feature,reason_\($0)_value,reason_\($0)_contribution" }.joined(separator: ","))
        #expect(rows.count == 1501)
        let probabilities = rows.dropFirst().map { Double($0.split(separator: ",")[2])! }
        #expect(probabilities == probabilities.sorted(by: >), "riskiest first")
        let risky = rows.dropFirst().filter { $0.split(separator: ",", omittingEmptySubsequences: false)[3] != "C" }
        // Every risky user has a first reason: a feature and a positive contribution, as columns.
        #expect(!risky.isEmpty && risky.allSatisfy { line in
            let cells = line.split(separator: ",", omittingEmptySubsequences: false)
            return !cells[4].isEmpty && (Double(cells[6]) ?? 0) > 0
        })
        // With 1 MiB of memory budget, users are scored 1,024 at a time (features in passes over ranges of
        // users): the same table, byte for byte.
        let batched = try strata(["predict", "--db", db, "--model", "churn@production", "--as-of", "20160901", "--out", "risk_batched"],
                                 environment: ["STRATA_FEATURE_MEMORY_MIB": "1", "STRATA_PROGRESS": "1"])
        #expect(batched.stderr.contains("users 1025-1500 of 1,500") || batched.stderr.contains("users 1025-1500 of 1500"), "\(batched.stderr)")
        #expect(try strata(["scan", "--db", db, "risk_batched", "--format", "csv"]).stdout.split(separator: "\n") == rows)
        // The logistic model in batches too (its string features coded with the model's texts), and a
        // budget that is not a positive number is ignored.
        for (out, environment) in [("risk_logistic", ["STRATA_FEATURE_MEMORY_MIB": "lots"]), ("risk_logistic_batched", ["STRATA_FEATURE_MEMORY_MIB": "1"])] {
            let scored = try strata(["predict", "--db", db, "--model", "churn@2", "--as-of", "20160901", "--out", out], environment: environment)
            #expect(scored.status == 0, "\(scored.stderr)")
        }
        let logistic = try strata(["scan", "--db", db, "risk_logistic", "--format", "csv"]).stdout
        let logisticBatched = try strata(["scan", "--db", db, "risk_logistic_batched", "--format", "csv"]).stdout
        #expect(logistic.split(separator: "\n").count == 1501 && logistic == logisticBatched)
        // Scoring a training set works too, in batches as well, and the errors say what to do.
        #expect(try strata(["predict", "--db", db, "--model", "churn@2", "--training-set", "train", "--out", "scored"]).status == 0)
        _ = try strata(["predict", "--db", db, "--model", "churn@2", "--training-set", "train", "--out", "scored_batched"],
                       environment: ["STRATA_FEATURE_MEMORY_MIB": "1"])
        let scored = try strata(["scan", "--db", db, "scored", "--format", "csv"]).stdout
        let scoredBatched = try strata(["scan", "--db", db, "scored_batched", "--format", "csv"]).stdout
        #expect(scored.split(separator: "\n").count > 1025 && scored == scoredBatched)
        let missing = try strata(["predict", "--db", db, "--model", "churn@staging", "--as-of", "20160901", "--out", "x"])
        #expect(missing.status == 1 && missing.stderr.contains("no version in stage staging"))
        let unknown = try strata(["runs", "show", "--db", db, "run-000009"])
        #expect(unknown.status == 1 && unknown.stderr.contains("no run run-000009"))
        let bad = try strata(["train", "--db", db, "--training-set", "members"])
        #expect(bad.status == 1 && bad.stderr.contains("no label column 'is_churn'"))
    }

    /// Real KKBox rows (../shared/kkbox-sample, set A: all four tables of 30,000 users) through ingest
    /// and a W1 training set at 2017-03-01: its logs are all from March 2017, on or after the cutoff, so
    /// no window may see any of them, while every earlier transaction counts.
    @Test(.enabled(if: sharedSamplesPresent, "../shared/kkbox-sample is absent (a fresh clone has none): skipped"))
    func realKKBoxRowsThroughTheFeaturePipeline() throws {
        let sample = packageRoot + "/../shared/kkbox-sample/arjl153__WSDM---KKBox-s-Churn-Prediction-Challenge"
        try #require(FileManager.default.fileExists(atPath: sample + "/memb_s.csv"), "../shared/kkbox-sample has no set A (memb_s.csv)")
        let db = temporaryDirectory() + "/db"
        let ingested = try strata(["ingest", "--db", db, "--cutoff", "20170301"] + ["memb_s", "trans_s", "userl_s", "train_s"].map { sample + "/\($0).csv" })
        #expect(ingested.status == 0, "\(ingested.stderr)")
        #expect(!ingested.stderr.contains("rejected"))
        let built = try strata(["training-set", "--db", db, "--features", packageRoot + "/fixtures/features/w1.yaml", "--labels", "labels", "--out", "w1"])
        #expect(built.stdout.contains("w1: 30,000 rows × 32 columns"), "\(built.stderr)")
        let rows = try strata(["scan", "--db", db, "w1", "--format", "csv"]).stdout.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        let header = rows[0].map(String.init)
        let active = header.firstIndex(of: "w90_active_days")!
        let lastPlan = header.firstIndex(of: "last_payment_plan_days")!
        let tenure = header.firstIndex(of: "tenure_days")!
        #expect(rows.count == 30_001)
        #expect(rows.dropFirst().allSatisfy { $0[active] == "0" }, "March logs are not before the 2017-03-01 cutoff")
        #expect(rows.dropFirst().allSatisfy { !$0[lastPlan].isEmpty }, "every user has a transaction before the cutoff")
        #expect(rows.dropFirst().allSatisfy { !$0[tenure].isEmpty && Int($0[tenure])! > 0 })
        #expect(try strata(["verify", "--db", db]).status == 0)
    }

    /// Progress shows on a terminal and stays out of pipes (Sources/strata/README.md). `script` gives the ingest a
    /// pseudo-terminal; the plain run above pipes its output.
    @Test func progressOnlyOnATerminal() throws {
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/script"), "util-linux script is missing")
        let directory = temporaryDirectory()
        _ = try strata(["generate", "--out", directory + "/csv", "--members", "3000", "--months", "6"])
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.arguments = ["-qec", "\(strataBinary) ingest --db \(directory)/tty \(directory)/csv/user_logs.csv", "/dev/null"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(text.contains("\ruser_logs.csv:") && text.contains("%"), "no progress on a terminal: \(text.prefix(200))")
        let piped = try strata(["ingest", "--db", directory + "/piped", directory + "/csv/user_logs.csv"])
        #expect(!piped.stdout.contains("%") && !piped.stderr.contains("%"))
    }
}
