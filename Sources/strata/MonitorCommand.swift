import ArgumentParser
import Foundation
import StrataFormat
import StrataMonitor
import StrataStorage

struct MonitorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "monitor",
        abstract: "Drift between the production model's training set and the users expiring in the 30 days from --as-of, and what to do about it.",
        discussion: """
            Per feature: PSI and Jensen-Shannon distance over the reference's decile bins, Kolmogorov-Smirnov D and p-value, \
            Wasserstein distance over the reference's standard deviation (numeric); PSI, JS and chi-square over categories \
            (categorical); missing rates. The same for the model's scores (prediction drift). The trigger policy (--policy \
            YAML; see Sources/StrataMonitor/README.md) turns a deviation into none, watch, retrain or re-experiment. The \
            report is recorded in the store (section drift) unless --no-record.
            """)

    @OptionGroup var store: StoreOption
    @Option(name: .customLong("as-of"), help: "The day whose expiring users are compared (YYYYMMDD or YYYY-MM-DD).") var asOf: String
    @Option(help: "The model: its training set is the reference, its feature view computes the current features.") var model = "churn@production"
    @Option(help: "A reference table other than the model's training set.") var reference: String?
    @Option(help: "Trigger policy (YAML).") var policy: String?
    @Flag(name: .customLong("no-record"), help: "Do not record the report in the store.") var noRecord = false
    @Option(help: "Output: table or json.") var format: OutputFormat = .table

    func validate() throws {
        _ = try dayNumber(asOf, flag: "--as-of")
        if let reference { try validateName(reference, flag: "--reference") }
        guard format != .csv else { throw ValidationError("--format must be table or json") }
    }

    func run() throws {
        let policy = try self.policy.map(TriggerPolicy.load) ?? TriggerPolicy()
        let opened = try Store(path: store.path)
        let report = try Monitor.run(store: opened, model: model, asOfDay: try dayNumber(asOf, flag: "--as-of"), referenceTable: reference, policy: policy)
        let version = noRecord ? nil : try Monitor.record(report, storePath: store.path)
        if format == .json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        func f(_ value: Double?, _ digits: Int = 4) -> String { value.map { String(format: "%.\(digits)f", $0) } ?? "" }
        print("drift of \(report.model) as of \(report.asOf): reference \(report.reference) (\(grouped(report.referenceRows)) rows), current \(report.current) (\(grouped(report.currentRows)) users)")
        RowPrinter.print(header: ["feature", "kind", "psi", "js", "ks", "ks_p", "wasserstein", "chi2_p", "missing_ref", "missing_cur", "drifted"],
                         rows: (report.features + [report.prediction]).map { d in
            [d.feature, d.kind, f(d.psi), f(d.jensenShannon), f(d.ksStatistic), f(d.ksPValue), f(d.wassersteinNormed), f(d.chiSquarePValue),
             f(d.missingReference, 3), f(d.missingCurrent, 3), d.drifted ? "yes" : ""]
        }, format: .table)
        print("decision: \(report.decision.rawValue) — \(report.reason) (policy: \(report.policy))")
        if let version { print("recorded in store version \(version)") }
    }
}
