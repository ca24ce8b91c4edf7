import ArgumentParser
import Dispatch
import Foundation
import StrataFeatures
import StrataFormat
import StrataStorage

struct TrainingSet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "training-set",
        abstract: "Build a point-in-time training set: each label row's features from events before its cutoff only.")

    @OptionGroup var store: StoreOption
    @Option(help: "Feature view file (YAML).") var features: String
    @Option(help: "Label table: an entity column, a cutoff_date column, and the labels.") var labels: String
    @Option(help: "Name of the table to write.") var out: String
    @Flag(help: "At-or-before semantics (events on the cutoff day count), as Feast does.") var inclusive = false
    @Option(help: "Read the inputs at this committed version (time travel).") var version: Int?
    @Flag(help: "Replace the table if it exists and is derived (a training set, predictions).") var replace = false
    @Flag(help: "With --replace, replace even an ingested source table.") var force = false

    func run() throws {
        var request = TrainingSetRequest(featuresFile: features, labelsTable: labels, outputTable: out)
        request.inclusive = inclusive
        request.inputVersion = version
        request.replace = replace
        request.force = force
        let started = Date()
        let progress = stepReporter(since: started)
        let report = try TrainingSetBuilder.build(storePath: store.path, request: request, progress: progress)
        let lineage = report.lineage
        print("\(out): \(grouped(report.rowCount)) rows × \(report.columns.count) columns in \(String(format: "%.2f", report.seconds)) s; committed version \(report.committedVersion)")
        print("  lineage: store version \(lineage.storeVersion), feature view \(lineage.featureView) v\(lineage.featureViewVersion)"
            + "\(report.featureViewIsNew ? " (newly registered)" : "") hash \(lineage.featureViewHash), labels \(lineage.labelsTable) "
            + "(\(grouped(lineage.labelsRowCount)) rows), \(lineage.semantics)")
        for source in report.windowSources {
            print("  streamed \(source.source): at most \(grouped(source.peakRows)) of its \(grouped(source.tableRows)) rows in memory at once")
        }
    }
}

struct Features: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Register feature views, materialise them for online serving, and read vectors by msno.",
        subcommands: [Apply.self, List.self, Materialize.self, Get.self, BenchLookup.self])

    struct Apply: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check feature view files against the store and register new versions.")
        @OptionGroup var store: StoreOption
        @Argument(help: "Feature view files (YAML).") var files: [String]

        func run() throws {
            for registration in try FeatureRegistry.apply(storePath: store.path, files: files) {
                let entry = registration.version
                print("\(registration.view): version \(entry.version)\(registration.isNew ? " registered" : " unchanged") (hash \(entry.hash))")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List registered feature views and their versions.")
        @OptionGroup var store: StoreOption
        @Option(help: "Output: table, csv or json.") var format: OutputFormat = .table

        func run() throws {
            let opened = try Store(path: store.path)
            var rows: [[String?]] = []
            for (name, versions) in (opened.manifest.featureViews ?? [:]).sorted(by: { $0.key < $1.key }) {
                for entry in versions {
                    let online = opened.manifest.online?[name]
                    let materialised = online.map { $0.featureViewVersion == entry.version ? String(Dates.yyyymmdd(dayNumber: $0.asOf)) : nil } ?? nil
                    rows.append([name, String(entry.version), entry.hash, entry.createdAt, materialised])
                }
            }
            RowPrinter.print(header: ["view", "version", "hash", "created", "online_as_of"], rows: rows, format: format)
        }
    }
}

extension Features {
    struct Materialize: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write every entity's feature vector as of a day into an mmap'd online table.")
        @OptionGroup var store: StoreOption
        @Option(help: "Day the vectors are as of (YYYYMMDD): events strictly before it count.") var asOf: String
        @Option(help: "Feature view file; registered when new.") var features: String?
        @Option(help: "A registered feature view (default: the only one).") var view: String?

        func run() throws {
            let report = try OnlineMaterializer.materialize(
                storePath: store.path, featuresFile: features, viewName: view, asOfDay: Int(try dayNumber(asOf, flag: "--as-of")))
            print("\(report.view) v\(report.featureViewVersion) as of \(asOf): \(grouped(report.entityCount)) vectors, "
                + "\(humanBytes(report.sizeBytes)) in \(String(format: "%.2f", report.seconds)) s; committed version \(report.committedVersion)")
        }
    }

    struct Get: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print feature vectors by msno: from the online table, or computed as of --as-of when it differs.")
        @OptionGroup var store: StoreOption
        @Argument(help: "msno values.") var msno: [String]
        @Option(help: "As of this day (YYYYMMDD); default: the online table's day.") var asOf: String?
        @Option(help: "Feature view (default: the only one registered).") var view: String?
        @Option(help: "Output: table, csv or json.") var format: OutputFormat = .table

        func run() throws {
            let opened = try Store(path: store.path)
            let names = (opened.manifest.featureViews ?? [:]).keys.sorted()
            guard let name = view ?? (names.count == 1 ? names[0] : nil) else {
                throw ValidationError("name the feature view with --view (registered: \(names.isEmpty ? "none" : names.joined(separator: ", ")))")
            }
            let wantedDay = try asOf.map { Int(try dayNumber($0, flag: "--as-of")) }
            var rows: [[String?]] = []
            var header: [String] = []
            var unknown: [String] = []
            if let online = opened.manifest.online?[name], wantedDay == nil || wantedDay == online.asOf {
                let table = try OnlineTable(store: opened, view: name)
                header = ["msno"] + table.schemas.map(\.name)
                for key in msno {
                    guard let vector = table.lookup(key) else { unknown.append(key); continue }
                    rows.append([key] + vector.values.map(Self.text))
                }
            } else {
                guard let day = wantedDay else {
                    throw ValidationError("feature view \(name) has no online table: pass --as-of YYYYMMDD or run strata features materialize")
                }
                let (featureView, _) = try FeatureRegistry.load(store: opened, name: name)
                let plan = try FeaturePlan(view: featureView, store: opened)
                let entities = try opened.loadEntities()
                var known: [String] = []
                var ids: [Int64] = []
                for key in msno {
                    if let id = entities.lookup(key) { known.append(key); ids.append(Int64(id)) } else { unknown.append(key) }
                }
                let matrix = try PointInTimeEngine(plan: plan, store: opened).compute(
                    FeatureRequests(entities: ids, cutoffs: Array(repeating: Int64(day), count: ids.count)))
                header = ["msno"] + plan.outputs.map(\.name)
                for (row, key) in known.enumerated() {
                    rows.append([key] + (0..<plan.outputs.count).map { Self.text(matrix.value(row: row, column: $0)) })
                }
            }
            RowPrinter.print(header: header, rows: rows, format: format)
            if !unknown.isEmpty {
                printError("unknown msno (never ingested): \(unknown.joined(separator: ", "))")
                throw ExitCode(1)
            }
        }

        static func text(_ value: FeatureValue) -> String? {
            switch value {
            case .null: nil
            case .integer(let integer): String(integer)
            case .float(let float): ValueFormatter.float(float)
            case .string(let string): string
            }
        }
    }
}

extension Features {
    /// W4's lookup phase, in process: the latency of fetching whole vectors by msno from the online table.
    struct BenchLookup: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "bench-lookup", abstract: "Time online lookups of the msno listed in a file (W4, tools/bench).", shouldDisplay: false)
        @OptionGroup var store: StoreOption
        @Option(help: "File of msno, one per line.") var keys: String
        @Option(help: "Feature view (default: the only one with an online table).") var view: String?

        func run() throws {
            let opened = try Store(path: store.path)
            let names = (opened.manifest.online ?? [:]).keys.sorted()
            guard let name = view ?? names.first else { throw ValidationError("no online table: run strata features materialize first") }
            let table = try OnlineTable(store: opened, view: name)
            let lines = try String(contentsOfFile: keys, encoding: .utf8).split(separator: "\n").map { Array($0.utf8) }
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
            let mean = Double(nanoseconds.reduce(0, +)) / Double(max(1, nanoseconds.count)) / 1000
            print("{\"lookups\": \(lines.count), \"found\": \(found), \"p50_us\": \(micros(nanoseconds[nanoseconds.count / 2])), "
                + "\"p99_us\": \(micros(nanoseconds[nanoseconds.count * 99 / 100])), \"mean_us\": \(String(format: "%.3f", mean))}")
        }
    }
}
