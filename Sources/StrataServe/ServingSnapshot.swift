import Foundation
import StrataFeatures
import StrataFormat
import StrataStorage
import StrataTrain
import Synchronization

/// What one request sees: the store at one committed version with the production model and the online
/// tables open. Immutable: a newer snapshot replaces it whole, so a request that took this one finishes on
/// it while later requests see the next.
public final class ServingSnapshot: Sendable {
    public let store: Store
    /// The production model, or nil with `modelProblem` saying why.
    public let scorer: ModelScorer?
    public let modelProblem: String?
    /// Open online tables by feature view name.
    public let online: [String: OnlineTable]
    /// What every answer from each online table repeats, written once.
    let onlineLayouts: [String: OnlineLayout]
    /// The registered feature views, by name.
    let viewNames: [String]
    /// The model's features' positions in its view's online table; nil (with `scoreProblem`) when the
    /// online table cannot feed the model (not materialised, another view version).
    public let binding: [Int]?
    public let scoreProblem: String?
    /// Versions refused because they failed to open (model `name@version` or online table file → error),
    /// kept so they are not retried and logged again at every commit.
    let refused: [String: String]

    init(store: Store, scorer: ModelScorer?, modelProblem: String?, online: [String: OnlineTable], binding: [Int]?, scoreProblem: String?,
         refused: [String: String]) {
        self.store = store
        self.scorer = scorer
        self.modelProblem = modelProblem
        self.online = online
        var layouts: [String: OnlineLayout] = [:]
        for (view, table) in online { layouts[view] = OnlineLayout(view: view, table: table) }
        onlineLayouts = layouts
        viewNames = (try? store.manifest.section(FeatureCatalog.self).views.keys.sorted()) ?? []
        self.binding = binding
        self.scoreProblem = scoreProblem
        self.refused = refused
    }

    /// The online table scoring by msno reads from.
    public var scoringTable: OnlineTable? { scorer?.lineage.flatMap { online[$0.featureView] } }

    /// Whether `/readyz` says ready: a production model loaded and its online table usable.
    public var isReady: Bool { scorer != nil && binding != nil }

    /// Opens the latest committed version of the store at `path`. What did not change since `previous`
    /// is reused as it is; a model or online table that fails to open is refused (reported through `log`)
    /// and the previous one keeps serving.
    static func load(path: String, modelName: String?, previous: ServingSnapshot?, log: (String) -> Void) throws -> ServingSnapshot {
        let store = try Store(path: path)
        var refused = previous?.refused ?? [:]
        let (scorer, modelProblem) = loadModel(store: store, modelName: modelName, previous: previous?.scorer, refused: &refused, log: log)
        var online: [String: OnlineTable] = [:]
        for (view, entry) in try store.manifest.section(OnlineCatalog.self).tables.sorted(by: { $0.key < $1.key }) {
            if let table = previous?.online[view], table.entry == entry {
                online[view] = table
                continue
            }
            if refused[entry.file] == nil {
                do {
                    online[view] = try OnlineTable(store: store, view: view)
                    log("online table of \(view) v\(entry.featureViewVersion) as of \(ValueText.date(Int64(entry.asOf), style: .iso)) is live")
                    continue
                } catch {
                    refused[entry.file] = "\(error)"
                    log("refused the online table of \(view) (\(entry.file)): \(error); the previous one keeps serving")
                }
            }
            if let table = previous?.online[view] { online[view] = table }
        }
        var binding: [Int]?
        var scoreProblem: String?
        if let scorer {
            (binding, scoreProblem) = bind(scorer, online: online, store: store)
        } else {
            scoreProblem = modelProblem
        }
        return ServingSnapshot(store: store, scorer: scorer, modelProblem: modelProblem, online: online, binding: binding,
                               scoreProblem: scoreProblem, refused: refused)
    }

    /// The production version of `modelName` (by default the one model name with a production version).
    private static func loadModel(store: Store, modelName: String?, previous: ModelScorer?, refused: inout [String: String],
                                  log: (String) -> Void) -> (ModelScorer?, String?) {
        let catalog: ModelCatalog
        do { catalog = try store.manifest.section(ModelCatalog.self) } catch { return (previous, "the model registry does not read: \(error)") }
        let inProduction = catalog.models.filter { $0.value.contains { $0.stage == ModelStages.production } }.keys.sorted()
        guard let name = modelName ?? (inProduction.count == 1 ? inProduction[0] : nil) else {
            return (nil, inProduction.isEmpty
                ? "no model version is in production: strata models promote NAME VERSION --stage production"
                : "several models are in production (\(inProduction.joined(separator: ", "))): start strata serve with --model NAME")
        }
        guard let entry = catalog.models[name]?.last(where: { $0.stage == ModelStages.production }) else {
            return (nil, "model \(name) has no version in production: strata models promote \(name) VERSION --stage production")
        }
        if let previous, previous.name == name, previous.entry.version == entry.version, previous.entry.runId == entry.runId {
            return (previous, nil)
        }
        let key = "\(name)@\(entry.version)/\(entry.runId)"
        if let problem = refused[key] { return (previous, previous == nil ? problem : nil) }
        do {
            let scorer = try ModelScorer(store: store, reference: "\(name)@\(entry.version)")
            log("model \(scorer.reference) (\(entry.runId)) is live")
            return (scorer, nil)
        } catch {
            let problem = "model \(name)@\(entry.version) does not open: \(error)"
            refused[key] = problem
            log("refused \(problem)" + (previous.map { "; \($0.reference) keeps serving" } ?? ""))
            return (previous, previous == nil ? problem : nil)
        }
    }

    /// Checks that the online table of the model's feature view holds the version the model was trained on.
    private static func bind(_ scorer: ModelScorer, online: [String: OnlineTable], store: Store) -> ([Int]?, String?) {
        guard let lineage = scorer.lineage else {
            return (nil, "model \(scorer.reference) was trained on a table without feature view lineage: it can score given vectors only")
        }
        guard let table = online[lineage.featureView] else {
            return (nil, "feature view \(lineage.featureView) has no online table: strata features materialize --view \(lineage.featureView)@\(lineage.featureViewVersion) --as-of DAY")
        }
        guard table.entry.featureViewVersion == lineage.featureViewVersion else {
            return (nil, "the online table of \(lineage.featureView) is version \(table.entry.featureViewVersion); model \(scorer.reference) was trained on version "
                + "\(lineage.featureViewVersion): strata features materialize --view \(lineage.featureView)@\(lineage.featureViewVersion) --as-of DAY")
        }
        if let (_, entry) = try? FeatureRegistry.load(store: store, name: lineage.featureView, version: lineage.featureViewVersion),
           entry.hash != lineage.featureViewHash {
            return (nil, "feature view \(lineage.featureView) v\(lineage.featureViewVersion) is no longer the definition model \(scorer.reference) was trained on; retrain")
        }
        do {
            return (try scorer.binding(to: table.schemas.map(\.name)), nil)
        } catch {
            return (nil, "\(error)")
        }
    }
}

/// The current snapshot, swapped whole when the store commits.
public final class ServingState: Sendable {
    private let current: Mutex<ServingSnapshot>
    /// The last version that failed to open, so that it is reported once, not at every poll.
    private let failedVersion = Mutex<Int?>(nil)
    public let path: String
    public let modelName: String?

    private init(path: String, modelName: String?, first: ServingSnapshot) {
        self.path = path
        self.modelName = modelName
        current = Mutex(first)
    }

    /// Opens the store's latest version. (A factory rather than a throwing initialiser: Swift 6.3 fails to
    /// compile a throwing initialiser of a class holding a `Mutex`.)
    static func open(path: String, modelName: String?, log: (String) -> Void) throws -> ServingState {
        ServingState(path: path, modelName: modelName, first: try ServingSnapshot.load(path: path, modelName: modelName, previous: nil, log: log))
    }

    public var snapshot: ServingSnapshot { current.withLock { $0 } }

    /// Opens the latest version if the store has committed since; keeps the current snapshot on failure.
    func refresh(log: (String) -> Void) {
        let previous = snapshot
        guard let latest = try? Store.latestVersion(path: path), latest != previous.store.version,
              failedVersion.withLock({ $0 }) != latest else { return }
        do {
            let next = try ServingSnapshot.load(path: path, modelName: modelName, previous: previous, log: log)
            current.withLock { $0 = next }
        } catch {
            failedVersion.withLock { $0 = latest }
            log("store version \(latest) does not open: \(error); version \(previous.store.version) keeps serving")
        }
    }
}
