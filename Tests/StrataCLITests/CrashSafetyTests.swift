import Foundation
import StrataTestSupport
import Testing
@testable import StrataFeatures
@testable import StrataStorage
@testable import StrataTrain

/// Writers killed with SIGKILL, writes that run out of space, and readers during writes: the store stays
/// at a committed version, `verify` (every layer) finds no damage, and `gc` removes only orphans.
@Suite(.serialized) struct CrashSafetyTests {
    init() throws {
        try #require(FileManager.default.isExecutableFile(atPath: strataBinary), "build the CLI first: swift build (looked for \(strataBinary))")
    }

    /// Every layer's verify, as `strata verify` runs it.
    func fullVerify(_ db: String) throws -> VerifyReport {
        var report = try Store.verify(path: db)
        report.merge(try FeatureStoreVerifier.verify(path: db))
        report.merge(try RunVerifier.verify(path: db))
        return report
    }

    @Test func killedDerivedWritersNeverDamageTheStore() throws {
        let db = try hardeningStore()
        let commands: [[String]] = [
            ["training-set", "--db", db, "--features", w1View, "--labels", "labels", "--out", "again", "--replace"],
            ["train", "--db", db, "--training-set", "train", "--rounds", "30", "--register", "churn"],
            ["predict", "--db", db, "--model", "churn@production", "--as-of", "20160601", "--out", "scores", "--replace", "--explain", "all"],
            ["features", "materialize", "--db", db, "--as-of", "20160515"],
        ]
        var random = SystemRandomNumberGenerator()
        var killed = 0
        var committed = try Store(path: db).version
        for attempt in 0..<16 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: strataBinary)
            process.arguments = commands[attempt % commands.count]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            usleep(UInt32.random(in: 5_000...250_000, using: &random))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            if process.terminationReason == .uncaughtSignal { killed += 1 }
            let version = try Store(path: db).version
            #expect(version == committed || version == committed + 1, "attempt \(attempt)")
            committed = version
            let report = try fullVerify(db)
            #expect(report.isClean, "attempt \(attempt) (\(commands[attempt % commands.count][0])): \(report.problems)")
        }
        #expect(killed > 0, "no writer was actually killed mid-way")
        #expect(try strata(["gc", "--db", db]).status == 0)
        let after = try fullVerify(db)
        #expect(after.isClean && after.orphans.isEmpty, "\(after.problems) \(after.orphans)")
        // The store still takes every kind of write.
        for command in commands { #expect(try strata(command).status == 0, "\(command[0])") }
    }

    /// A file size limit (`ulimit -f`, SIGXFSZ ignored) makes writes fail with EFBIG part way, as a full
    /// disk does with ENOSPC: every command fails with a message naming the file and leaves no damage.
    @Test func writesThatRunOutOfSpaceFailCleanly() throws {
        let db = try hardeningStore()
        var version = try Store(path: db).version
        var failures = 0
        let commands: [[String]] = [
            ["training-set", "--db", db, "--features", w1View, "--labels", "labels", "--out", "again", "--replace"],
            ["train", "--db", db, "--training-set", "train", "--rounds", "30"],
            ["predict", "--db", db, "--model", "churn@production", "--as-of", "20160601", "--out", "scores", "--replace"],
            ["features", "materialize", "--db", db, "--as-of", "20160515"],
        ]
        for limitKB in [1, 4, 16, 64] {
            for command in commands {
                let shell = Process()
                shell.executableURL = URL(fileURLWithPath: "/bin/bash")
                let quoted = ([strataBinary] + command).map { "'\($0)'" }.joined(separator: " ")
                shell.arguments = ["-c", "trap '' XFSZ; ulimit -f \(limitKB); exec \(quoted) 2>&1 >/dev/null"]
                let output = Pipe()
                shell.standardOutput = output
                try shell.run()
                let message = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                shell.waitUntilExit()
                if shell.terminationStatus == 0 {  // small enough to fit
                    version += 1
                    continue
                }
                failures += 1
                #expect(shell.terminationStatus == 1, "\(command[0]) at \(limitKB) KB: \(shell.terminationStatus) \(message)")
                #expect(message.contains("strata: error:") && message.contains(db), "\(command[0]) at \(limitKB) KB: \(message)")
                #expect(try Store(path: db).version == version)
                let report = try fullVerify(db)
                #expect(report.isClean && report.orphans.isEmpty, "\(command[0]) at \(limitKB) KB: \(report.problems) \(report.orphans)")
            }
        }
        #expect(failures >= commands.count, "the limits never made a write fail")
    }

    /// Readers never see a half-written version while a writer commits, and never fail for it.
    @Test func readersDuringWritesSeeWholeVersions() throws {
        let db = try hardeningStore()
        let csv = (hardeningBase as NSString).deletingLastPathComponent + "/csv/labels.csv"
        let perIngest = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n").count - 1
        let before = Int(try strata(["query", "--db", db, "SELECT count(*) FROM labels", "--format", "csv"]).stdout.split(separator: "\n")[1])!
        let writer = Process()
        writer.executableURL = URL(fileURLWithPath: "/bin/bash")
        writer.arguments = ["-c", "for i in 1 2 3 4 5 6; do '\(strataBinary)' ingest --db '\(db)' --wait 30 --allow-duplicate '\(csv)' >/dev/null || exit 1; done"]
        try writer.run()
        var reads = 0
        while writer.isRunning || reads < 5 {
            let outcome = try strata(["query", "--db", db, "SELECT count(*) FROM labels", "--format", "csv"])
            #expect(outcome.status == 0, "\(outcome.stderr)")
            let count = Int(outcome.stdout.split(separator: "\n").last ?? "") ?? -1
            #expect(count >= before && (count - before) % perIngest == 0, "read \(reads): \(count) rows")
            reads += 1
        }
        writer.waitUntilExit()
        #expect(writer.terminationStatus == 0)
        #expect(try fullVerify(db).isClean)
    }

    @Test func joinsAreBoundByTheMemoryLimit() throws {
        let db = try hardeningStore()
        try expectRefused(["query", "--db", db, "SELECT count(*) FROM user_logs a JOIN user_logs b USING (msno)", "--memory-limit", "4"],
                          "needs more than the query memory limit of 4 MiB")
    }
}
