import ArgumentParser
import Dispatch
import Foundation
import StrataFeatures
import StrataMonitor
import StrataQuery
import StrataStorage
import StrataTrain

/// Commands that only the benchmarks of tools/bench need, kept out of the product CLI: each times an
/// operation in process, where a whole `strata` process would mostly measure start-up.
@main
struct StrataBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "strata-bench",
        abstract: "In-process timings for tools/bench (not part of the strata command).",
        subcommands: [Lookup.self, QueryRepeat.self, Score.self, Explain.self, UpliftCurvesCommand.self, DriftStatsCommand.self])
}

/// W4's lookup phase: the latency of fetching whole vectors by msno from the online table.
struct Lookup: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Time online lookups of the msno listed in a file (W4); prints JSON.")
    @Option(help: "The store directory.") var db: String
    @Option(help: "File of msno, one per line.") var keys: String
    @Option(help: "Feature view (default: the first with an online table).") var view: String?

    func run() throws {
        let opened = try Store(path: db)
        let names = try opened.manifest.section(OnlineCatalog.self).tables.keys.sorted()
        guard let name = view ?? names.first else { throw ValidationError("no online table: run strata features materialize first") }
        guard names.contains(name) else { throw ValidationError("no online table of view '\(name)' (online tables: \(names.joined(separator: ", ")))") }
        let table = try OnlineTable(store: opened, view: name)
        guard FileSystem.isRegularFile(keys), let text = try? String(contentsOfFile: keys, encoding: .utf8) else {
            throw ValidationError("--keys \(keys) is not a readable UTF-8 text file of msno, one per line")
        }
        let lines = text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }).map { Array($0.utf8) }
        guard !lines.isEmpty else { throw ValidationError("\(keys) lists no msno") }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: table.rowWidthBytes, alignment: 8)
        defer { buffer.deallocate() }
        var nanoseconds = [UInt64](repeating: 0, count: lines.count)
        var found = 0
        for (index, key) in lines.enumerated() {
            key.withUnsafeBytes { bytes in
                let start = DispatchTime.now().uptimeNanoseconds
                if let vector = table.lookup(bytes) {
                    vector.copyRow(into: buffer)
                    found += 1
                }
                nanoseconds[index] = DispatchTime.now().uptimeNanoseconds - start
            }
        }
        nanoseconds.sort()
        func micros(_ value: UInt64) -> String { String(format: "%.3f", Double(value) / 1000) }
        let mean = Double(nanoseconds.reduce(0, +)) / Double(nanoseconds.count) / 1000
        print("{\"lookups\": \(lines.count), \"found\": \(found), \"p50_us\": \(micros(nanoseconds[nanoseconds.count / 2])), "
            + "\"p99_us\": \(micros(nanoseconds[nanoseconds.count * 99 / 100])), \"mean_us\": \(String(format: "%.3f", mean))}")
    }
}

/// W2's in-process figure: plan, open, execute and format every cell of a query, `--repeat` times.
struct QueryRepeat: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query", abstract: "Run a query --repeat times in process; print the seconds of each run to stderr.")
    @Option(help: "The store directory.") var db: String
    @Option(help: "How many times to run the query.") var `repeat` = 3
    @Option(name: .customLong("memory-limit"), help: "MiB that GROUP BY tables, join tables and sorts may take.") var memoryLimitMiB = 4096
    @Argument(help: "The query.") var sql: String

    func validate() throws {
        if self.repeat < 1 { throw ValidationError("--repeat must be at least 1") }
        if memoryLimitMiB < 1 || memoryLimitMiB > 1 << 30 { throw ValidationError("--memory-limit must be between 1 and \(1 << 30) (MiB)") }
    }

    func run() throws {
        let opened = try Store(path: db)
        var seconds: [Double] = []
        var cells = 0
        for _ in 0..<self.repeat {
            let started = DispatchTime.now().uptimeNanoseconds
            let query = try Query(sql, store: opened, memoryLimitBytes: memoryLimitMiB << 20)
            try query.run { rows in
                for row in 0..<rows.count {
                    for column in 0..<query.columnNames.count where try rows.text(row: row, column: column) != nil { cells += 1 }
                }
                return true
            }
            seconds.append(Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
        }
        FileHandle.standardError.write(Data(("in-process seconds: " + seconds.map { String($0) }.joined(separator: " ") + "\n").utf8))
        print("{\"runs\": \(seconds.count), \"cells\": \(cells / max(1, seconds.count))}")
    }
}

/// W6's scoring work without HTTP: for each msno of a file, what `POST /v1/score` does for one user —
/// the online lookup, the model's input row, the probability and the top-3 TreeSHAP reasons — timed alone.
struct Score: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Time one-user scoring with reasons, in process (W6 without HTTP); prints JSON.")
    @Option(help: "The store directory.") var db: String
    @Option(help: "File of msno, one per line.") var keys: String
    @Option(help: "Model reference (default: churn@production).") var model = "churn@production"
    @Option(help: "Score at most this many msno of the file.") var limit = 2000
    @Flag(help: "Skip the reasons (probability only).") var noReasons = false
    @Option(help: "Sleep this many milliseconds between users (caches cool as on a lightly loaded server).") var pauseMs = 0

    func run() throws {
        let opened = try Store(path: db)
        let scorer = try ModelScorer(store: opened, reference: model)
        guard let view = scorer.lineage?.featureView else { throw ValidationError("model \(model) has no feature view") }
        let table = try OnlineTable(store: opened, view: view)
        let columns = try scorer.binding(to: table.schemas.map(\.name))
        guard FileSystem.isRegularFile(keys), let text = try? String(contentsOfFile: keys, encoding: .utf8) else {
            throw ValidationError("--keys \(keys) is not a readable UTF-8 text file of msno, one per line")
        }
        let lines = text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }).prefix(max(1, limit)).map(String.init)
        var nanoseconds: [UInt64] = []
        var checksum = 0.0
        for key in lines {
            if pauseMs > 0 { usleep(UInt32(min(pauseMs, 1000) * 1000)) }
            let start = DispatchTime.now().uptimeNanoseconds
            guard let vector = table.lookup(key) else { continue }
            let dataset = scorer.dataset(vectors: [vector.values], columns: columns)
            let probability = scorer.probabilities(dataset)[0]
            let reasons = noReasons ? [] : scorer.reasons(dataset, rows: [0])[0]
            nanoseconds.append(DispatchTime.now().uptimeNanoseconds - start)
            checksum += probability + reasons.reduce(0) { $0 + $1.contribution }
        }
        guard !nanoseconds.isEmpty else { throw ValidationError("no msno of \(keys) is in the online table") }
        nanoseconds.sort()
        func micros(_ value: UInt64) -> String { String(format: "%.1f", Double(value) / 1000) }
        let mean = Double(nanoseconds.reduce(0, +)) / Double(nanoseconds.count) / 1000
        print("{\"scored\": \(nanoseconds.count), \"p50_us\": \(micros(nanoseconds[nanoseconds.count / 2])), "
            + "\"p99_us\": \(micros(nanoseconds[nanoseconds.count * 99 / 100])), \"mean_us\": \(String(format: "%.1f", mean)), "
            + "\"checksum\": \(checksum)}")
    }
}

/// Bulk explanations (issue 15): every feature's TreeSHAP contribution for the rows of a training set, on one
/// thread, in bulk (leaf tables, tree by tree) and one row at a time (quadrature, as a served request), with the
/// largest difference between them.
struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Time TreeSHAP contributions for the rows of a training set, leaf tables in bulk vs one row at a time; prints JSON.")
    @Option(help: "The store directory.") var db: String
    @Option(help: "Training set whose rows are explained.") var trainingSet = "w1"
    @Option(help: "Model reference (default: churn@production).") var model = "churn@production"
    @Option(help: "Explain at most this many rows.") var rows = 100_000

    func run() throws {
        let store = try Store(path: db)
        let entry = try ModelRegistry.resolve(store: store, reference: model)
        let artifact = try TrainingRunner.model(store: store, runId: entry.runId)
        guard let gbdt = artifact.gbdt else { throw ValidationError("model \(model) is not a tree model") }
        let encoding = Dictionary(uniqueKeysWithValues: zip(gbdt.featureNames, gbdt.categoryNames).filter { !$0.1.isEmpty })
        let data = try Dataset.load(store: store, table: trainingSet, requireLabel: false, categoryEncoding: encoding)
        guard data.featureNames == gbdt.featureNames else {
            throw ValidationError("training set \(trainingSet)'s features are not model \(model)'s")
        }
        let chosen = Array(0..<min(rows, data.rowCount))
        func seconds(_ body: () -> Void) -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        let explainer = TreeExplainer(gbdt)
        var tables: LeafTables!
        let build = seconds { tables = explainer.tables }
        var bulk: [[Double]] = [], single: [[Double]] = []
        let bulkSeconds = seconds { bulk = explainer.contributions(data, rows: chosen, bulk: true) }
        // A row at a time, as a served request explains it (quadrature, a leaf per SIMD lane); a tenth of the rows.
        let few = Array(chosen.prefix(max(1, chosen.count / 10)))
        let singleSeconds = seconds { single = few.map { explainer.contributions(data, rows: [$0], bulk: false)[0] } }
        var largest = 0.0
        for (a, b) in zip(bulk, single) { for (x, y) in zip(a, b) { largest = max(largest, abs(x - y)) } }
        func perRow(_ value: Double, _ rows: Int) -> String { String(format: "%.2f", value / Double(max(1, rows)) * 1e6) }
        func fixed(_ value: Double) -> String { String(format: "%.3f", value) }
        let fields: [String] = [
            "\"rows\": \(chosen.count)", "\"trees\": \(gbdt.trees.count)", "\"features\": \(gbdt.featureNames.count)",
            "\"tables_build_s\": \(fixed(build))", "\"table_mib\": \(fixed(Double(tables.valueCount * 8) / 1_048_576))",
            "\"quadrature_leaves\": \(tables.quadratureLeaves)",
            "\"bulk_s\": \(fixed(bulkSeconds))", "\"bulk_us_per_row\": \(perRow(bulkSeconds, chosen.count))",
            "\"single_rows\": \(few.count)", "\"single_us_per_row\": \(perRow(singleSeconds, few.count))",
            "\"max_abs_difference\": \(largest)",
        ]
        print("{" + fields.joined(separator: ", ") + "}")
    }
}

/// `strata-bench uplift-curves`: reads lines `outcome,treated,score` on stdin and prints the Qini
/// coefficient and uplift AUC (tools/test_report.py checks them against scikit-uplift).
struct UpliftCurvesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "uplift-curves", abstract: "Qini and uplift AUC of outcome,treated,score lines on stdin.")

    func run() throws {
        var outcome: [Double] = [], treated: [Bool] = [], score: [Double] = []
        while let line = readLine() {
            let fields = line.split(separator: ",")
            guard fields.count == 3, let y = Double(fields[0]), let t = Int(fields[1]), let s = Double(fields[2]) else {
                throw ValidationError("expected outcome,treated,score; got '\(line.prefix(80))'")
            }
            outcome.append(y)
            treated.append(t == 1)
            score.append(s)
        }
        print(UpliftCurves.qiniCoefficient(outcome: outcome, uplift: score, treated: treated), UpliftCurves.upliftAUC(outcome: outcome, uplift: score, treated: treated))
    }
}

/// `strata-bench drift-stats REFERENCE CURRENT [--categorical]`: the drift statistics of two files of one
/// value per line (empty or "nan": missing), as JSON (tools/test_monitor.py checks them against scipy).
struct DriftStatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "drift-stats", abstract: "Drift statistics of two samples (one value per line).")
    @Argument var reference: String
    @Argument var current: String
    @Flag var categorical = false

    func run() throws {
        func read(_ path: String) throws -> [Double] {
            try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).compactMap { line in
                line.isEmpty ? nil : line == "nan" ? Double.nan : Double(line)
            }
        }
        let drift = Monitor.driftStatistics(reference: try read(reference), current: try read(current), categorical: categorical)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        print(String(decoding: try encoder.encode(drift), as: UTF8.self))
    }
}
