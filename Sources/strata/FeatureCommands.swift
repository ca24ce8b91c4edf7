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
    @Option(parsing: .unconditional, help: "Read the inputs at this committed version (time travel).") var version: Int?
    @Flag(help: "Replace the table if it exists and is derived (a training set, predictions).") var replace = false
    @Flag(help: "With --replace, replace even an ingested source table.") var force = false
    @Option(help: "Output: table, csv or json.") var format: OutputFormat = .table

    func validate() throws { try validateName(out, flag: "--out") }

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
        if format != .table {
            struct Output: Encodable { var table: String; var rows, columns: Int; var seconds: Double; var committedVersion: Int; var lineage: Lineage }
            try RecordPrinter(format: format).print(
                Output(table: out, rows: report.rowCount, columns: report.columns.count, seconds: report.seconds, committedVersion: report.committedVersion, lineage: lineage),
                fields: [("table", out), ("rows", String(report.rowCount)), ("columns", String(report.columns.count)), ("seconds", String(format: "%.3f", report.seconds)),
                         ("committed_version", String(report.committedVersion)), ("feature_view", lineage.featureView),
                         ("feature_view_version", String(lineage.featureViewVersion)), ("labels", lineage.labelsTable), ("semantics", lineage.semantics)]) {}
            return
        }
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
        subcommands: [Apply.self, List.self, Show.self, Diff.self, Materialize.self, Get.self])

    struct Apply: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check feature view files against the store and register new versions.")
        @OptionGroup var store: StoreOption
        @Argument(help: "Feature view files (YAML).") var files: [String]

        @Option(help: "Output: table, csv or json.") var format: OutputFormat = .table

        func run() throws {
            let registrations = try FeatureRegistry.apply(storePath: store.path, files: files)
            if format != .table {
                RowPrinter.print(header: ["view", "version", "registered", "hash"], rows: registrations.map {
                    [$0.view, String($0.version.version), String($0.isNew), $0.version.hash]
                }, format: format)
                return
            }
            for registration in registrations {
                let entry = registration.version
                print("\(registration.view): version \(entry.version)\(registration.isNew ? " registered" : " unchanged") (hash \(entry.hash))")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List registered feature views and their versions.")
        @OptionGroup var store: StoreOption
        @Option(help: "Output: table, csv or json.") var format: OutputFormat = .table
        @Option(parsing: .unconditional, help: "Open this committed store version instead of the latest.") var version: Int?

        func validate() throws { try validateStoreVersion(version) }

        func run() throws {
            let opened = try Store(path: store.path, version: version)
            var rows: [[String?]] = []
            let onlineTables = try opened.manifest.section(OnlineCatalog.self).tables
            for (name, versions) in try opened.manifest.section(FeatureCatalog.self).views.sorted(by: { $0.key < $1.key }) {
                for entry in versions {
                    let online = onlineTables[name]
                    let materialised = online.map { $0.featureViewVersion == entry.version ? ValueText.date(Int64($0.asOf), style: .iso) : nil } ?? nil
                    rows.append([name, String(entry.version), entry.hash, entry.createdAt, materialised])
                }
            }
            RowPrinter.print(header: ["view", "version", "hash", "created_at", "online_as_of"], rows: rows, format: format)
        }
    }
}

extension Features {
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the YAML registered as a feature view's version (default: the latest).")
        @OptionGroup var store: StoreOption
        @Argument(help: "NAME or NAME@VERSION.") var view: String
        @Option(parsing: .unconditional, help: "Open this committed store version instead of the latest.") var version: Int?
        @Option(help: "Output: table (the YAML as registered), csv or json.") var format: OutputFormat = .table

        func validate() throws {
            _ = try versionedName(view, flag: "the view")
            try validateStoreVersion(version)
        }

        func run() throws {
            let (name, number) = try versionedName(view, flag: "the view")
            let (text, entry) = try FeatureRegistry.source(store: try Store(path: store.path, version: version), name: name, version: number)
            struct Output: Encodable { var view: String; var version: Int; var hash: String; var createdAt: String; var yaml: String }
            try RecordPrinter(format: format).print(
                Output(view: name, version: entry.version, hash: entry.hash, createdAt: entry.createdAt, yaml: text),
                fields: [("view", name), ("version", String(entry.version)), ("hash", entry.hash), ("created_at", entry.createdAt), ("yaml", text)]) {
                    print("# \(name) version \(entry.version), hash \(entry.hash), registered \(entry.createdAt)")
                    print(text, terminator: text.hasSuffix("\n") ? "" : "\n")
                }
        }
    }

    struct Diff: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compare two registered feature view versions line by line (NAME@1 NAME@2, or two views).")
        @OptionGroup var store: StoreOption
        @Argument(help: "NAME or NAME@VERSION.") var first: String
        @Argument(help: "NAME or NAME@VERSION.") var second: String
        @Option(help: "Output: table (a unified-style diff), csv or json (the changed lines).") var format: OutputFormat = .table
        @Option(parsing: .unconditional, help: "Open this committed store version instead of the latest.") var version: Int?

        func validate() throws {
            _ = try versionedName(first, flag: "the first view")
            _ = try versionedName(second, flag: "the second view")
            try validateStoreVersion(version)
        }

        func run() throws {
            let opened = try Store(path: store.path, version: version)
            let a = try versionedName(first, flag: "the first view")
            let b = try versionedName(second, flag: "the second view")
            let (left, leftEntry) = try FeatureRegistry.source(store: opened, name: a.name, version: a.version)
            let (right, rightEntry) = try FeatureRegistry.source(store: opened, name: b.name, version: b.version)
            let changes = LineDiff.changes(from: left.split(separator: "\n", omittingEmptySubsequences: false).map(String.init),
                                           to: right.split(separator: "\n", omittingEmptySubsequences: false).map(String.init))
            if format != .table {
                RowPrinter.print(header: ["change", "line", "text"], rows: changes.map { [String($0.mark), String($0.line), $0.text] }, format: format)
                return
            }
            print("--- \(a.name)@\(leftEntry.version) (hash \(leftEntry.hash))")
            print("+++ \(b.name)@\(rightEntry.version) (hash \(rightEntry.hash))")
            if changes.isEmpty { print("(identical)") }
            for change in changes { print("\(change.mark)\(change.text)") }
        }
    }

    struct Materialize: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write every entity's feature vector as of a day into an mmap'd online table.")
        @OptionGroup var store: StoreOption
        @Option(help: "Day the vectors are as of (YYYYMMDD or YYYY-MM-DD): events strictly before it count.") var asOf: String
        @Option(help: "Feature view file; registered when new.") var features: String?
        @Option(help: "A registered feature view (default: the only one).") var view: String?

        @Option(help: "Output: table, csv or json.") var format: OutputFormat = .table

        func validate() throws { _ = try dayNumber(asOf, flag: "--as-of") }

        func run() throws {
            let report = try OnlineMaterializer.materialize(
                storePath: store.path, featuresFile: features, viewName: view, asOfDay: Int(try dayNumber(asOf, flag: "--as-of")))
            let day = ValueText.date(Int64(try dayNumber(asOf, flag: "--as-of")), style: .iso)
            if format != .table {
                struct Output: Encodable { var view: String; var version: Int; var asOf: String; var vectors, bytes: Int; var seconds: Double; var committedVersion: Int }
                try RecordPrinter(format: format).print(
                    Output(view: report.view, version: report.featureViewVersion, asOf: day, vectors: report.entityCount, bytes: report.sizeBytes,
                           seconds: report.seconds, committedVersion: report.committedVersion),
                    fields: [("view", report.view), ("version", String(report.featureViewVersion)), ("as_of", day), ("vectors", String(report.entityCount)),
                             ("bytes", String(report.sizeBytes)), ("seconds", String(format: "%.3f", report.seconds)), ("committed_version", String(report.committedVersion))]) {}
                return
            }
            print("\(report.view) v\(report.featureViewVersion) as of \(day): \(grouped(report.entityCount)) vectors, "
                + "\(humanBytes(report.sizeBytes)) in \(String(format: "%.2f", report.seconds)) s; committed version \(report.committedVersion)")
        }
    }

    struct Get: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print feature vectors by msno: from the online table, or computed as of --as-of when it differs.")
        @OptionGroup var store: StoreOption
        @Argument(help: "msno values.") var msno: [String]
        @Option(help: "As of this day (YYYYMMDD or YYYY-MM-DD); default: the online table's day.") var asOf: String?
        @Option(help: "Feature view: NAME or NAME@VERSION (default: the only one registered; its online table's version, else its latest).") var view: String?
        @Option(help: "Output: table, csv or json.") var format: OutputFormat = .table
        @Option(parsing: .unconditional, help: "Open this committed store version instead of the latest.") var version: Int?

        func validate() throws {
            if let view { _ = try versionedName(view, flag: "--view") }
            if let asOf { _ = try dayNumber(asOf, flag: "--as-of") }
            try validateStoreVersion(version)
        }

        func run() throws {
            let opened = try Store(path: store.path, version: version)
            let reference = try view.map { try versionedName($0, flag: "--view") }
            let found = try FeatureVectors.lookup(store: opened, view: reference?.name, version: reference?.version, msno: msno,
                                                  asOfDay: try asOf.map { Int(try dayNumber($0, flag: "--as-of")) })
            if format == .table {
                switch found.source {
                case .online(let day): print("\(found.view) v\(found.viewVersion), from the online table as of \(ValueText.date(Int64(day), style: .iso))")
                case .computed(let day): print("\(found.view) v\(found.viewVersion), computed as of \(ValueText.date(Int64(day), style: .iso))")
                }
            }
            let header = ["msno"] + found.names
            let rows = found.rows.map { row in [row.msno] + zip(row.values, found.types).map { $0.text(as: $1) } }
            let unknown = found.unknown
            let printer = RowPrinter(header: header, format: format, jsonKinds: [.string] + found.types.map { .of($0) })
            for row in rows { printer.add(row) }
            printer.finish()
            if !unknown.isEmpty { Strata.fail("unknown msno (never ingested): \(unknown.joined(separator: ", "))") }
        }

    }
}

/// The lines that differ between two texts, by their longest common subsequence (feature views are short).
enum LineDiff {
    struct Change {
        /// `-` a line only in the first text, `+` only in the second.
        var mark: Character
        /// Its 1-based line number in its own text.
        var line: Int
        var text: String
    }

    static func changes(from a: [String], to b: [String]) -> [Change] {
        let n = a.count
        let m = b.count
        var common = Array(repeating: [Int](repeating: 0, count: m + 1), count: n + 1)
        for i in stride(from: n - 1, through: 0, by: -1) {
            for j in stride(from: m - 1, through: 0, by: -1) {
                common[i][j] = a[i] == b[j] ? common[i + 1][j + 1] + 1 : max(common[i + 1][j], common[i][j + 1])
            }
        }
        var changes: [Change] = []
        var i = 0
        var j = 0
        while i < n || j < m {
            if i < n && j < m && a[i] == b[j] {
                i += 1
                j += 1
            } else if i < n && (j == m || common[i + 1][j] >= common[i][j + 1]) {
                changes.append(Change(mark: "-", line: i + 1, text: a[i]))
                i += 1
            } else {
                changes.append(Change(mark: "+", line: j + 1, text: b[j]))
                j += 1
            }
        }
        return changes
    }
}
