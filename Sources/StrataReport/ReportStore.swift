import Foundation
import StrataFeatures
import StrataFormat
import StrataStorage
import StrataTrain

/// One weekly report as the store records it: enough to compare weeks and to rebuild the report
/// (`strata report --version INPUT_VERSION`).
public struct ReportEntry: Codable, Equatable, Sendable {
    /// YYYY-MM-DD.
    public var asOf: String
    /// The store version the report was computed from.
    public var inputVersion: Int
    /// Of the inputs (data, models, options): the same fingerprint, the same report.
    public var fingerprint: String
    public var model: String
    public var upliftModel: String?
    public var policy: String
    public var users: Int
    public var bucketA: Int
    public var bucketB: Int
    public var bucketC: Int
    public var offers: Int
    public var expectedChurners: Double
    public var revenueAtRisk: Double
    public var revenueSaved: Double
    public var discountSpend: Double
    public var createdAt: String
}

/// The manifest section `reports` (format-spec §13): one entry per report week (as-of day), oldest first.
public struct ReportLog: CollectionSection, Equatable {
    public static let key = "reports"
    public var reports: [ReportEntry]

    public init(value: [ReportEntry]) { reports = value }
    public var value: [ReportEntry] { reports }

    public func problems(in manifest: Manifest) -> [String] {
        var problems: [String] = []
        var seen = Set<String>()
        for entry in reports {
            if !seen.insert(entry.asOf).inserted { problems.append("report of \(entry.asOf) is listed twice") }
            if entry.inputVersion < 0 || entry.inputVersion > manifest.version { problems.append("report of \(entry.asOf) names input version \(entry.inputVersion), past this version") }
            if [entry.users, entry.bucketA, entry.bucketB, entry.bucketC, entry.offers].contains(where: { $0 < 0 }) || entry.bucketA + entry.bucketB + entry.bucketC != entry.users {
                problems.append("report of \(entry.asOf) has counts that do not add up")
            }
        }
        return problems
    }
}

public func registerManifestSections() {
    StrataTrain.registerManifestSections()
    ManifestSections.register(ReportLog.self)
}

public enum ReportStore {
    public static func entries(store: Store) throws -> [ReportEntry] {
        try store.manifest.section(ReportLog.self).reports.sorted { $0.asOf < $1.asOf }
    }

    public enum Outcome: Sendable, Equatable {
        /// A new record, in this store version.
        case recorded(version: Int)
        /// The week's record was of other inputs; replaced in this store version.
        case replaced(version: Int)
        /// The same report is recorded already: nothing committed.
        case unchanged
    }

    /// Records `report` as its week's entry, once: the same inputs again commit nothing.
    public static func record(_ report: WeeklyReport, storePath: String) throws -> Outcome {
        let writer = try StoreWriter(path: storePath, create: false)
        do {
            var log = try writer.section(ReportLog.self)
            let existing = log.reports.firstIndex { $0.asOf == report.asOfText }
            if let existing, log.reports[existing].fingerprint == report.fingerprint {
                writer.abort()
                return .unchanged
            }
            let entry = ReportEntry(
                asOf: report.asOfText, inputVersion: report.inputVersion, fingerprint: report.fingerprint, model: report.model,
                upliftModel: report.upliftModel, policy: report.policy, users: report.rows.count, bucketA: report.bucketCounts["A"] ?? 0,
                bucketB: report.bucketCounts["B"] ?? 0, bucketC: report.bucketCounts["C"] ?? 0, offers: report.rows.filter { $0.discount > 0 }.count,
                expectedChurners: report.expectedChurners, revenueAtRisk: report.revenueAtRisk, revenueSaved: report.revenueSaved,
                discountSpend: report.discountSpend, createdAt: StoreWriter.timestamp())
            if let existing { log.reports[existing] = entry } else { log.reports.append(entry) }
            log.reports.sort { $0.asOf < $1.asOf }
            try writer.setSection(log)
            let manifest = try writer.commit(operation: "report \(report.asOfText)")
            return existing == nil ? .recorded(version: manifest.version) : .replaced(version: manifest.version)
        } catch {
            writer.abort()
            throw error
        }
    }
}
