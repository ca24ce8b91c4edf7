import ArgumentParser
import Foundation
import StrataFormat
import StrataIngest

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a synthetic KKBox dataset: members.csv, transactions.csv, user_logs.csv, labels.csv, campaigns.csv.",
        discussion: """
            campaigns.csv holds randomised retention offers (msno, offer_date, discount_pct in 0/10/20/30, renewed) made \
            on the first day of a labelled expiry's month, in every label month but the last --campaign-free-months. \
            truth/campaign_response.csv is the generator's hidden truth: per user, the chance that each discount \
            saves them if they would churn (strata report --truth scores a discount policy against it).
            """)

    @Option(help: "Directory to write the CSVs (and truth/) into.") var out: String
    @Option(parsing: .unconditional, help: "Number of members.") var members = 10_000
    @Option(help: "First day, YYYYMMDD or YYYY-MM-DD.") var start = "20160101"
    @Option(parsing: .unconditional, help: "Number of months.") var months = 15
    @Option(parsing: .unconditional, help: "Random seed: the same seed gives the same bytes.") var seed: UInt64 = 42
    @Option(name: .customLong("drift-from"), help: "From this day (YYYYMMDD or YYYY-MM-DD) behaviour and churn drivers change.") var driftFrom: String?
    @Option(name: .customLong("label-months"), parsing: .unconditional, help: "How many of the last months get label rows.") var labelMonths = 8
    @Option(parsing: .unconditional, help: "Listening days relative to the default: 1.5 gives about half again as many user_logs rows (0.2 to 3).") var activity = 1.0
    @Option(name: .customLong("subscriber-share"), parsing: .unconditional,
            help: "Share of members who subscribe; the rest only register (0.05 to 1; 0.35 matches KKBox's rows per member).")
    var subscriberShare = 1.0
    @Option(name: .customLong("campaign-share"), parsing: .unconditional, help: "Share of labelled expiries offered a discount (0: no campaigns.csv).")
    var campaignShare = 0.3
    @Option(name: .customLong("campaign-free-months"), parsing: .unconditional, help: "The last label months without campaigns.")
    var campaignFreeMonths = 2

    func validate() throws {
        guard members > 0, members <= 50_000_000 else { throw ValidationError("--members must be between 1 and 50,000,000") }
        guard months > 0, months <= 240 else { throw ValidationError("--months must be between 1 and 240") }
        guard labelMonths > 0 else { throw ValidationError("--label-months must be positive") }
        guard campaignShare.isFinite, (0...1).contains(campaignShare) else { throw ValidationError("--campaign-share must be between 0 and 1") }
        guard campaignFreeMonths >= 0 else { throw ValidationError("--campaign-free-months must be 0 or more") }
        guard activity.isFinite, (0.2...3).contains(activity) else { throw ValidationError("--activity must be between 0.2 and 3") }
        guard subscriberShare.isFinite, (0.05...1).contains(subscriberShare) else {
            throw ValidationError("--subscriber-share must be between 0.05 and 1")
        }
        // Registrations reach back to 2004 and expiries years ahead: keep the whole dataset in 0001-9999.
        guard (1900...9000).contains(Dates.civil(dayNumber: Int(try dayNumber(start, flag: "--start"))).year) else {
            throw ValidationError("--start must lie in the years 1900-9000 (the generated data spans years around it)")
        }
        if let driftFrom { _ = try dayNumber(driftFrom, flag: "--drift-from") }
    }

    func run() throws {
        var options = GeneratorOptions()
        options.memberCount = members
        options.start = Dates.yyyymmdd(dayNumber: Int(try dayNumber(start, flag: "--start")))
        options.monthCount = months
        options.seed = seed
        options.driftFrom = try driftFrom.map { Dates.yyyymmdd(dayNumber: Int(try dayNumber($0, flag: "--drift-from"))) }
        options.labelMonthCount = labelMonths
        options.campaignShare = campaignShare
        options.campaignFreeMonthCount = campaignFreeMonths
        options.activity = activity
        options.subscriberShare = subscriberShare
        var generator = DatasetGenerator(options: options)
        let report = try generator.generate(into: out)
        let rate = Double(report.userLogCount) / max(report.seconds, 1e-9)
        print("wrote \(out): \(grouped(report.memberCount)) members, \(grouped(report.transactionCount)) transactions, "
            + "\(grouped(report.userLogCount)) user_logs, \(grouped(report.labelCount)) labels, \(grouped(report.campaignCount)) campaign offers "
            + "(churn rate \(String(format: "%.1f", 100 * Double(report.churnCount) / Double(max(1, report.labelCount))))%) "
            + "in \(String(format: "%.2f", report.seconds)) s (\(String(format: "%.2f", rate / 1e6)) M log rows/s)")
    }
}
