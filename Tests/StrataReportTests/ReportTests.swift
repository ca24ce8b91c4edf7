import Foundation
import StrataTestSupport
import Testing
@testable import StrataFeatures
@testable import StrataFormat
@testable import StrataIngest
@testable import StrataReport
@testable import StrataStorage
@testable import StrataTrain

private func write(_ path: String, _ lines: [String]) throws {
    try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
}

private func msno(_ name: String) -> String { String((name + String(repeating: "x", count: 43)).prefix(43)) + "=" }

@Suite struct PopulationTests {
    /// Expiry just inside and just outside the 30 days, a cancellation, a user with no transaction, and a
    /// transaction dated on the as-of day (which must not count).
    @Test func theUsersWhoseMembershipExpiresInTheNext30Days() throws {
        let directory = temporaryDirectory()
        let tx = KKBoxTables.transactions.header.joined(separator: ",")
        let lines = [
            tx,
            "\(msno("first")),41,30,149,149,1,20170201,20170301,0",     // expires on as-of: in
            "\(msno("last")),41,30,149,149,1,20170205,20170330,0",      // as-of + 29: in
            "\(msno("outside")),41,30,149,149,1,20170206,20170331,0",   // as-of + 30: out
            "\(msno("past")),41,30,149,149,1,20170120,20170228,0",      // already expired: out
            "\(msno("cancel")),41,30,149,149,1,20170201,20170320,0",
            "\(msno("cancel")),41,30,149,0,0,20170210,20170215,1",      // cancelled: ends 02-15, before as-of: out
            "\(msno("cancel2")),41,30,149,149,1,20170201,20170410,0",
            "\(msno("cancel2")),41,30,149,0,0,20170220,20170310,1",     // cancelled: ends 03-10: in
            "\(msno("later")),41,30,149,149,1,20170201,20170315,0",
            "\(msno("later")),41,30,149,149,1,20170301,20170501,0",     // dated on as-of: ignored, so 03-15: in
        ]
        try write(directory + "/transactions.csv", lines)
        try write(directory + "/members.csv", [KKBoxTables.members.header.joined(separator: ","), "\(msno("nothing")),1,20,male,7,20150101"])
        let store = directory + "/db"
        _ = try Ingester.ingest(store: store, files: [directory + "/members.csv", directory + "/transactions.csv"])
        let opened = try Store(path: store)
        let population = try Population(store: opened, asOfDay: Int64(Dates.dayNumber(yyyymmdd: 20170301)!))
        let entities = try opened.loadEntities()
        let names = Set(population.entities.map { entities.string(Int($0)) })
        #expect(names == [msno("first"), msno("last"), msno("cancel2"), msno("later")])
        let later = population.entities.firstIndex { entities.string(Int($0)) == msno("later") }!
        #expect(population.expiryDays[later] == Int64(Dates.dayNumber(yyyymmdd: 20170315)!))
        #expect(population.cancelled[population.entities.firstIndex { entities.string(Int($0)) == msno("cancel2") }!])
        #expect(population.latestTransactionDay == Int64(Dates.dayNumber(yyyymmdd: 20170220)!))
    }
}

@Suite(.serialized) struct WeeklyReportTests {
    /// Generated data with campaigns → churn model in production → uplift model → a report.
    static func store() throws -> (directory: String, store: String) {
        let (directory, store) = try generatedStore(members: 1500, months: 8, labelMonths: 6, tables: kkboxTables + ["campaigns"])
        _ = try TrainingSetBuilder.build(storePath: store, request: TrainingSetRequest(featuresFile: packageRoot + "/fixtures/features/w1.yaml", labelsTable: "labels", outputTable: "w1"))
        var train = TrainRequest(trainingSet: "w1")
        train.register = "churn"
        train.parameters.rounds = 30
        train.parameters.threads = 1
        _ = try TrainingRunner.run(storePath: store, request: train)
        _ = try ModelRegistry.promote(storePath: store, name: "churn", version: 1, stage: "production")
        var uplift = UpliftRequest()
        uplift.register = "uplift"
        uplift.parameters.rounds = 30
        uplift.parameters.threads = 1
        let run = try UpliftTrainer.run(storePath: store, request: uplift)
        #expect(run.record.uplift?.arms.map(\.discountPct) == [10, 20, 30])
        return (directory, store)
    }

    static let asOf = Int64(Dates.dayNumber(yyyymmdd: 20160701)!)

    /// Events on or after the as-of day change nothing: the report reads strictly before it.
    @Test func eventsOnOrAfterTheDayChangeNothing() throws {
        let (directory, store) = try Self.store()
        let before = try ReportBuilder.build(ReportRequest(storePath: store, asOfDay: Self.asOf))
        #expect(!before.rows.isEmpty)
        let users = before.rows.prefix(20).map(\.msno)
        var tx = [KKBoxTables.transactions.header.joined(separator: ",")]
        var logs = [KKBoxTables.userLogs.header.joined(separator: ",")]
        for user in users {
            tx.append("\(user),41,30,149,0,0,20160701,20160702,1")
            tx.append("\(user),41,30,149,149,1,20160715,20160901,0")
            logs.append("\(user),20160701,50,0,0,0,0,1,99999.5")
            logs.append("\(user),20160720,50,0,0,0,0,1,99999.5")
        }
        try write(directory + "/future_tx.csv", tx)
        try write(directory + "/future_logs.csv", logs)
        _ = try Ingester.ingest(store: store, files: [directory + "/future_tx.csv", directory + "/future_logs.csv"])
        let after = try ReportBuilder.build(ReportRequest(storePath: store, asOfDay: Self.asOf))
        #expect(after.csv() == before.csv())
        // Only the store version the report names differs.
        func withoutVersion(_ report: WeeklyReport) -> String {
            report.html().replacingOccurrences(of: "<td>\(report.inputVersion) (rebuild: strata report --version \(report.inputVersion) ", with: "<td>")
        }
        #expect(withoutVersion(after) == withoutVersion(before))
        #expect(after.inputVersion > before.inputVersion)
    }

    /// The same inputs give one record; a second run commits nothing; bad input commits nothing.
    @Test func oneRecordPerWeekAndClearErrors() throws {
        let (_, store) = try Self.store()
        let report = try ReportBuilder.build(ReportRequest(storePath: store, asOfDay: Self.asOf))
        #expect(report.bucketCounts.values.reduce(0, +) == report.rows.count)
        #expect(report.rows.allSatisfy { $0.reasons.count <= 3 && [0, 10, 20, 30].contains($0.discount) && ($0.expectedValue ?? -1) >= 0 })
        guard case .recorded = try ReportStore.record(report, storePath: store) else { Issue.record("not recorded"); return }
        let again = try ReportBuilder.build(ReportRequest(storePath: store, asOfDay: Self.asOf))
        #expect(again.fingerprint == report.fingerprint)
        #expect(try ReportStore.record(again, storePath: store) == .unchanged)
        #expect(try ReportStore.entries(store: Store(path: store)).count == 1)
        let version = try Store(path: store).version

        var unknown = ReportRequest(storePath: store, asOfDay: Self.asOf)
        unknown.model = "nosuch@production"
        #expect(throws: TrainError.self) { try ReportBuilder.build(unknown) }
        #expect(throws: ReportError.self) { try ReportBuilder.build(ReportRequest(storePath: store, asOfDay: Int64(Dates.dayNumber(yyyymmdd: 19990101)!))) }
        #expect(throws: ReportError.self) { try ReportBuilder.build(ReportRequest(storePath: store, asOfDay: Int64(Dates.dayNumber(yyyymmdd: 20300101)!))) }
        #expect(try Store(path: store).version == version)
    }

    /// Each chart is a PNG cairo wrote, and the mail names each by Content-ID.
    @Test func chartsArePNGAndTheMessageHasEveryPart() throws {
        let (_, store) = try Self.store()
        let report = try ReportBuilder.build(ReportRequest(storePath: store, asOfDay: Self.asOf))
        for chart in report.charts {
            let png = try chart.png()
            #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
            #expect(png.count > 500)
        }
        let message = String(decoding: try ReportMessage.build(report, from: "a@b.example", to: ["c@d.example"], subject: "r {as_of}", boundarySeed: "x"), as: UTF8.self)
        for chart in report.charts { #expect(message.contains("Content-ID: <chart-\(chart.id)@strata>")) }
        #expect(message.contains("Subject: r 2016-07-01"))
        #expect(message.contains("filename=\"report-20160701.csv\""))
    }

    @Test func emailConfigsThatAreWrongAreRefused() throws {
        let directory = temporaryDirectory()
        let cases: [(String, String)] = [
            ("smtp: {url: 'http://x'}\nfrom: a@b.c\nto: [d@e.f]", "smtp.url"),
            ("smtp: {url: 'smtp://x', password: hunter2}\nfrom: a@b.c\nto: [d@e.f]", "never written"),
            ("smtp: {url: 'smtp://x', username: u, password_env: NOT_SET_ANYWHERE}\nfrom: a@b.c\nto: [d@e.f]", "not set"),
            ("smtp: {url: 'smtp://x'}\nfrom: nobody\nto: [d@e.f]", "from"),
            ("smtp: {url: 'smtp://x'}\nfrom: a@b.c\nto: []", "to must"),
            ("smtp: {url: 'smtp://x', starttls: maybe}\nfrom: a@b.c\nto: [d@e.f]", "starttls"),
            ("smtp: {url: 'smtp://x'}\nfrom: a@b.c\nto: [d@e.f]\nbcc: x", "unknown key"),
            ("smtp: [", "YAML"),
            ("smtp: {url: 'smtp://x.example'}\nfrom: a@b.c\nto: [d@e.f]\nsubject: \"r\\r\\nBcc: evil@e.f\"", "control characters"),
            ("smtp: {url: 'smtp://x.example'}\nfrom: a@b.c\nto: [d@e.f]\nsubject: \"r\\0\"", "control characters"),
            ("smtp: {url: 'smtp://user:pw@x.example:25'}\nfrom: a@b.c\nto: [d@e.f]", "user name or password"),
            ("smtp: {url: 'smtp://x.example:99999'}\nfrom: a@b.c\nto: [d@e.f]", "smtp.url"),
            ("smtp: {url: 'smtp://x.example/path'}\nfrom: a@b.c\nto: [d@e.f]", "smtp.url"),
            ("smtp: {url: 'smtp://x.example', starttls: optional, username: u, password_env: PW}\nfrom: a@b.c\nto: [d@e.f]", "clear text"),
        ]
        for (index, (text, expected)) in cases.enumerated() {
            let path = directory + "/c\(index).yaml"
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            do {
                _ = try EmailConfig.load(path, environment: ["PW": "x"])
                Issue.record("accepted: \(text)")
            } catch let error as ReportError {
                #expect(error.message.contains(expected), "\(error.message)")
            }
        }
        try "smtp: {url: 'smtp://127.0.0.1:25', username: u, password_env: PW}\nfrom: a@b.c\nto: d@e.f".write(toFile: directory + "/ok.yaml", atomically: true, encoding: .utf8)
        let config = try EmailConfig.load(directory + "/ok.yaml", environment: ["PW": "secret"])
        #expect(config.password == "secret" && config.to == ["d@e.f"] && config.tls == .required)
        // A long non-ASCII subject folds into encoded words of at most 75 characters, no header line over 78.
        let header = ReportMessage.encodedHeader(String(repeating: "réduction 🎯 ", count: 12))
        for line in header.components(separatedBy: "\r\n") { #expect(line.utf8.count <= 78) }
        #expect(header.components(separatedBy: "\r\n").count > 1 && !header.contains("\n\n"))
    }
}

