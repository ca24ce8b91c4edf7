import ArgumentParser
import Foundation
import StrataFormat
import StrataMonitor
import StrataStorage

struct MonitorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "monitor",
        abstract: "Drift between the production model's training set and the users expiring in the 30 days from --as-of (or the serving log), its performance on newly labelled months, and what to do about it.",
        discussion: """
            Per feature: PSI and Jensen-Shannon distance over the reference's decile bins, Kolmogorov-Smirnov D and p-value, \
            Wasserstein distance over the reference's standard deviation (numeric); PSI, JS and chi-square over categories \
            (categorical); missing rates. The same for the model's scores (prediction drift). With --current serving_log \
            --since DAY the current sample is the vectors strata serve logged from DAY to --as-of. Concept drift: the model's \
            AUC, log loss and calibration error on each month of --labels labelled after its training set and before \
            --as-of, against its test AUC. The trigger policy (--policy YAML; see Sources/StrataMonitor/README.md) turns the \
            deviations into none, watch, retrain or re-experiment. The report is recorded in the store (section drift) \
            unless --no-record.
            """)

    @OptionGroup var store: StoreOption
    @Option(name: .customLong("as-of"), help: "The day whose expiring users are compared (YYYYMMDD or YYYY-MM-DD); with --current serving_log, the last day of the log read (default today).")
    var asOf: String?
    @Option(help: "population (default: the users expiring in the 30 days from --as-of) or serving_log.") var current = "population"
    @Option(help: "With --current serving_log: the first day of the log read.") var since: String?
    @Option(help: "Label table for the performance on newly labelled months (default: the training set's).") var labels: String?
    @Option(help: "The model: its training set is the reference, its feature view computes the current features.") var model = "churn@production"
    @Option(help: "A reference table other than the model's training set.") var reference: String?
    @Option(help: "Trigger policy (YAML).") var policy: String?
    @Flag(name: .customLong("no-record"), help: "Do not record the report in the store.") var noRecord = false
    @Option(help: "Output: table or json.") var format: OutputFormat = .table

    func validate() throws {
        guard current == "population" || current == "serving_log" else { throw ValidationError("--current must be population or serving_log") }
        if current == "serving_log" {
            guard let since else { throw ValidationError("--current serving_log needs --since DAY: the first day of the log to compare") }
            _ = try dayNumber(since, flag: "--since")
        } else {
            guard since == nil else { throw ValidationError("--since goes with --current serving_log") }
            guard asOf != nil else { throw ValidationError("Missing expected argument '--as-of <as-of>'") }
        }
        if let asOf { _ = try dayNumber(asOf, flag: "--as-of") }
        if let labels { try validateName(labels, flag: "--labels") }
        if let reference { try validateName(reference, flag: "--reference") }
        guard format != .csv else { throw ValidationError("--format must be table or json") }
    }

    func run() throws {
        let policy = try self.policy.map(TriggerPolicy.load) ?? TriggerPolicy()
        let opened = try Store(path: store.path)
        let day = try asOf.map { try dayNumber($0, flag: "--as-of") } ?? Int64(Date().timeIntervalSince1970 / 86_400)
        let source: Monitor.Current = try since.map { .servingLog(since: try dayNumber($0, flag: "--since")) } ?? .population
        if case .servingLog(let first) = source, first > day { throw ValidationError("--since must not be after --as-of") }
        let report = try Monitor.run(store: opened, model: model, asOfDay: day, referenceTable: reference, policy: policy, current: source, labels: labels)
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
        if let performance = report.performance, !performance.isEmpty {
            print("performance on months labelled since the training set (test AUC \(f(report.testAUC)), log loss \(f(report.testLogLoss))):")
            RowPrinter.print(header: ["cutoff", "rows", "churners", "auc", "log_loss", "calibration_error", "auc_drop"], rows: performance.map {
                [$0.cutoff, String($0.rows), String($0.positives), f($0.auc), f($0.logLoss), f($0.calibrationError), f($0.aucDrop)]
            }, format: .table)
        }
        print("decision: \(report.decision.rawValue) — \(report.reason) (policy: \(report.policy))")
        if let version { print("recorded in store version \(version)") }
    }
}
