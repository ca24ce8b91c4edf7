import Foundation
import StrataFormat
import StrataReport
import StrataStorage

/// One drift report in the manifest: its headline figures, and the whole report in a file of the store
/// (`drift/<asOf>-<model>-v<version>.json`), so that a weekly loop does not grow every manifest by the
/// per-feature statistics of every past week. Stores written before release 0.13 hold the report inline.
public struct DriftEntry: Codable, Equatable, Sendable {
    public var asOf: String
    public var model: String
    public var decision: TriggerPolicy.Decision
    public var deviationMetric: String
    public var deviation: Double
    public var driftedShare: Double
    public var file: String?
    public var fileCRC: UInt32?
    /// A report of a store written before the reports had files of their own.
    public var inline: DriftReport?

    enum CodingKeys: String, CodingKey { case asOf, model, decision, deviationMetric, deviation, driftedShare, file, fileCRC }

    init(report: DriftReport, file: String, fileCRC: UInt32) {
        (asOf, model, decision, deviationMetric, deviation, driftedShare) =
            (report.asOf, report.model, report.decision, report.deviationMetric, report.deviation, report.driftedShare)
        self.file = file
        self.fileCRC = fileCRC
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if container.contains(.file) {
            asOf = try container.decode(String.self, forKey: .asOf)
            model = try container.decode(String.self, forKey: .model)
            decision = try container.decode(TriggerPolicy.Decision.self, forKey: .decision)
            deviationMetric = try container.decode(String.self, forKey: .deviationMetric)
            deviation = try container.decode(Double.self, forKey: .deviation)
            driftedShare = try container.decode(Double.self, forKey: .driftedShare)
            file = try container.decode(String.self, forKey: .file)
            fileCRC = try container.decode(UInt32.self, forKey: .fileCRC)
        } else {
            let report = try DriftReport(from: decoder)
            (asOf, model, decision, deviationMetric, deviation, driftedShare) =
                (report.asOf, report.model, report.decision, report.deviationMetric, report.deviation, report.driftedShare)
            inline = report
        }
    }

    public func encode(to encoder: Encoder) throws {
        if let inline { return try inline.encode(to: encoder) }
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(asOf, forKey: .asOf)
        try container.encode(model, forKey: .model)
        try container.encode(decision, forKey: .decision)
        try container.encode(deviationMetric, forKey: .deviationMetric)
        try container.encode(deviation, forKey: .deviation)
        try container.encode(driftedShare, forKey: .driftedShare)
        try container.encode(file, forKey: .file)
        try container.encode(fileCRC, forKey: .fileCRC)
    }

    /// The whole report: inline, or read from its file and checked against its CRC.
    public func report(store: Store) throws -> DriftReport {
        if let inline { return inline }
        guard let file, let fileCRC else { throw MonitorError("drift report of \(asOf) names no file") }
        let bytes = try FileSystem.readFile(store.absolute(file))
        guard Checksum.crc32(bytes) == fileCRC else {
            throw MonitorError("drift report file \(file) does not match its checksum: the store is damaged (strata verify)")
        }
        let report = try DriftLog.decoder.decode(DriftReport.self, from: Data(bytes))
        guard report.asOf == asOf, report.model == model else { throw MonitorError("drift report file \(file) holds another report (\(report.asOf), \(report.model))") }
        return report
    }
}

/// The manifest section `drift` (format-spec §13): the drift reports of `strata monitor`, one per as-of
/// day and model, oldest first.
public struct DriftLog: CollectionSection, Equatable {
    public static let key = "drift"
    public var reports: [DriftEntry]

    public init(value: [DriftEntry]) { reports = value }
    public var value: [DriftEntry] { reports }

    public func problems(in manifest: Manifest) -> [String] {
        var problems: [String] = []
        var seen = Set<String>()
        for report in reports {
            if !seen.insert(report.asOf + " " + report.model).inserted { problems.append("drift report of \(report.model) as of \(report.asOf) is listed twice") }
            if !(0...1).contains(report.driftedShare) || !report.deviation.isFinite { problems.append("drift report of \(report.asOf) has figures out of range") }
            if let file = report.file, !file.hasPrefix("drift/") || file.contains("..") { problems.append("drift report of \(report.asOf) names a file outside drift/: \(file)") }
        }
        return problems
    }

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }

    static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }
}

/// `strata verify` for the drift report files: each against the checksum its entry records, in every version.
public enum DriftVerifier {
    public static let check: StoreCheck = { path in
        var report = VerifyReport()
        var checked = Set<String>()
        for store in try Store.openableVersions(path: path) {
            let entries: [DriftEntry]
            do { entries = try store.manifest.section(DriftLog.self).reports } catch let error as StorageError {
                report.problems.append(error.shortDescription)
                continue
            }
            for entry in entries where entry.file != nil && checked.insert(entry.file! + String(describing: entry.fileCRC)).inserted {
                report.filesChecked += 1
                do { _ = try entry.report(store: store) } catch { report.problems.append("\(store.absolute(entry.file!)): \(error)") }
            }
        }
        return report
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
            let bytes = Array(try DriftLog.encoder.encode(report))
            let model = report.model.map { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" ? $0 : "_" }
            let file = "drift/\(report.asOf)-\(String(model))-v\(StorePaths.zeroPadded(writer.newVersion, 12)).json"
            try writer.writeFile(bytes, relativePath: file)
            log.reports.removeAll { $0.asOf == report.asOf && $0.model == report.model }
            log.reports.append(DriftEntry(report: report, file: file, fileCRC: Checksum.crc32(bytes)))
            log.reports.sort { ($0.asOf, $0.model) < ($1.asOf, $1.model) }
            try writer.setSection(log)
            return try writer.commit(operation: "monitor \(report.model) as of \(report.asOf): \(report.decision.rawValue)").version
        } catch {
            writer.abort()
            throw error
        }
    }
}
