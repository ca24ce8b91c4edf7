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
        subcommands: [Apply.self, List.self, Materialize.self, Get.self])

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
            let onlineTables = try opened.manifest.section(OnlineCatalog.self).tables
            for (name, versions) in try opened.manifest.section(FeatureCatalog.self).views.sorted(by: { $0.key < $1.key }) {
                for entry in versions {
                    let online = onlineTables[name]
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
            let found = try FeatureVectors.lookup(store: opened, view: view, msno: msno, asOfDay: try asOf.map { Int(try dayNumber($0, flag: "--as-of")) })
            let header = ["msno"] + found.names
            let rows = found.rows.map { row in [row.msno] + zip(row.values, found.types).map { $0.text(as: $1) } }
            let unknown = found.unknown
            RowPrinter.print(header: header, rows: rows, format: format)
            if !unknown.isEmpty {
                printError("unknown msno (never ingested): \(unknown.joined(separator: ", "))")
                throw ExitCode(1)
            }
        }

    }
}
