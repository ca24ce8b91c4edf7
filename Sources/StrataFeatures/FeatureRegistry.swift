import Foundation
import StrataStorage

/// Versioned feature views in a store: a changed definition becomes a new version, never an overwrite.
public enum FeatureRegistry {
    public struct Registration: Sendable {
        public var view: String
        public var version: FeatureViewVersion
        /// False when an identical definition was already registered (same content hash).
        public var isNew: Bool
    }

    /// The registered version of `view` with the same content, or a new version written by `writer`.
    public static func register(_ view: FeatureView, sourceText: String, writer: StoreWriter) throws -> Registration {
        let hash = view.contentHash
        var catalog = try writer.section(FeatureCatalog.self)
        let versions = catalog.views[view.name] ?? []
        if let existing = versions.last(where: { $0.hash == hash }) {
            return Registration(view: view.name, version: existing, isNew: false)
        }
        try StoreNames.validate(view.name, what: "feature view name")
        // Past every registered version and every version file still on disk (a dropped version's file
        // stays for time travel until gc), so a number never names two definitions while both can be read.
        let onDisk = ((try? FileSystem.listDirectory(writer.path + "/features/" + view.name)) ?? []).compactMap { file -> Int? in
            guard file.hasPrefix("v"), file.count >= 7 else { return nil }
            return Int(file.dropFirst().prefix(6))
        }
        let number = max(versions.last?.version ?? 0, onDisk.max() ?? 0) + 1
        // The store version in the name keeps it unique: a view dropped and registered again gets version
        // numbers it had before, and the old files stay readable by time travel until gc.
        let relative = "features/\(view.name)/v\(StorePaths.zeroPadded(number, 6))-\(StorePaths.zeroPadded(writer.newVersion, 12)).yaml"
        try writer.writeFile(Array(sourceText.utf8), relativePath: relative)
        let entry = FeatureViewVersion(version: number, hash: hash, file: relative, createdAt: StoreWriter.timestamp())
        catalog.views[view.name, default: []].append(entry)
        try writer.setSection(catalog)
        return Registration(view: view.name, version: entry, isNew: true)
    }

    /// Checks each file against the latest store version and registers the ones that changed, in one commit.
    public static func apply(storePath: String, files: [String]) throws -> [Registration] {
        let writer = try StoreWriter(path: storePath, create: false)
        do {
            let store = try Store(path: storePath, version: writer.base.version)
            var registrations: [Registration] = []
            for file in files {
                let view = try FeatureViewParser.parse(file: file)
                _ = try FeaturePlan(view: view, store: store)
                let text = try String(contentsOfFile: file, encoding: .utf8)
                registrations.append(try register(view, sourceText: text, writer: writer))
            }
            if registrations.contains(where: \.isNew) {
                try writer.commit(operation: "features apply \(registrations.filter(\.isNew).map(\.view).joined(separator: " "))")
            } else {
                writer.abort()
            }
            return registrations
        } catch {
            writer.abort()
            throw error
        }
    }

    /// The YAML text registered as a version of `name` (latest, or `version`), checked against its hash.
    public static func source(store: Store, name: String, version: Int? = nil) throws -> (text: String, entry: FeatureViewVersion) {
        let (_, entry) = try load(store: store, name: name, version: version)
        let bytes = try FileSystem.readFile(store.absolute(entry.file))
        return (String(decoding: bytes, as: UTF8.self), entry)
    }

    /// Unregisters `name` (every version, or one) in a new store version; its online table goes with the
    /// version it was materialised from. Earlier store versions keep both (time travel) until gc.
    public static func drop(storePath: String, name: String, version: Int? = nil) throws -> (versions: [Int], onlineDropped: Bool, committedVersion: Int) {
        let writer = try StoreWriter(path: storePath, create: false)
        do {
            var catalog = try writer.section(FeatureCatalog.self)
            guard let versions = catalog.views[name], !versions.isEmpty else {
                let known = catalog.views.keys.sorted()
                throw FeaturePlanError(message: "no feature view '\(name)' is registered (registered: \(known.isEmpty ? "none" : known.joined(separator: ", ")))")
            }
            let dropped = version.map { wanted in versions.filter { $0.version == wanted } } ?? versions
            guard !dropped.isEmpty else {
                throw FeaturePlanError(message: "feature view \(name) has no version \(version!) (versions: \(versions.map { String($0.version) }.joined(separator: ", ")))")
            }
            let remaining = versions.filter { entry in !dropped.contains { $0.version == entry.version } }
            // The online table first: the catalog's rules refuse an online table of an unregistered version.
            var online = try writer.section(OnlineCatalog.self)
            let onlineDropped = online.tables[name].map { table in dropped.contains { $0.version == table.featureViewVersion } } ?? false
            if onlineDropped {
                online.tables[name] = nil
                try writer.setSection(online)
            }
            catalog.views[name] = remaining.isEmpty ? nil : remaining
            try writer.setSection(catalog)
            let label = version.map { "\(name)@\($0)" } ?? name
            let manifest = try writer.commit(operation: "drop feature view \(label)")
            return (dropped.map(\.version), onlineDropped, manifest.version)
        } catch {
            writer.abort()
            throw error
        }
    }

    /// The definition of a registered view (latest version, or `version`).
    public static func load(store: Store, name: String, version: Int? = nil) throws -> (FeatureView, FeatureViewVersion) {
        let catalog = try store.manifest.section(FeatureCatalog.self)
        let versions = catalog.views[name] ?? []
        guard let entry = version.map({ wanted in versions.first { $0.version == wanted } }) ?? versions.last else {
            let known = catalog.views.keys.sorted()
            throw FeaturePlanError(message: "no feature view '\(name)'\(version.map { " version \($0)" } ?? "") is registered (registered: \(known.isEmpty ? "none; use strata features apply FILE" : known.joined(separator: ", ")))")
        }
        return (try definition(store: store, name: name, entry: entry), entry)
    }

    /// Reads a registered definition and checks it is the one registered: its name, and its content
    /// hash against the manifest's (a file edited inside the store is refused, not used).
    public static func definition(store: Store, name: String, entry: FeatureViewVersion) throws -> FeatureView {
        let path = store.absolute(entry.file)
        let view: FeatureView
        do {
            view = try FeatureViewParser.parse(file: path)
        } catch let error as FeatureDefinitionError {
            throw StorageError.corrupt(file: path, column: nil, chunk: nil, reason: "the registered feature view no longer parses: \(error.description)")
        }
        guard view.name == name, view.contentHash == entry.hash else {
            throw StorageError.corrupt(
                file: path, column: nil, chunk: nil,
                reason: "feature view \(name) v\(entry.version) was changed after it was registered (hash \(view.contentHash), the manifest says \(entry.hash))")
        }
        return view
    }
}
