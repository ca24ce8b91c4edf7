import StrataFormat
import StrataStorage

/// Feature vectors by msno, the way online retrieval answers: from the view's online table when it is
/// materialised as of the day asked for (or no day is asked for), else computed point-in-time as of that
/// day from the store (the same engine as training sets, so both agree).
public struct FeatureVectors: Sendable {
    public enum Source: Sendable, Equatable {
        /// Read from the online table materialised as of this day.
        case online(asOfDay: Int)
        /// Computed from the store's events as of this day.
        case computed(asOfDay: Int)
    }

    public var view: String
    /// The version of the view that answered.
    public var viewVersion: Int
    public var names: [String]
    /// The logical type of each feature (dates are day numbers in the values).
    public var types: [LogicalType]
    public var source: Source
    /// Known msno with their vectors, in the order asked.
    public var rows: [(msno: String, values: [FeatureValue])]
    /// msno the store has never seen.
    public var unknown: [String]

    /// Finds the vectors of `msno`. `view` may be nil when exactly one view is registered. One rule for the
    /// version, whether or not a day is asked for: `version`, else the online table's, else the latest; the
    /// online table answers when it is of that version and as of that day, otherwise the vectors are computed.
    public static func lookup(store: Store, view: String?, version: Int? = nil, msno: [String], asOfDay: Int?) throws -> FeatureVectors {
        let catalog = try store.manifest.section(FeatureCatalog.self)
        let online = try store.manifest.section(OnlineCatalog.self)
        let names = catalog.views.keys.sorted()
        guard let name = view ?? (names.count == 1 ? names[0] : nil) else {
            throw FeaturePlanError(message: names.isEmpty
                ? "no feature view is registered: strata training-set or strata features apply registers one"
                : "name the feature view with --view (registered: \(names.joined(separator: ", ")))")
        }
        guard catalog.views[name] != nil else {
            throw FeaturePlanError(message: "no feature view '\(name)' (registered: \(names.isEmpty ? "none" : names.joined(separator: ", ")))")
        }
        let versionUsed = version ?? online.tables[name]?.featureViewVersion ?? catalog.views[name]!.last!.version
        if let online = online.tables[name], online.featureViewVersion == versionUsed, asOfDay == nil || asOfDay == online.asOf {
            let table = try OnlineTable(store: store, view: name)
            var result = FeatureVectors(view: name, viewVersion: versionUsed, names: table.schemas.map(\.name), types: table.schemas.map(\.type),
                                        source: .online(asOfDay: online.asOf), rows: [], unknown: [])
            for key in msno {
                if let vector = table.lookup(key) { result.rows.append((key, vector.values)) } else { result.unknown.append(key) }
            }
            return result
        }
        guard let day = asOfDay else {
            throw FeaturePlanError(message: online.tables[name] == nil
                ? "feature view \(name) has no online table: pass --as-of DAY or run strata features materialize"
                : "the online table of \(name) is of version \(online.tables[name]!.featureViewVersion), not \(versionUsed): pass --as-of DAY to compute version \(versionUsed)")
        }
        let (featureView, _) = try FeatureRegistry.load(store: store, name: name, version: versionUsed)
        let plan = try FeaturePlan(view: featureView, store: store)
        let entities = try store.loadEntities()
        var known: [String] = []
        var ids: [Int64] = []
        var unknown: [String] = []
        for key in msno {
            if let id = entities.lookup(key) { known.append(key); ids.append(Int64(id)) } else { unknown.append(key) }
        }
        let matrix = try PointInTimeEngine(plan: plan, store: store).compute(
            FeatureRequests(entities: ids, cutoffs: Array(repeating: Int64(day), count: ids.count)))
        let rows = known.enumerated().map { row, key in (msno: key, values: (0..<plan.outputs.count).map { matrix.value(row: row, column: $0) }) }
        return FeatureVectors(view: name, viewVersion: versionUsed, names: plan.outputs.map(\.name), types: plan.outputs.map(\.type), source: .computed(asOfDay: day),
                              rows: rows, unknown: unknown)
    }
}
