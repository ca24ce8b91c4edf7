import Foundation
import StrataFeatures
import StrataFormat
import StrataIngest
import StrataStorage
import StrataTrain

/// Options of `strata report`.
public struct ReportRequest: Sendable {
    public var storePath: String
    public var asOfDay: Int64
    public var model = "churn@production"
    /// The uplift model; nil: the latest version of a model named `uplift` when there is one.
    public var uplift: String?
    /// A cap on the total expected discount given (price units); nil: none.
    public var budget: Double?
    /// What the chosen offers maximise.
    public var objective = OfferObjective.revenue
    /// Discounts by bucket when there is no uplift model (`BucketPolicy`).
    public var policyFile: String?
    /// The generator's truth (truth/campaign_response.csv): simulate the churn each policy would give.
    public var truthFile: String?
    /// Read the store as of this version (a report rebuilt as it was); nil: the latest.
    public var storeVersion: Int?
    public var thresholds = BucketThresholds.standard

    public init(storePath: String, asOfDay: Int64) {
        self.storePath = storePath
        self.asOfDay = asOfDay
    }
}

/// One user of the report.
public struct ReportRow: Sendable {
    public var msno: String
    public var expiryDay: Int64
    public var probability: Double
    public var bucket: String
    public var reasons: [String]
    public var reasonFeatures: [String]
    public var discount: Int
    public var action: String
    /// Expected net revenue of the action against no offer; nil under a bucket policy (nothing to estimate it with).
    public var expectedValue: Double?
    /// Expected discount given.
    public var expectedCost: Double?
    public var price: Double
    public var city: Int64?
    public var paymentMethod: Int64?
    public var planDays: Int64?
}

/// The simulated outcome of one discount policy on this week's users, against the generator's truth.
public struct PolicyOutcome: Codable, Equatable, Sendable {
    public var policy: String
    public var offers: Int
    /// Churn rate of the users with a known outcome, in percent.
    public var churnPct: Double
    /// Discount given to the users who renew (expected, price units).
    public var discountSpend: Double
    /// Revenue of the renewals net of discounts (expected, price units).
    public var netRevenue: Double
}

public struct Simulation: Codable, Equatable, Sendable {
    /// Users of the report whose no-offer outcome is known (a label of their expiry month).
    public var users: Int
    public var outcomes: [PolicyOutcome]
}

public struct WeeklyReport: Sendable {
    public var asOfDay: Int64
    public var inputVersion: Int
    public var fingerprint: String
    public var model: String
    public var modelMetrics: Metrics
    public var upliftModel: String?
    public var uplift: UpliftEvaluation?
    /// How discounts were chosen, in words.
    public var policy: String
    public var budget: Double?
    public var rows: [ReportRow]
    public var bucketCounts: [String: Int]
    public var expectedChurners: Double
    public var revenueAtRisk: Double
    public var revenueSaved: Double
    public var discountSpend: Double
    public var latestTransactionDay: Int64?
    public var latestLogDay: Int64?
    /// Total expected value per discount, had every user been offered it (uplift only).
    public var valueByDiscount: [(discount: Int, value: Double)]
    public var simulation: Simulation?
    /// Earlier weeks' records (oldest first), for the trend chart.
    public var history: [ReportEntry]
    /// What the reader should know before trusting the report (printed on stderr).
    public var warnings: [String] = []

    public var asOfText: String { ValueText.date(asOfDay, style: .iso) }
    public var fileStem: String { "report-" + String(Dates.yyyymmdd(dayNumber: Int(asOfDay))) }
    public var atRisk: Int { (bucketCounts["A"] ?? 0) + (bucketCounts["B"] ?? 0) }
}

public enum ReportBuilder {
    /// Part of every report's fingerprint: raise it when what a report computes changes, so that a week
    /// reported again after an upgrade is recomputed and its record replaced.
    static let methodVersion = 3
    /// Scores the users expiring in the 30 days from `as-of` and chooses their offers. Reads only; nothing
    /// is written (see `ReportStore.record`).
    public static func build(_ request: ReportRequest, progress: ((String) -> Void)? = nil) throws -> WeeklyReport {
        let store = try Store(path: request.storePath, version: request.storeVersion)
        let scorer = try ModelScorer(store: store, reference: request.model)
        guard let lineage = scorer.lineage else {
            throw ReportError("model \(scorer.reference) has no feature view lineage: the report computes its features as of the day; train it on a training set")
        }
        let upliftScorer = try upliftModel(store: store, reference: request.uplift)
        let bucketPolicy = try request.policyFile.map(BucketPolicy.load)
        if bucketPolicy != nil, let upliftScorer {
            throw ReportError("--policy sets discounts by bucket when there is no uplift model, but \(upliftScorer.reference) is there and chooses them; "
                + "drop --policy, or name the models explicitly")
        }
        var warnings: [String] = []
        if let upliftScorer, let fitted = upliftScorer.run.parameters["churn_model"], fitted != scorer.reference {
            warnings.append("the uplift model \(upliftScorer.reference) was fitted with the churn probabilities of \(fitted), not of \(scorer.reference): "
                + "retrain it (strata train --model uplift --features-of \(scorer.reference)) for offers that match this model")
        }
        progress?("finding the users whose membership expires from \(ValueText.date(request.asOfDay, style: .iso))")
        let population = try Population(store: store, asOfDay: request.asOfDay)
        guard let latest = population.latestTransactionDay else {
            throw ReportError("no transaction before \(ValueText.date(request.asOfDay, style: .iso)): there is no data to report on as of that day "
                + "(the store's data: strata tables --db \(request.storePath))")
        }
        guard population.count > 0 else {
            throw ReportError("no membership expires in the \(Population.windowDays) days from \(ValueText.date(request.asOfDay, style: .iso)) "
                + "(the latest transaction before it is of \(ValueText.date(latest, style: .iso))): choose an as-of inside the data")
        }
        let cutoffs = Array(repeating: request.asOfDay, count: population.count)
        progress?("scoring \(population.count) users with \(scorer.reference)")
        let dataset = try Predictor.features(store: store, lineage: lineage, entities: population.entities, cutoffs: cutoffs, encoding: scorer.categoryEncoding)
            .aligned(to: scorer.featureNames, categoryNames: scorer.categoryNames)
        let probabilities = scorer.probabilities(dataset)
        let rowsAll = Array(0..<population.count)
        progress?("explaining \(population.count) users")
        let reasons = scorer.reasons(dataset, rows: rowsAll)
        let buckets = probabilities.map(request.thresholds.bucket)

        // Offers: from the uplift model, or the bucket policy.
        var options: [OfferOptions] = []
        var chosen: [Int] = []
        var policyText: String
        var valueByDiscount: [(discount: Int, value: Double)] = []
        if let upliftScorer {
            guard let upliftLineage = upliftScorer.lineage else { throw ReportError("uplift model \(upliftScorer.reference) has no feature lineage") }
            progress?("estimating renewal under each discount with \(upliftScorer.reference)")
            let base = try Predictor.features(store: store, lineage: upliftLineage, entities: population.entities, cutoffs: cutoffs,
                                              encoding: upliftScorer.categoryEncoding)
            var upliftData = base
            upliftData.featureNames.append(UpliftTrainer.treatmentColumn)
            upliftData.features.append(Array(repeating: 0, count: population.count))
            upliftData.categorical.append(false)
            upliftData.categoryNames.append([])
            upliftData = try upliftData.aligned(to: upliftScorer.featureNames, categoryNames: upliftScorer.categoryNames)
            let discounts = upliftDiscounts(upliftScorer)
            // p(renew | d) = 1 − c·(1 − s(d)): c from the churn model that scored the user, s from the uplift model.
            var renewal = UpliftTrainer.renewalByDiscount(upliftScorer.artifact, dataset: upliftData, churn: probabilities, rows: rowsAll, discounts: discounts)
            // A model that ranks held-out offers no better than chance (Qini <= 0) says nothing about who responds:
            // use its average saved share per discount for everyone, so that offers go by churn risk and price.
            let heldOutQini = upliftScorer.run.uplift?.qini ?? 0
            if heldOutQini <= 0 {
                for level in discounts.indices {
                    let shares = rowsAll.map { row in probabilities[row] > 1e-9 ? (renewal[level][row] - (1 - probabilities[row])) / probabilities[row] : 0 }
                    let mean = shares.reduce(0, +) / Double(max(1, shares.count))
                    renewal[level] = rowsAll.map { 1 - probabilities[$0] * (1 - mean) }
                }
                warnings.append("the uplift model \(upliftScorer.reference) ranks held-out offers no better than chance (Qini \(String(format: "%.4f", heldOutQini))): "
                    + "offers use its average effect per discount, by churn risk and price; more campaign data would let it target")
            }
            options = rowsAll.map { row in OfferOptions(discounts: discounts, renewal: discounts.indices.map { renewal[$0][row] }, price: population.listPrices[row]) }
            guard request.objective == .revenue || request.budget != nil else {
                throw ReportError("--objective retention needs --budget: without a cap, the most renewals come from the largest discount to everyone")
            }
            chosen = DiscountOptimizer.choose(options, budget: request.budget, objective: request.objective)
            policyText = (request.objective == .revenue ? "the discount of the largest expected net revenue per user" : "the most expected renewals")
                + ", from the uplift model \(upliftScorer.reference)"
                + (request.budget.map { " within a budget of \(Charts.number($0)) in expected discounts (marginal value per unit of cost)" } ?? "")
            valueByDiscount = discounts.indices.map { level in (discounts[level], options.reduce(0) { $0 + $1.value(level) }) }
        } else {
            guard request.budget == nil, request.objective == .revenue else {
                throw ReportError("--budget and --objective need an uplift model (strata train --model uplift on a campaign table); "
                    + "without one the bucket policy chooses the offers")
            }
            let policy = bucketPolicy ?? .standard
            policyText = "no uplift model in the store (train one on campaign data: strata train --model uplift): \(policy.source)"
        }

        let entities = try store.loadEntities()
        var rows: [ReportRow] = []
        rows.reserveCapacity(population.count)
        var revenueSaved = 0.0
        var spend = 0.0
        for row in rowsAll {
            var values: [String: Double] = [:]
            for (index, name) in dataset.featureNames.enumerated() { values[name] = dataset.features[index][row] }
            let discount: Int
            var expectedValue: Double?
            var expectedCost: Double?
            if !options.isEmpty {
                discount = options[row].discounts[chosen[row]]
                expectedValue = options[row].value(chosen[row])
                expectedCost = options[row].cost(chosen[row])
                revenueSaved += expectedValue!
                spend += expectedCost!
            } else {
                discount = (bucketPolicy ?? .standard).discounts[buckets[row]] ?? 0
            }
            let action: String
            if discount > 0 {
                action = "offer \(discount)% off"
            } else if options.isEmpty {
                action = "no offer (bucket policy)"
            } else {
                action = buckets[row] == "C" ? "no offer: likely to renew" : "no offer: no discount pays for itself"
            }
            rows.append(ReportRow(
                msno: entities.string(Int(population.entities[row])), expiryDay: population.expiryDays[row], probability: probabilities[row],
                bucket: buckets[row], reasons: reasons[row].map { ReasonText.phrase($0, values: values) }, reasonFeatures: reasons[row].map(\.feature),
                discount: discount, action: action, expectedValue: expectedValue, expectedCost: expectedCost, price: population.listPrices[row],
                city: population.cities[row], paymentMethod: population.paymentMethods[row], planDays: population.planDays[row]))
        }
        // Riskiest first; ties by msno, so the same inputs give the same file.
        let order = rows.indices.sorted { rows[$0].probability != rows[$1].probability ? rows[$0].probability > rows[$1].probability : rows[$0].msno < rows[$1].msno }
        var counts = ["A": 0, "B": 0, "C": 0]
        for bucket in buckets { counts[bucket, default: 0] += 1 }
        let run = scorer.run
        let upliftRun = upliftScorer?.run
        var report = WeeklyReport(
            asOfDay: request.asOfDay, inputVersion: store.version, fingerprint: "", model: scorer.reference, modelMetrics: run.test,
            upliftModel: upliftScorer?.reference, uplift: upliftRun?.uplift, policy: policyText, budget: request.budget,
            rows: order.map { rows[$0] }, bucketCounts: counts, expectedChurners: probabilities.reduce(0, +),
            revenueAtRisk: rowsAll.reduce(0) { $0 + probabilities[$1] * population.listPrices[$1] }, revenueSaved: revenueSaved, discountSpend: spend,
            latestTransactionDay: latest, latestLogDay: try latestDay(store: store, table: "user_logs", before: request.asOfDay),
            valueByDiscount: valueByDiscount, simulation: nil, history: [], warnings: warnings)
        if let truthFile = request.truthFile {
            progress?("simulating the policies against \(truthFile)")
            report.simulation = try simulate(report: report, options: options.isEmpty ? nil : order.map { options[$0] }, store: store,
                                             truth: try CampaignTruth.read(truthFile), budgetFor: request.budget)
        }
        report.fingerprint = try fingerprint(store: store, request: request)
        // The same inputs as a recorded week: name the version it was computed from, so the files are the same.
        let entries = try ReportStore.entries(store: store)
        if let recorded = entries.first(where: { $0.asOf == report.asOfText && $0.fingerprint == report.fingerprint }) {
            report.inputVersion = recorded.inputVersion
        }
        // The weeks before this one that were known when its inputs were: the same inputs draw the same trend.
        report.history = entries.filter { $0.asOf < report.asOfText && $0.inputVersion <= report.inputVersion }
        if report.latestLogDay == nil {
            report.warnings.append("no listening data in the two months before \(report.asOfText): the store's data may end before it, "
                + "so every user looks inactive (strata tables --db \(request.storePath))")
        }
        return report
    }

    /// `uplift` as given, or the latest version of a model named `uplift`; nil when neither exists.
    static func upliftModel(store: Store, reference: String?) throws -> ModelScorer? {
        if let reference {
            let scorer = try ModelScorer(store: store, reference: reference)
            guard scorer.run.uplift != nil, scorer.featureNames.last == UpliftTrainer.treatmentColumn else {
                throw ReportError("model \(scorer.reference) is not an uplift model (train one with strata train --model uplift)")
            }
            return scorer
        }
        let catalog = try store.manifest.section(ModelCatalog.self)
        guard catalog.models["uplift"]?.isEmpty == false else { return nil }
        return try upliftModel(store: store, reference: "uplift")
    }

    /// The discounts the uplift model was evaluated on (0 first); its campaigns' arms.
    static func upliftDiscounts(_ scorer: ModelScorer) -> [Int] {
        let arms = scorer.run.uplift?.arms.map(\.discountPct) ?? []
        return [0] + arms.filter { $0 > 0 }.sorted()
    }

    /// The latest day of `table`'s time column in the two calendar months up to `day` (exclusive): data
    /// freshness, read from those months' partitions only. Nil when the table is absent or has nothing there.
    static func latestDay(store: Store, table: String, before day: Int64) throws -> Int64? {
        guard let manifest = store.manifest.tables[table], let column = manifest.partitionColumn else { return nil }
        let (year, month, _) = Dates.civil(dayNumber: Int(day))
        let from = Int64(Dates.daysFromCivil(year: month == 1 ? year - 1 : year, month: month == 1 ? 12 : month - 1, day: 1))
        let scan = try TableScan(store: store, table: table, columns: [column], dayRange: from...(day - 1))
        var latest: Int64?
        while let batch = try scan.next() {
            if case .integers(let values) = batch.columns[0].values {
                for value in values where value < day { latest = max(latest ?? value, value) }
            }
        }
        return latest
    }

    /// What the report's content depends on: the data, models and runs of the store (not its report
    /// records) and the request. The same fingerprint means the same report.
    static func fingerprint(store: Store, request: ReportRequest) throws -> String {
        var sections = store.manifest.sections
        sections[ReportLog.key] = nil
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var bytes = Array(try encoder.encode(store.manifest.tables))
        bytes += Array(try encoder.encode(sections))
        bytes += Array(try encoder.encode(store.manifest.entities))
        var truthBytes: [UInt8] = []
        if let truth = request.truthFile { truthBytes = (try? FileSystem.readFile(truth)) ?? [] }
        let policy = try request.policyFile.map { try FileSystem.readFile($0) } ?? []
        bytes += Array("v\(methodVersion)|\(request.asOfDay)|\(request.model)|\(request.uplift ?? "-")|\(request.budget.map { String($0) } ?? "-")|\(request.objective.rawValue)|\(request.thresholds.a)|\(request.thresholds.b)".utf8)
        bytes += policy + truthBytes
        return String(format: "%08x%08x", Checksum.crc32(bytes), Checksum.crc32(bytes.reversed()))
    }

    /// Churn and spend of the chosen policy, no offers, and one discount to every B user, on the users
    /// whose no-offer outcome is known (their label for the month of their expiry, from campaign-free
    /// months), with the truth's chance that each discount saves a would-be churner.
    static func simulate(report: WeeklyReport, options: [OfferOptions]?, store: Store, truth: CampaignTruth, budgetFor budget: Double?) throws -> Simulation {
        guard store.manifest.tables["labels"] != nil else {
            throw ReportError("--truth needs the labels table: a user's outcome without an offer is their label for the month of their expiry")
        }
        let columns = try TableScan(store: store, table: "labels", columns: ["msno", "cutoff_date", "is_churn"]).load()
        guard case .integers(let labelEntities) = columns[0].values, case .integers(let labelCutoffs) = columns[1].values,
              case .integers(let churnValues) = columns[2].values else { throw ReportError("the labels table does not have the KKBox label columns") }
        let entities = try store.loadEntities()
        var labelled: [String: Int64] = [:]
        for index in labelEntities.indices where !columns[2].isNull(index) {
            labelled[entities.string(Int(labelEntities[index])) + "|" + String(labelCutoffs[index])] = churnValues[index]
        }
        // Labels of months with offers are outcomes with offers: no truth of what happens without one.
        if store.manifest.tables["campaigns"] != nil, let first = report.rows.map(\.expiryDay).min(), let last = report.rows.map(\.expiryDay).max() {
            let (year, month, _) = Dates.civil(dayNumber: Int(first))
            let from = Int64(Dates.daysFromCivil(year: year, month: month, day: 1))
            let offers = try TableScan(store: store, table: "campaigns", columns: ["offer_date"], dayRange: from...last).load()
            if let column = offers.first, column.count > 0 {
                throw ReportError("--truth: the campaigns table has \(column.count) offers in the months of this week's expiries, so their labels are not "
                    + "outcomes without an offer; simulate as of a month without campaigns (generate leaves the last --campaign-free-months without)")
            }
        }
        let uncovered = report.rows.filter { truth.savedBy[$0.msno] == nil }.count
        guard uncovered == 0 else {
            throw ReportError("--truth covers \(report.rows.count - uncovered) of this week's \(report.rows.count) users: it is not the truth of this store's data "
                + "(use the truth/campaign_response.csv that strata generate wrote with these CSVs)")
        }
        var known: [Int] = []
        var churns: [Double] = []
        for (index, row) in report.rows.enumerated() {
            let (year, month, _) = Dates.civil(dayNumber: Int(row.expiryDay))
            let cutoff = Dates.daysFromCivil(year: year, month: month, day: 1)
            guard let churn = labelled[row.msno + "|" + String(cutoff)] else { continue }
            known.append(index)
            churns.append(Double(churn))
        }
        guard !known.isEmpty else {
            throw ReportError("--truth: none of this week's users has a label for the month of their expiry, so no policy can be scored (report as of a labelled month)")
        }
        func outcome(_ name: String, _ discount: (Int) -> Int) -> PolicyOutcome {
            var churned = 0.0, spend = 0.0, revenue = 0.0, offers = 0
            for (position, index) in known.enumerated() {
                let row = report.rows[index]
                let d = discount(index)
                if d > 0 { offers += 1 }
                let churnProbability = churns[position] * (1 - truth.saved(row.msno, discount: d))
                churned += churnProbability
                spend += (1 - churnProbability) * row.price * Double(d) / 100
                revenue += (1 - churnProbability) * row.price * (1 - Double(d) / 100)
            }
            return PolicyOutcome(policy: name, offers: offers, churnPct: 100 * churned / Double(known.count), discountSpend: spend, netRevenue: revenue)
        }
        var outcomes = [outcome("no offers") { _ in 0 }]
        for d in [10, 20, 30] { outcomes.append(outcome("\(d)% to every B user") { report.rows[$0].bucket == "B" ? d : 0 }) }
        outcomes.append(outcome("chosen: " + (report.upliftModel.map { "uplift \($0)" } ?? "bucket policy") + (budget.map { ", budget \(Charts.number($0))" } ?? "")) {
            report.rows[$0].discount
        })
        if let options {
            // The policy with the most renewals for no more money than a blanket offer actually gives: its
            // budget (in expected discounts) is set by bisection so that its spend under the truth does not
            // exceed the blanket's. The truth sets only how much may be spent, never who gets what.
            func atMost(_ cap: Double, _ options: [OfferOptions], _ name: String) -> PolicyOutcome {
                var (low, high) = (0.0, max(1.0, cap * 4))
                var best = outcome(name) { _ in 0 }
                for _ in 0..<30 {
                    let budget = (low + high) / 2
                    let limited = DiscountOptimizer.choose(options, budget: budget, objective: .retention)
                    let result = outcome(name) { options[$0].discounts[limited[$0]] }
                    if result.discountSpend <= cap { (low, best) = (budget, result) } else { high = budget }
                }
                return best
            }
            // For scale: the same rule with the truth in place of the uplift model (what a perfect one would reach).
            let perfect = report.rows.indices.map { index in
                OfferOptions(discounts: options[index].discounts, renewal: options[index].discounts.map { d in
                    1 - report.rows[index].probability * (1 - truth.saved(report.rows[index].msno, discount: d))
                }, price: options[index].price)
            }
            let caps = outcomes[1...3].map(\.discountSpend)
            for (d, cap) in zip([10, 20, 30], caps) { outcomes.append(atMost(cap, options, "uplift, most renewals for at most the \(d)%-to-B spend")) }
            for (d, cap) in zip([10, 20, 30], caps) { outcomes.append(atMost(cap, perfect, "reference: a perfect uplift model, at most the \(d)%-to-B spend")) }
        }
        return Simulation(users: known.count, outcomes: outcomes)
    }
}
