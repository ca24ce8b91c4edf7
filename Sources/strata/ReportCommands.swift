import ArgumentParser
import Foundation
import StrataFormat
import StrataReport
import StrataStorage
import StrataTrain

extension OfferObjective: ExpressibleByArgument {}

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The weekly churn report: who expires in the next 30 days, their risk, reasons and the offer worth making; CSV, HTML, email.",
        subcommands: [MakeReport.self, ListReports.self], defaultSubcommand: MakeReport.self)
}

struct MakeReport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "make",
        abstract: "Write the report as of a day (the default subcommand: strata report --as-of DAY --out DIR).",
        discussion: """
            The users are those whose membership expires in the 30 days from --as-of (as-of <= expiry < as-of + 30), the \
            expiry read from their latest transaction before --as-of; nothing on or after --as-of is read. Each gets the \
            churn model's probability and bucket, the three strongest reasons in words, and an offer: with an uplift model \
            (strata train --model uplift) the discount of the largest expected net revenue, value(d) = p(d)·price·(1−d) − \
            p(0)·price, within --budget (a cap on the expected discount given) by marginal value per unit of cost; without \
            one, the bucket policy of --policy (default: 20% to B only). Writes DIR/report-YYYYMMDD.csv and .html, and \
            records the report in the store once per week (the same inputs again: no new record). --email CONFIG mails it \
            (SMTP, STARTTLS, the password from the environment: see Sources/StrataReport/README.md); --dry-run writes \
            DIR/report-YYYYMMDD.eml instead of sending.
            """)

    @OptionGroup var store: StoreOption
    @Option(name: .customLong("as-of"), help: "The report's day (YYYYMMDD or YYYY-MM-DD).") var asOf: String
    @Option(help: "Churn model: NAME, NAME@STAGE or NAME@VERSION.") var model = "churn@production"
    @Option(help: "Uplift model (default: the latest version of 'uplift', when there is one).") var uplift: String?
    @Option(help: "Directory for the CSV and HTML (created when missing).") var out: String
    @Option(parsing: .unconditional, help: "Cap on the total expected discount given, in price units.") var budget: Double?
    @Option(help: "What the offers maximise: revenue (expected net revenue) or retention (expected renewals; needs --budget).")
    var objective: OfferObjective = .revenue
    @Option(help: "YAML bucket policy for stores without an uplift model (discounts: {A: 0, B: 20, C: 0}).") var policy: String?
    @Option(help: "The generator's truth/campaign_response.csv: simulate churn under each policy.") var truth: String?
    @Option(help: "Email config (YAML): send the report.") var email: String?
    @Flag(name: .customLong("dry-run"), help: "Write DIR/report-YYYYMMDD.eml instead of sending (the report is still recorded).") var dryRun = false
    @Option(name: .customLong("version"), parsing: .unconditional, help: "Read the store as of this version (rebuild a past report).") var storeVersion: Int?
    @Option(name: .customLong("bucket-a"), parsing: .unconditional, help: "A (will churn anyway) from this probability.") var bucketA = 0.5
    @Option(name: .customLong("bucket-b"), parsing: .unconditional, help: "B (on the fence) from this probability; below is C (safe).") var bucketB = 0.15

    func validate() throws {
        _ = try dayNumber(asOf, flag: "--as-of")
        if let budget { guard budget.isFinite, budget >= 0 else { throw ValidationError("--budget must be a number >= 0") } }
        guard bucketA.isFinite, bucketB.isFinite, (0...1).contains(bucketA), (0...1).contains(bucketB), bucketB < bucketA else {
            throw ValidationError("bucket thresholds need 0 <= --bucket-b < --bucket-a <= 1")
        }
        guard !out.isEmpty else { throw ValidationError("--out must name a directory") }
    }

    func run() throws {
        // Everything the email needs is checked before anything is computed, written or committed.
        let config = try email.map { try EmailConfig.load($0) }
        var request = ReportRequest(storePath: store.path, asOfDay: try dayNumber(asOf, flag: "--as-of"))
        request.model = model
        request.uplift = uplift
        request.budget = budget
        request.objective = objective
        request.policyFile = policy
        request.truthFile = truth
        request.storeVersion = storeVersion
        request.thresholds = try BucketThresholds(a: bucketA, b: bucketB)
        let report = try ReportBuilder.build(request, progress: stepReporter(since: Date()))
        for warning in report.warnings { printError("warning: " + warning) }
        let stem = try report.writeFiles(to: out)
        print("report as of \(report.asOfText) (store version \(report.inputVersion), \(report.model)):")
        for (label, value) in report.headline { print("  \(label): \(value)") }
        print("  discounts: \(report.policy)")
        if let simulation = report.simulation {
            print("  simulated against the truth on \(grouped(simulation.users)) users with a known outcome:")
            for outcome in simulation.outcomes {
                print("    \(outcome.policy): churn \(String(format: "%.2f", outcome.churnPct))%, \(grouped(outcome.offers)) offers, discount given \(String(format: "%.0f", outcome.discountSpend)), net revenue \(String(format: "%.0f", outcome.netRevenue))")
            }
        }
        print("wrote \(stem).csv (\(grouped(report.rows.count)) users) and \(stem).html")
        if dryRun || config != nil {
            let message = try report.message(config: config)
            if dryRun {
                try FileSystem.writeAtomically(message, to: stem + ".eml", temporaryPath: stem + ".eml.tmp")
                print("wrote \(stem).eml (not sent: --dry-run)")
            } else if let config {
                try SMTPSender.send(message, config: config)
                print("sent to \(config.to.joined(separator: ", ")) through \(config.url)")
            }
        }
        if storeVersion != nil {
            print("not recorded: a rebuild of store version \(report.inputVersion)")
            return
        }
        switch try ReportStore.record(report, storePath: store.path) {
        case .recorded(let version): print("recorded the report of \(report.asOfText) in store version \(version)")
        case .replaced(let version): print("replaced the record of \(report.asOfText) (its inputs changed) in store version \(version)")
        case .unchanged: print("the report of \(report.asOfText) is recorded already with the same inputs: nothing committed")
        }
    }
}

struct ListReports: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Past reports recorded in the store, one per week.")

    @OptionGroup var store: StoreOption
    @Option(name: .customLong("version"), parsing: .unconditional, help: "Read the store as of this version.") var storeVersion: Int?
    @Option(help: "Output: table, csv or json.") var format: OutputFormat = .table

    func run() throws {
        let entries = try ReportStore.entries(store: try Store(path: store.path, version: storeVersion))
        RowPrinter.print(header: ["as_of", "input_version", "model", "uplift_model", "users", "a", "b", "c", "offers",
                                  "expected_churners", "revenue_at_risk", "revenue_saved", "discount_spend"], rows: entries.map { entry -> [String?] in
            [entry.asOf, String(entry.inputVersion), entry.model, entry.upliftModel ?? "", String(entry.users), String(entry.bucketA), String(entry.bucketB),
             String(entry.bucketC), String(entry.offers), String(format: "%.1f", entry.expectedChurners), String(format: "%.2f", entry.revenueAtRisk),
             String(format: "%.2f", entry.revenueSaved), String(format: "%.2f", entry.discountSpend)]
        }, format: format)
    }
}
