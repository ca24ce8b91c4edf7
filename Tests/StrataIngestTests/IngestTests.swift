import Foundation
import StrataTestSupport
import Testing
@testable import StrataFormat
@testable import StrataIngest
@testable import StrataStorage

let fixtures = packageRoot + "/fixtures/csv"


func write(_ text: String, to path: String) {
    try! Data(text.utf8).write(to: URL(fileURLWithPath: path))
}

@Suite struct CSVQuirksTests {
    @Test func bomCRLFQuotesEmptyFieldsISODatesAndNoFinalNewline() throws {
        let store = temporaryDirectory()
        let report = try Ingester.ingest(store: store, files: [fixtures + "/members_quirks.csv"])
        #expect(report.rejectedCount == 0)
        #expect(try tableCells(store, "members") == [
            ["QA7uiXy8vIbUSPOkCf9RwQ3FsT8jVq2OxDr8zqa7bRQ=", "1", "0", "NULL", "7", "20131223"],
            // Ages of 1034 are data, kept as they are; the ISO date of one real sample is read as a date.
            ["fGwBva6hikQmTJzrbz/2Ezjm5Cth5jZUNvXigKK2AFA=", "1", "1034", "male", "9", "20110914"],
            ["zkkxr0/f0\"odd", "13", "-3000", "female", "4", "20040326"],
            ["Gnc4lbHlqk/VSXnt5vbWVgkKeWmBUpzMG/VhBfo46Pk=", "NULL", "NULL", "NULL", "NULL", "NULL"],
        ])
    }

    @Test func quotedFieldsMayHoldDelimitersAndNewlines() throws {
        let directory = temporaryDirectory()
        write("msno,city,bd,gender,registered_via,registration_init_time\n\"a,b\",1,2,\"line\nbreak\",3,20170101\nc,1,2,x,3,20170101\n", to: directory + "/m.csv")
        let report = try Ingester.ingest(store: directory + "/db", files: [directory + "/m.csv"])
        #expect(report.rejectedCount == 0)
        #expect(try tableCells(directory + "/db", "members").map { $0[0] + "|" + $0[3] } == ["a,b|line\nbreak", "c|x"])
    }

    @Test func floatsAreBitExactToTheParsedDouble() throws {
        let store = temporaryDirectory()
        _ = try Ingester.ingest(store: store, files: [fixtures + "/user_logs_edges.csv"])
        let stored = try tableCells(store, "user_logs").map { $0[8] }
        // As format-spec §10 prints them: the shortest text that reads back as the same double.
        let expected = ["451700.899", "-9223372036854776.0", "1e-05", "0.1", "1.2345678901234567e+19"]
        #expect(expected.map { Double($0)! } == ["451700.899", "-9223372036854775.5", "1e-05", "0.1", "12345678901234567890"].map { Double($0)! })
        // Partitions come back in month order: 201612 first.
        #expect(Set(stored) == Set(expected))
        #expect(stored.count == 5)
    }

    @Test func fieldParsersAgreeWithStrtod() {
        var random = TestRandom(state: 5)
        for _ in 0..<20_000 {
            let text: String
            switch random.below(4) {
            case 0: text = "\(random.below(100_000)).\(random.below(1000))"
            case 1: text = "-\(random.below(1 << 30)).\(random.below(1_000_000_000))"
            case 2: text = String(Double(bitPattern: random.next() >> 2))
            default: text = "\(random.below(999_999_999))\(random.below(999_999_999)).\(random.below(99))"
            }
            let parsed = Array(text.utf8).withUnsafeBytes { FieldParsers.float64($0) }
            #expect(parsed?.bitPattern == Double(text)?.bitPattern, "\(text)")
        }
        for bad in ["", "-", "1.2.3", "abc", "nan", "inf", "0x10", "1,5"] {
            #expect(Array(bad.utf8).withUnsafeBytes { FieldParsers.float64($0) } == nil, "\(bad)")
        }
        #expect(Array("9223372036854775807".utf8).withUnsafeBytes { FieldParsers.int64($0) } == .max)
        #expect(Array("-9223372036854775808".utf8).withUnsafeBytes { FieldParsers.int64($0) } == .min)
        #expect(Array("9223372036854775808".utf8).withUnsafeBytes { FieldParsers.int64($0) } == nil)
    }
}

@Suite struct RejectTests {
    @Test func badLinesAreRejectedWithFileLineColumnAndReason() throws {
        let store = temporaryDirectory()
        let file = fixtures + "/transactions_bad.csv"
        var options = IngestOptions()
        options.maxRejects = .fraction(1)
        let report = try Ingester.ingest(store: store, files: [file], options: options)
        #expect(report.files[0].rowsIngested == 6)
        #expect(report.rejectedCount == 4)
        #expect(report.rejects.map(\.line) == [5, 6, 7, 8])
        #expect(report.rejects.map(\.column) == [nil, "payment_plan_days", "transaction_date", "msno"])
        #expect(report.rejects[0].reason.contains("expected 9 fields"))
        #expect(report.rejects[1].reason.contains("'thirty' is not an integer"))
        #expect(report.rejects[2].reason.contains("'20150230' is not a valid date"))
        let rejectsFile = try String(contentsOfFile: store + "/" + report.rejectsFiles[0], encoding: .utf8)
        #expect(rejectsFile.split(separator: "\n").count == 5)
        #expect(rejectsFile.contains("bad-line-too-few-fields"))
        // Kept on purpose: the epoch expiry, expiry before the transaction, plan_days 0, duplicate rows.
        let kept = try tableCells(store, "transactions")
        #expect(kept.contains { $0[7] == "19700101" })
        #expect(kept.contains { $0[6] == "20151223" && $0[7] == "20140312" && $0[8] == "1" })
        #expect(kept.filter { $0[2] == "0" && $0[3] == "0" }.count == 2)
    }

    @Test func strictModeLeavesTheStoreExactlyAsItWas() throws {
        let store = temporaryDirectory()
        _ = try Ingester.ingest(store: store, files: [fixtures + "/members_quirks.csv"])
        let before = try FileManager.default.subpathsOfDirectory(atPath: store).sorted()
        var options = IngestOptions()
        options.strict = true
        options.allowDuplicate = true
        #expect(throws: IngestError.malformed(file: fixtures + "/transactions_bad.csv", line: 5, column: nil,
                                              reason: "expected 9 fields (msno,payment_method_id,payment_plan_days,plan_list_price,actual_amount_paid,is_auto_renew,transaction_date,membership_expire_date,is_cancel), found 3 (--strict: nothing was ingested)")) {
            try Ingester.ingest(store: store, files: [fixtures + "/members_quirks.csv", fixtures + "/transactions_bad.csv"], options: options)
        }
        #expect(try FileManager.default.subpathsOfDirectory(atPath: store).sorted() == before)
        #expect(try Store(path: store).version == 1)
    }

    @Test func unusableFilesStopTheIngestWithAClearError() throws {
        let directory = temporaryDirectory()
        #expect(throws: IngestError.emptyFile(file: fixtures + "/empty.csv")) { try Ingester.ingest(store: directory + "/db", files: [fixtures + "/empty.csv"]) }
        write("a,b,c\n1,2,3\n", to: directory + "/other.csv")
        #expect(throws: IngestError.self) { try Ingester.ingest(store: directory + "/db", files: [directory + "/other.csv"]) }
        #expect(throws: IngestError.missingCutoff(file: fixtures + "/train.csv")) { try Ingester.ingest(store: directory + "/db", files: [fixtures + "/train.csv"]) }
        #expect(throws: IngestError.self) { try Ingester.ingest(store: directory + "/db", files: [directory + "/missing.csv"]) }
        // Nothing was committed by the failed attempts, and no empty store was left behind.
        #expect(!FileManager.default.fileExists(atPath: directory + "/db"))
    }

    @Test func kaggleTrainTakesItsCutoffFromTheCommandLine() throws {
        let store = temporaryDirectory()
        var options = IngestOptions()
        options.cutoffDay = Int64(Dates.dayNumber(yyyymmdd: 20_170_301)!)
        _ = try Ingester.ingest(store: store, files: [fixtures + "/train.csv"], options: options)
        #expect(try tableCells(store, "labels") == [
            ["YyO+tlZtAXYXoZhNr3Vg3+dfVQvrBVGO8j1mfqe4ZHc=", "20170301", "0"],
            ["AZtu6Wl0gPojrEQYB8Q3vBSmE2wnZ3hi1FbK1rQQ0A4=", "20170301", "1"],
        ])
    }
}

@Suite struct RoundTripTests {
    /// Generated CSV in, every value back out: the stored table equals the parsed CSV, row for row, in the
    /// clustered order of format-spec §8 once compacted; before that, each segment is clustered and the
    /// table holds the same rows.
    @Test func generatedDatasetRoundTripsExactly() throws {
        let directory = temporaryDirectory()
        var options = GeneratorOptions()
        options.memberCount = 400
        options.monthCount = 4
        options.labelMonthCount = 2
        var generator = DatasetGenerator(options: options)
        let generated = try generator.generate(into: directory)
        #expect(generated.userLogCount > 10_000)
        // Each file in two halves, so that every partition gets a segment from each (several segments per
        // partition, each clustered, the second one's rows later in ingestion order).
        let files = ["members", "transactions", "user_logs", "labels", "campaigns"]
        var halves: [String] = []
        for name in files {
            let lines = try String(contentsOfFile: directory + "/\(name).csv", encoding: .utf8).split(separator: "\n")
            let middle = 1 + (lines.count - 1) / 2
            for (suffix, part) in [("a", lines[1..<middle]), ("b", lines[middle...])] {
                halves.append(directory + "/\(name)-\(suffix).csv")
                try ([lines[0]] + part).joined(separator: "\n").appending("\n").write(toFile: halves.last!, atomically: true, encoding: .utf8)
            }
        }
        _ = try Ingester.ingest(store: directory + "/db", files: halves)
        // Entity ids in order of first appearance, file by file in ingest order.
        var ids: [String: Int] = [:]
        var expected: [String: [[String]]] = [:]
        for name in files {
            let table = KKBoxTables.all.first { $0.name == name }!
            let csv = try String(contentsOfFile: directory + "/\(name).csv", encoding: .utf8).split(separator: "\n").dropFirst()
            let rows = csv.map { line in
                line.split(separator: ",", omittingEmptySubsequences: false).enumerated().map { index, field -> String in
                    if field.isEmpty { return "NULL" }
                    return table.columns[index].schema.type == .float64 ? String(Double(field)!) : String(field)
                }
            }
            for row in rows where ids[row[0]] == nil { ids[row[0]] = ids.count }
            // Partition by partition, then by (user id, date), file order among equal keys.
            let partition = table.partitionIndex
            func key(_ row: [String], _ offset: Int) -> [Int] {
                [partition.map { Int(row[$0])! / 100 } ?? 0, ids[row[0]]!, partition.map { Int(row[$0])! } ?? 0, offset]
            }
            expected[name] = rows.enumerated().sorted { key($0.element, $0.offset).lexicographicallyPrecedes(key($1.element, $1.offset)) }.map(\.element)
        }
        var segmentsPerPartition = 0
        for name in files {
            let manifest = try Store(path: directory + "/db").table(name)
            #expect(manifest.segments.allSatisfy { $0.sortedBy == manifest.clusteringKey && $0.sortedBy != nil }, "\(name)")
            segmentsPerPartition = max(segmentsPerPartition, Dictionary(grouping: manifest.segments, by: \.partition).values.map(\.count).max() ?? 0)
            let cells = try tableCells(directory + "/db", name)
            #expect(cells.sorted { $0.lexicographicallyPrecedes($1) } == expected[name]!.sorted { $0.lexicographicallyPrecedes($1) }, "\(name)")
        }
        #expect(segmentsPerPartition > 1)
        #expect(try Store.verify(path: directory + "/db").isClean)
        for name in files { _ = try Store.compact(path: directory + "/db", table: name) }
        for name in files {
            #expect(try tableCells(directory + "/db", name) == expected[name]!, "\(name)")
            let manifest = try Store(path: directory + "/db").table(name)
            #expect(Dictionary(grouping: manifest.segments, by: \.partition).values.allSatisfy { $0.count == 1 }, "\(name)")
        }
        #expect(try Store.verify(path: directory + "/db").isClean)
    }

    @Test func generatorIsDeterministicPerSeed() throws {
        var options = GeneratorOptions()
        options.memberCount = 200
        options.monthCount = 3
        let first = temporaryDirectory() + "/a"
        let second = temporaryDirectory() + "/b"
        var a = DatasetGenerator(options: options)
        var b = DatasetGenerator(options: options)
        _ = try a.generate(into: first)
        _ = try b.generate(into: second)
        for name in ["members", "transactions", "user_logs", "labels"] {
            #expect(FileManager.default.contentsEqual(atPath: first + "/\(name).csv", andPath: second + "/\(name).csv"))
        }
        options.seed = 43
        var c = DatasetGenerator(options: options)
        let third = temporaryDirectory() + "/c"
        _ = try c.generate(into: third)
        #expect(!FileManager.default.contentsEqual(atPath: first + "/user_logs.csv", andPath: third + "/user_logs.csv"))
    }

    /// A small dataset (6 months, labels in the last 3, no campaigns) with `configure` applied.
    static func generateSmall(members: Int, tag: String, _ configure: (inout GeneratorOptions) -> Void = { _ in }) throws
        -> (report: GeneratorReport, directory: String) {
        var options = GeneratorOptions()
        options.memberCount = members
        options.monthCount = 6
        options.labelMonthCount = 3
        options.campaignShare = 0
        configure(&options)
        let directory = temporaryDirectory() + "/" + tag
        var generator = DatasetGenerator(options: options)
        return (try generator.generate(into: directory), directory)
    }

    @Test func activityScalesListeningDaysAndKeepsTheChurnRate() throws {
        func generate(_ activity: Double) throws -> (report: GeneratorReport, directory: String) {
            try Self.generateSmall(members: 1500, tag: "activity-\(activity)") { $0.activity = activity }
        }
        let usual = try generate(1), dense = try generate(1.6), sparse = try generate(0.5)
        // 1 is the generator as it was: the same bytes as without the option.
        let plain = try Self.generateSmall(members: 1500, tag: "plain")
        #expect(FileManager.default.contentsEqual(atPath: usual.directory + "/user_logs.csv", andPath: plain.directory + "/user_logs.csv"))
        let ratioDense = Double(dense.report.userLogCount) / Double(usual.report.userLogCount)
        let ratioSparse = Double(sparse.report.userLogCount) / Double(usual.report.userLogCount)
        #expect(ratioDense > 1.4 && ratioDense < 1.65, "user_logs at 1.6: \(ratioDense)×")
        #expect(ratioSparse > 0.4 && ratioSparse < 0.6, "user_logs at 0.5: \(ratioSparse)×")
        func churnRate(_ report: GeneratorReport) -> Double { Double(report.churnCount) / Double(max(1, report.labelCount)) }
        for other in [dense, sparse] {
            #expect(abs(churnRate(other.report) - churnRate(usual.report)) < 0.04,
                    "churn \(churnRate(other.report)) against \(churnRate(usual.report)) at activity 1")
        }
    }
}

@Suite struct SegmentLimitTests {
    @Test func aSegmentIsWrittenBeforeItWouldPassItsRowLimit() throws {
        // Two months of about 150,000 log rows each: a month spans several 8 MiB blocks, so its buffer
        // would pass the limit when the next block's rows arrive.
        let data = try RoundTripTests.generateSmall(members: 12_000, tag: "segments") { $0.monthCount = 2; $0.labelMonthCount = 1 }
        var options = IngestOptions()
        options.segmentRowCountMax = 120_000
        let limited = temporaryDirectory() + "/limited"
        _ = try Ingester.ingest(store: limited, files: [data.directory + "/user_logs.csv"], options: options)
        let segments = try Store(path: limited).manifest.tables["user_logs"]!.segments
        #expect(segments.count >= 3, "\(segments.map(\.rowCount))")
        #expect(segments.allSatisfy { $0.rowCount <= 120_000 }, "\(segments.map(\.rowCount))")
        // The same rows as one segment a month.
        let whole = temporaryDirectory() + "/whole"
        _ = try Ingester.ingest(store: whole, files: [data.directory + "/user_logs.csv"])
        #expect(try tableCells(limited, "user_logs").sorted { $0.lexicographicallyPrecedes($1) }
                == tableCells(whole, "user_logs").sorted { $0.lexicographicallyPrecedes($1) })
    }
}

@Suite struct SubscriberShareTests {
    @Test func membersWhoNeverSubscribeHaveNoOtherRows() throws {
        func generate(_ share: Double) throws -> (report: GeneratorReport, directory: String) {
            try RoundTripTests.generateSmall(members: 3000, tag: "share-\(share)") { $0.subscriberShare = share }
        }
        let all = try generate(1), some = try generate(0.35)
        #expect(some.report.memberCount == all.report.memberCount)
        for (name, fewer, more) in [("user_logs", some.report.userLogCount, all.report.userLogCount),
                                    ("transactions", some.report.transactionCount, all.report.transactionCount),
                                    ("labels", some.report.labelCount, all.report.labelCount)] {
            let ratio = Double(fewer) / Double(more)
            #expect(ratio > 0.27 && ratio < 0.43, "\(name) at 0.35: \(ratio)×")
        }
        // Everyone with a transaction, a log or a label is a member, and about a third of the members have any.
        func users(_ file: String) throws -> Set<Substring> {
            let text = try String(contentsOfFile: some.directory + "/" + file, encoding: .utf8)
            return Set(text.split(separator: "\n").dropFirst().map { $0.prefix { $0 != "," } })
        }
        let members = try users("members.csv")
        let active = try users("transactions.csv").union(try users("user_logs.csv")).union(try users("labels.csv"))
        #expect(active.isSubset(of: members))
        let share = Double(active.count) / Double(members.count)
        #expect(share > 0.3 && share < 0.4, "members with rows: \(share)")
    }
}

/// The real KKBox rows in ../shared/kkbox-sample (see its SOURCES.md) ingest with every quirk kept.
@Suite struct RealSampleTests {
    static let samples = packageRoot + "/../shared/kkbox-sample"

    func csvFiles() -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: Self.samples) else { return [] }
        return enumerator.compactMap { $0 as? String }.filter { $0.hasSuffix(".csv") }.sorted().map { Self.samples + "/" + $0 }
    }

    @Test(.enabled(if: sharedSamplesPresent, "../shared/kkbox-sample is absent (a fresh clone has none): skipped"))
    func everyRealSampleIngests() throws {
        let files = csvFiles()
        try #require(!files.isEmpty, "../shared/kkbox-sample holds no CSV")
        for file in files {
            let header = try String(contentsOfFile: file, encoding: .utf8).prefix(200).split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
            if header.trimmingCharacters(in: .whitespaces) == "msno" { continue }  // an id list, not a table
            // Kaggle's train.csv layout takes its cutoff from the command line; the other tables have theirs.
            var options = IngestOptions()
            if (header.hasSuffix("is_churn") || header.hasSuffix("is_churn\r")) && !header.contains("cutoff_date") {
                options.cutoffDay = Int64(Dates.dayNumber(yyyymmdd: 20_170_301)!)
            }
            let store = temporaryDirectory() + "/db"
            let report = try Ingester.ingest(store: store, files: [file], options: options)
            let lines = try String(contentsOfFile: file, encoding: .utf8).split(whereSeparator: \.isNewline).count - 1
            #expect(report.rejectedCount == 0, "\(file): \(report.rejects.prefix(3))")
            #expect(report.files[0].rowsIngested == lines, "\(file)")
            #expect(try Store.verify(path: store).isClean)
        }
    }
}

@Suite struct TextValidationTests {
    /// The word-at-a-time ASCII test must see a high byte wherever it lies, and let real UTF-8 through.
    @Test func utf8IsCheckedAtEveryPosition() {
        func valid(_ bytes: [UInt8]) -> Bool { bytes.withUnsafeBytes { FieldParsers.isValidUTF8($0) } }
        let msno = Array("itVMtS0XD3PP6BMZxn94K5NjQFtcsM5UYJNlfB5Yf/K=".utf8)
        #expect(valid(msno) && valid([]) && valid(Array("männlich".utf8)) && valid(Array("女性".utf8)))
        for position in msno.indices {
            var damaged = msno
            damaged[position] = 0xFF
            #expect(!valid(damaged), "a 0xFF at \(position)")
            damaged[position] = 0xC3  // a lead byte with no continuation
            #expect(!valid(damaged), "a lone lead byte at \(position)")
        }
    }
}

@Suite struct FastParserTests {
    @Test func theCommaScanAgreesWithAByteByByteScan() {
        // Every position of a comma, none, and several, in lines of 0 to 40 bytes.
        var random = TestRandom(state: 3)
        for length in 0...40 {
            for _ in 0..<50 {
                let bytes: [UInt8] = (0..<length).map { _ in random.below(6) == 0 ? UInt8(ascii: ",") : UInt8(random.below(200) + 1) }
                bytes.withUnsafeBytes { raw in
                    for from in 0...length {
                        let expected = (from..<length).first { bytes[$0] == UInt8(ascii: ",") } ?? length
                        #expect(RowParser.comma(in: raw, from: from, to: length) == expected)
                    }
                }
            }
        }
    }

    @Test func repeatedAndAlternatingDatesParseAsTheirOwnDays() throws {
        // The parser keeps each date column's last text: the same day again, the other spelling of it, a
        // different day with the same first eight bytes, and a bad date after a good one.
        let directory = temporaryDirectory()
        let lines = ["msno,date,num_25,num_50,num_75,num_985,num_100,num_unq,total_secs",
                     "a,20170101,1,1,1,1,1,1,1.0", "b,20170101,1,1,1,1,1,1,1.0", "c,2017-01-01,1,1,1,1,1,1,1.0",
                     "d,2017-01-02,1,1,1,1,1,1,1.0", "e,2017-01-02,1,1,1,1,1,1,1.0", "f,20170102,1,1,1,1,1,1,1.0",
                     "g,20170132,1,1,1,1,1,1,1.0", "h,20170102,1,1,1,1,1,1,1.0", "i,2017-01-0x,1,1,1,1,1,1,1.0",
                     "j,2017-01-03,1,1,1,1,1,1,1.0"]
        write(lines.joined(separator: "\n") + "\n", to: directory + "/user_logs.csv")
        var options = IngestOptions()
        options.maxRejects = .count(5)
        let report = try Ingester.ingest(store: directory + "/db", files: [directory + "/user_logs.csv"], options: options)
        #expect(report.rejectedCount == 2)
        let cells = try tableCells(directory + "/db", "user_logs").map { $0[0] + " " + $0[1] }
        #expect(cells.sorted() == ["a 20170101", "b 20170101", "c 20170101", "d 20170102", "e 20170102", "f 20170102",
                                   "h 20170102", "j 20170103"])
    }
}
