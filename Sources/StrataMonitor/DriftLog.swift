import Foundation
import StrataReport
import StrataStorage

/// The manifest section `drift` (format-spec §13): the drift reports of `strata monitor`, one per as-of
/// day and model, oldest first.
public struct DriftLog: CollectionSection, Equatable {
    public static let key = "drift"
    public var reports: [DriftReport]

    public init(value: [DriftReport]) { reports = value }
    public var value: [DriftReport] { reports }

    public func problems(in manifest: Manifest) -> [String] {
        var problems: [String] = []
        var seen = Set<String>()
        for report in reports {
            if !seen.insert(report.asOf + " " + report.model).inserted { problems.append("drift report of \(report.model) as of \(report.asOf) is listed twice") }
            if !(0...1).contains(report.driftedShare) || !report.deviation.isFinite { problems.append("drift report of \(report.asOf) has figures out of range") }
        }
        return problems
    }
}

public func registerManifestSections() {
    StrataReport.registerManifestSections()
    ManifestSections.register(DriftLog.self)
}

extension Monitor {
    /// Records `report` as the drift report of its day and model (replacing an earlier one); returns the version.
    public static func record(_ report: DriftReport, storePath: String) throws -> Int {
        let writer = try StoreWriter(path: storePath, create: false)
        do {
            var log = try writer.section(DriftLog.self)
            log.reports.removeAll { $0.asOf == report.asOf && $0.model == report.model }
            log.reports.append(report)
            log.reports.sort { ($0.asOf, $0.model) < ($1.asOf, $1.model) }
            try writer.setSection(log)
            return try writer.commit(operation: "monitor \(report.model) as of \(report.asOf): \(report.decision.rawValue)").version
        } catch {
            writer.abort()
            throw error
        }
    }
}
