import ArgumentParser
import Foundation
import StrataFeatures
import StrataStorage
import StrataTrain

/// `strata versions`: the store as a history of commits.
struct Versions: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the store's committed versions: number, time, what each did and the command that did it.")

    @OptionGroup var store: StoreOption
    @Option(help: "Output: table, csv or json.") var format: OutputFormat = .table

    func run() throws {
        let opened = try Store(path: store.path)
        let rows: [[String?]] = try Store.history(path: opened.path).map { entry in
            switch entry {
            case .success(let manifest):
                return [String(manifest.version), manifest.createdAt, manifest.operation, manifest.command,
                        String(manifest.tables.count), String(manifest.entities.count)]
            case .failure(let failure):
                return [String(failure.version), nil, "unreadable: \(failure.reason)", nil, nil, nil]
            }
        }
        RowPrinter.print(header: ["version", "created", "operation", "command", "tables", "entities"], rows: rows, format: format)
    }
}

/// `strata drop`: removes a table, a feature view, a run or a model version in a new version.
struct Drop: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove a table, a feature view, a run or a model version, as a new version of the store.",
        discussion: """
            Earlier versions keep what was dropped: read it with --version N (time travel) until \
            `strata gc --keep-versions N` removes those versions and the files only they used.
            """)

    @OptionGroup var store: StoreOption
    @Argument(help: "A table to drop.") var table: String?
    @Option(help: "A feature view to drop: NAME (every version) or NAME@VERSION.") var view: String?
    @Option(name: .customLong("run"), help: "A training run to drop (run-000003); refused while a model version uses it.") var runId: String?
    @Option(help: "A model version to drop: NAME@VERSION.") var model: String?
    @Option(help: "Output: table, csv or json.") var format: OutputFormat = .table

    func validate() throws {
        let given = [table, view, runId, model].compactMap { $0 }
        guard given.count == 1 else { throw ValidationError("give exactly one of TABLE, --view, --run and --model") }
        if let view { _ = try versionedName(view, flag: "--view", versionRequired: false) }
        if let model { _ = try versionedName(model, flag: "--model", versionRequired: true) }
    }

    func run() throws {
        let what: String
        let committed: Int
        var notes: [String] = []
        if let table {
            what = "table \(table)"
            committed = try Store.dropTable(path: store.path, name: table)
        } else if let view {
            let (name, version) = try versionedName(view, flag: "--view", versionRequired: false)
            let users = try ModelRegistry.versionsUsing(store: try Store(path: store.path), view: name, versions: version.map { [$0] })
            guard users.isEmpty else {
                throw TrainError("model version\(users.count == 1 ? "" : "s") \(users.joined(separator: ", ")) \(users.count == 1 ? "was" : "were") trained on feature view \(view); "
                    + "drop \(users.count == 1 ? "it" : "them") first (strata drop --model NAME@VERSION)")
            }
            let dropped = try FeatureRegistry.drop(storePath: store.path, name: name, version: version)
            what = "feature view \(name) version\(dropped.versions.count == 1 ? "" : "s") \(dropped.versions.map(String.init).joined(separator: ", "))"
            if dropped.onlineDropped { notes.append("its online table was dropped with it") }
            committed = dropped.committedVersion
        } else if let run = runId {
            what = "run \(run)"
            committed = try TrainingRunner.dropRun(storePath: store.path, id: run)
        } else {
            let (name, version) = try versionedName(model!, flag: "--model", versionRequired: true)
            what = "model \(name)@\(version!)"
            committed = try ModelRegistry.dropVersion(storePath: store.path, name: name, version: version!)
        }
        struct Dropped: Encodable { var dropped: String; var committedVersion: Int; var notes: [String] }
        try RecordPrinter(format: format).print(
            Dropped(dropped: what, committedVersion: committed, notes: notes),
            fields: [("dropped", what), ("committed_version", String(committed))]) {
                print("dropped \(what); committed version \(committed) (earlier versions keep it: --version \(committed - 1))")
                for note in notes { print("  \(note)") }
            }
    }
}
