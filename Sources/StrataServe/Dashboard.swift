import Foundation
import Hummingbird
import Mustache
import StrataFeatures
import StrataFormat
import StrataMonitor
import StrataPipeline
import StrataReport
import StrataStorage
import StrataTrain
import Synchronization

/// The dashboard: server-rendered pages (swift-mustache templates, charts as inline SVG, no script and
/// nothing loaded from elsewhere) over the same snapshot the API answers from.
final class Dashboard: Sendable {
    let state: ServingState
    let stats: RouteStats
    let queue: ServingLogQueue
    let library: MustacheLibrary
    /// Total stored bytes by store version, read once per version.
    let sizeByVersion = Mutex<[Int: Int]>([:])
    static let historyVersionsMax = 60

    private init(state: ServingState, stats: RouteStats, queue: ServingLogQueue, library: MustacheLibrary) {
        self.state = state
        self.stats = stats
        self.queue = queue
        self.library = library
    }

    /// Parses the templates (a factory: see `ServingState.open` for why not a throwing initialiser).
    static func make(state: ServingState, stats: RouteStats, queue: ServingLogQueue) throws -> Dashboard {
        var library = MustacheLibrary()
        for (name, text) in DashboardTemplates.all { try library.register(text, named: name) }
        return Dashboard(state: state, stats: stats, queue: queue, library: library)
    }

    /// The pages by path.
    var pages: [(String, @Sendable (Request, BasicRequestContext) async throws -> Response)] {
        [
            ("/", { _, _ in try self.page("overview", self.overview()) }),
            ("/runs", { request, _ in
                try self.page("runs", self.runs(a: request.uri.queryParameters["a"].map(String.init), b: request.uri.queryParameters["b"].map(String.init)))
            }),
            ("/scoring", { _, _ in try self.page("scoring", self.scoring()) }),
            ("/reports", { _, _ in try self.page("reports", self.reports()) }),
            ("/drift", { _, _ in try self.page("drift", self.drift()) }),
        ]
    }

    private func page(_ template: String, _ context: [String: Any]) throws -> Response {
        var context = context
        let snapshot = state.snapshot
        context["store_path"] = snapshot.store.path
        context["store_version"] = snapshot.store.version
        context["serving"] = snapshot.scorer?.reference ?? "no model"
        context["ready"] = snapshot.isReady
        context["problem"] = snapshot.scoreProblem ?? ""
        context["nav_" + template] = true
        guard let html = library.render(context, withTemplate: template) else {
            throw APIError(.internalServerError, "internal", "the \(template) page did not render")
        }
        return .text(html, contentType: "text/html; charset=utf-8")
    }

    // MARK: Pages

    private func overview() throws -> [String: Any] {
        let snapshot = state.snapshot
        let store = snapshot.store
        let tables = try store.tableListing()
        let models = try ModelRegistry.listing(store: store)
        var context: [String: Any] = [
            "entities": ValueText.grouped(store.manifest.entities.count),
            "tables": tables.map { table -> [String: Any] in
                let manifest = try? store.table(table.table)
                return ["name": table.table, "rows": ValueText.grouped(table.rows), "partitions": table.partitions, "segments": table.segments,
                        "bytes": Charts.bytes(Double(table.bytes)), "kind": table.kind,
                        "span": manifest.flatMap(partitionSpan) ?? ""]
            },
            "models": models.map { ["name": $0.model, "version": $0.version, "stage": $0.stage, "run": $0.run,
                                    "auc": $0.testAuc.map { String(format: "%.4f", $0) } ?? "–", "updated": $0.updatedAt,
                                    "production": $0.stage == ModelStages.production] },
            "online": snapshot.online.keys.sorted().map { view -> [String: Any] in
                let table = snapshot.online[view]!
                return ["view": view, "version": table.entry.featureViewVersion, "as_of": ValueText.date(Int64(table.asOfDay), style: .iso),
                        "vectors": ValueText.grouped(table.entry.entityCount), "bytes": Charts.bytes(Double(table.entry.sizeBytes))]
            },
        ]
        context["chart_tables"] = Charts.bars(tables.map { ($0.table, Double($0.bytes)) }, title: "Stored size by table", format: Charts.bytes)
        context["chart_history"] = Charts.line(sizeHistory(store: store).map { (Double($0.version), Double($0.bytes)) },
                                               title: "Store size over the last \(Self.historyVersionsMax) versions", xLabel: "store version", format: Charts.bytes)
        let routes = stats.summaries()
        context["routes"] = routes.map { ["route": $0.route, "requests": ValueText.grouped($0.requests), "errors": ValueText.grouped($0.errors),
                                          "p50": String(format: "%.3f", $0.p50Ms), "p99": String(format: "%.3f", $0.p99Ms)] }
        context["chart_latency"] = Charts.bars(routes.map { ($0.route, $0.p99Ms) }, title: "p99 latency by route (ms, recent requests)",
                                               format: { String(format: "%.3f ms", $0) }, colour: "#5a9a5a")
        context["log_committed"] = ValueText.grouped(queue.committed)
        context["log_depth"] = ValueText.grouped(queue.depth)
        context["log_dropped"] = ValueText.grouped(queue.dropped)
        return context
    }

    private func runs(a: String?, b: String?) throws -> [String: Any] {
        let store = state.snapshot.store
        let runs = try TrainingRunner.listing(store: store)
        var context: [String: Any] = [
            "runs": runs.reversed().map { run -> [String: Any] in
                ["id": run.run, "created": run.createdAt, "model": run.model, "training_set": run.trainingSet, "rows": ValueText.grouped(run.trainRows),
                 "auc": run.testAuc.map { String(format: "%.4f", $0) } ?? "–", "log_loss": String(format: "%.4f", run.testLogLoss),
                 "seconds": String(format: "%.1f", run.seconds)]
            },
        ]
        context["chart_auc"] = Charts.bars(runs.suffix(20).map { ($0.run, $0.testAuc ?? 0) }, title: "Test AUC of the latest runs",
                                           format: { String(format: "%.4f", $0) })
        // The comparison: the two runs asked for, else the latest two.
        let ids = runs.map(\.run)
        let first = a ?? (ids.count >= 2 ? ids[ids.count - 2] : nil)
        let second = b ?? ids.last
        context["options"] = ids.reversed().map { ["id": $0, "a": $0 == first, "b": $0 == second] }
        for id in [a, b].compactMap({ $0 }) where !ids.contains(id) {
            throw APIError.notFound("no run '\(id.prefix(64))' (runs: \(ids.suffix(5).joined(separator: ", ")))")
        }
        if let first, let second, first != second {
            let left = try TrainingRunner.record(store: store, id: first)
            let right = try TrainingRunner.record(store: store, id: second)
            func metric(_ name: String, _ x: Double?, _ y: Double?) -> [String: Any] {
                ["metric": name, "a": x.map { String(format: "%.4f", $0) } ?? "–", "b": y.map { String(format: "%.4f", $0) } ?? "–",
                 "delta": (x != nil && y != nil) ? String(format: "%+.4f", y! - x!) : ""]
            }
            context["compare"] = [
                "a": first, "b": second,
                "metrics": [
                    metric("test AUC", left.test.auc, right.test.auc), metric("test log loss", left.test.logLoss, right.test.logLoss),
                    metric("validation AUC", left.validation?.auc, right.validation?.auc),
                    metric("train rows", Double(left.trainRows), Double(right.trainRows)),
                    metric("seconds", left.durationSeconds, right.durationSeconds),
                ],
            ] as [String: Any]
            let features = Array(Set(left.importance.prefix(10).map(\.feature) + right.importance.prefix(10).map(\.feature))).sorted()
            func share(_ record: RunRecord) -> [Double] {
                let total = max(record.importance.reduce(0) { $0 + $1.value }, 1e-12)
                return features.map { name in (record.importance.first { $0.feature == name }?.value ?? 0) / total }
            }
            context["chart_compare"] = Charts.pairedBars(features, share(left), share(right), names: (first, second),
                                                         title: "Feature importance (share of total)")
        }
        return context
    }

    /// Drift reports (`strata monitor`) and pipeline runs (`strata pipeline`): the latest report's features with
    /// the histograms of the most drifted, the history of decisions, the runs and their steps.
    private func drift() throws -> [String: Any] {
        let store = state.snapshot.store
        let reports = try store.manifest.section(DriftLog.self).reports
        func f(_ value: Double?) -> String { value.map { String(format: "%.4f", $0) } ?? "" }
        var context: [String: Any] = [
            "history": reports.reversed().map { report -> [String: Any] in
                ["as_of": report.asOf, "model": report.model, "deviation": "\(report.deviationMetric) \(f(report.deviation))",
                 "drifted": String(format: "%.1f%%", 100 * report.driftedShare), "decision": report.decision.rawValue]
            },
        ]
        let byDay = reports.sorted { $0.asOf < $1.asOf }
        context["chart_deviation"] = Charts.bars(byDay.suffix(16).map { ($0.asOf, 100 * $0.driftedShare) }, title: "Share of drifted features by day (%)",
                                                 format: { String(format: "%.1f", $0) }, colour: "#b05a5a")
        if let latest = try byDay.last?.report(store: store) {
            if let auc = latest.performance?.last?.auc { context["latest_auc"] = f(auc) }
            context["latest"] = ["as_of": latest.asOf, "model": latest.model, "reference": latest.reference, "current": latest.current,
                                 "decision": latest.decision.rawValue, "reason": latest.reason]
            context["features"] = (latest.features + [latest.prediction]).sorted { $0.psi > $1.psi }.map { d -> [String: Any] in
                ["feature": d.feature, "kind": d.kind, "psi": f(d.psi), "js": f(d.jensenShannon), "ks": f(d.ksStatistic), "ks_p": f(d.ksPValue),
                 "wasserstein": f(d.wassersteinNormed), "missing": "\(String(format: "%.3f", d.missingReference)) → \(String(format: "%.3f", d.missingCurrent))",
                 "drifted": d.drifted ? "yes" : ""]
            }
            context["histograms"] = (latest.features + [latest.prediction]).sorted { $0.psi > $1.psi }.prefix(6).compactMap { d -> [String: Any]? in
                guard let bins = d.bins, let r = d.referenceShares, let c = d.currentShares, bins.count == r.count, r.count == c.count else { return nil }
                return ["chart": Charts.pairedBars(bins, r, c, names: ("reference", "current"), title: "\(d.feature): share per bin (PSI \(f(d.psi)))")]
            }
        }
        let runs = try store.manifest.section(PipelineLog.self).runs
        context["runs"] = runs.reversed().map { run -> [String: Any] in
            ["id": run.id, "as_of": run.asOf, "status": run.status.rawValue, "decision": run.decision ?? "",
             "challenger": run.outputs(.train)["challenger"] ?? "", "gates": run.outputs(.evaluate)["gates"] ?? "",
             "production": run.outputs(.promote)["production"] ?? run.outputs(.predict)["model"] ?? "",
             "steps": ["done", "skipped", "failed", "running", "pending"].compactMap { status -> String? in
                 let names = run.steps.filter { $0.status.rawValue == status }.map(\.name.rawValue)
                 return names.isEmpty ? nil : status == "done" || status == "pending" ? "\(names.count) \(status)" : "\(status): \(names.joined(separator: ", "))"
             }.joined(separator: "; "), "alerts": run.alerts.count]
        }
        return context
    }

    /// The weekly reports recorded in the store (`strata report`), newest first, with their trend.
    private func reports() throws -> [String: Any] {
        let entries = try ReportStore.entries(store: state.snapshot.store)
        var context: [String: Any] = [
            "reports": entries.reversed().map { entry -> [String: Any] in
                ["as_of": entry.asOf, "users": ValueText.grouped(entry.users), "a": ValueText.grouped(entry.bucketA), "b": ValueText.grouped(entry.bucketB),
                 "c": ValueText.grouped(entry.bucketC), "offers": ValueText.grouped(entry.offers), "churners": String(format: "%.0f", entry.expectedChurners),
                 "at_risk": String(format: "%.0f", entry.revenueAtRisk), "saved": String(format: "%.0f", entry.revenueSaved),
                 "spend": String(format: "%.0f", entry.discountSpend), "model": entry.model, "uplift": entry.upliftModel ?? "bucket policy",
                 "version": entry.inputVersion]
            },
        ]
        let recent = entries.suffix(12)
        context["chart_weeks"] = Charts.bars(recent.map { ($0.asOf, Double($0.bucketA + $0.bucketB)) }, title: "Users at risk (A + B) by week")
        context["chart_saved"] = Charts.bars(recent.map { ($0.asOf, $0.revenueSaved) }, title: "Expected revenue saved by the offers, by week",
                                             format: { String(format: "%.0f", $0) }, colour: "#5a9a5a")
        return context
    }

    private func scoring() throws -> [String: Any] {
        let store = state.snapshot.store
        var context: [String: Any] = [:]
        guard let (name, lineage) = latestPredictions(store: store) else {
            context["chart_buckets"] = Charts.bars([], title: "Users by bucket")
            return context
        }
        context["table"] = name
        context["model"] = lineage.model ?? ""
        context["as_of"] = lineage.asOf ?? lineage.labelsTable
        var counts: [String: Int] = [:]
        let buckets = try TableScan(store: store, table: name, columns: ["bucket"])
        while let batch = try buckets.next() {
            if case .strings(let values) = batch.columns[0].values { for row in 0..<values.count { counts[values.string(at: row), default: 0] += 1 } }
        }
        context["chart_buckets"] = Charts.bars(["A", "B", "C"].map { ("bucket \($0)", Double(counts[$0] ?? 0)) }, title: "Users by bucket (\(name))")
        context["buckets"] = ["A", "B", "C"].map { ["bucket": $0, "users": ValueText.grouped(counts[$0] ?? 0)] }
        // Predictions are stored riskiest first.
        let columns = ["msno", "churn_probability", "bucket"] + (1...3).flatMap { ["reason_\($0)_feature", "reason_\($0)_value"] }
        let scan = try TableScan(store: store, table: name, columns: columns)
        let entities = try store.loadEntities(indexed: false)
        var risky: [[String: Any]] = []
        while risky.count < 20, let batch = try scan.next() {
            for row in 0..<batch.columns[0].count where risky.count < 20 {
                func text(_ column: Int) -> String? {
                    let vector = batch.columns[column]
                    guard !vector.isNull(row), case .strings(let values) = vector.values else { return nil }
                    return values.string(at: row)
                }
                guard case .integers(let ids) = batch.columns[0].values, case .floats(let probabilities) = batch.columns[1].values else { break }
                let reasons = (0..<3).compactMap { slot -> String? in
                    guard let feature = text(3 + 2 * slot) else { return nil }
                    return "\(feature) = \(text(4 + 2 * slot) ?? "NULL")"
                }
                risky.append(["msno": entities.string(Int(ids[row])), "probability": String(format: "%.3f", probabilities[row]),
                              "bucket": text(2) ?? "", "reasons": reasons.joined(separator: "; ")])
            }
        }
        context["risky"] = risky
        return context
    }

    // MARK: Data

    /// The predictions table written last (by the version its lineage records).
    private func latestPredictions(store: Store) -> (String, Lineage)? {
        var best: (String, Lineage)?
        for name in store.tableNames {
            guard let table = try? store.table(name), let lineage = try? table.featureLineage(), lineage.kind == "predictions" else { continue }
            if best == nil || lineage.storeVersion >= best!.1.storeVersion { best = (name, lineage) }
        }
        return best
    }

    private func sizeHistory(store: Store) -> [(version: Int, bytes: Int)] {
        let versions = ((try? StorePaths.versions(store.path)) ?? []).filter { $0 <= store.version }.suffix(Self.historyVersionsMax)
        return versions.compactMap { version in
            if let known = sizeByVersion.withLock({ $0[version] }) { return (version, known) }
            guard let opened = try? Store(path: store.path, version: version) else { return nil }
            let bytes = opened.manifest.tables.values.reduce(0) { $0 + $1.sizeBytes }
            sizeByVersion.withLock { $0[version] = bytes }
            return (version, bytes)
        }
    }

    private func partitionSpan(_ table: TableManifest) -> String? {
        guard table.partitioning == .month else { return nil }
        let keys = Set(table.segments.map(\.partition)).sorted()
        guard let first = keys.first, let last = keys.last else { return nil }
        func month(_ key: Int) -> String { String(format: "%04d-%02d", key / 100, key % 100) }
        return first == last ? month(first) : "\(month(first)) … \(month(last))"
    }
}
