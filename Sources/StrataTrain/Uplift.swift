import Foundation
import StrataFeatures
import StrataFormat
import StrataStorage

/// Options of `strata train --model uplift`.
public struct UpliftRequest: Sendable {
    /// The campaign table: msno, offer_date, discount_pct, renewed.
    public var campaignsTable = "campaigns"
    /// The churn model: its feature view describes the users at each offer (as of the offer day), and its
    /// probability is each user's chance to churn without an offer.
    public var featuresOf = "churn@production"
    public var parameters = GBDTParameters()
    /// First offer day (day number) of the held-out campaigns; default: the last month of offers.
    public var testFrom: Int?
    /// Register the model under this name as a new version.
    public var register: String?

    public init() {}
}

/// How well an uplift model ranks users by the effect of an offer, on held-out campaigns: per discount
/// against no offer, the Qini coefficient and the area under the uplift curve, both normalised the way
/// scikit-uplift's `qini_auc_score` and `uplift_auc_score` are (1 = the perfect ranking, 0 = random).
public struct UpliftEvaluation: Codable, Equatable, Sendable {
    public struct Arm: Codable, Equatable, Sendable {
        public var discountPct: Int
        public var treatedRows: Int
        public var controlRows: Int
        /// Observed renewal rate with this discount minus without an offer, on the held-out rows.
        public var observedUplift: Double
        /// Mean predicted uplift over the same rows.
        public var predictedUplift: Double
        public var qini: Double
        public var upliftAUC: Double
    }

    public var treatment: String
    public var outcome: String
    public var arms: [Arm]
    /// Every offered row against the control rows, each ranked by the predicted uplift of its own discount.
    public var qini: Double
    public var upliftAUC: Double
}

/// The uplift model of retention offers. An offer acts only on a user who would otherwise churn: with c
/// the user's churn probability without an offer (the churn model, trained on every label) and s(x, d) the
/// share of would-be churners a discount d saves, p(renew | x, d) = 1 − c(x)·(1 − s(x, d)). The trees learn
/// s from the offered rows of the campaigns (features of the churn model's view as of the offer day, plus
/// the discount), maximising the likelihood of "churned despite the offer" = c·(1 − s) with c as a fixed
/// offset — what the campaigns can tell, without asking them to relearn churn. The uplift of an offer is
/// then c·s(d). The model file holds those trees (output s); the control rows measure it (Qini).
public enum UpliftTrainer {
    public static let treatmentColumn = "discount_pct"
    public static let outcomeColumn = "renewed"

    public static func run(storePath: String, request: UpliftRequest, progress: ((String) -> Void)? = nil) throws -> TrainReport {
        let started = Date()
        if let name = request.register { try StoreNames.validate(name, what: "--register") }
        let writer = try StoreWriter(path: storePath, create: false)
        do {
            let store = try Store(path: storePath, version: writer.base.version)
            let campaigns = try CampaignRows(store: store, table: request.campaignsTable)
            let source = try ModelScorer(store: store, reference: request.featuresOf)
            guard var lineage = source.lineage else {
                throw TrainError("model \(source.reference) has no feature view lineage: the uplift model takes its features from the view a churn model was trained on")
            }
            progress?("computing features of \(campaigns.count) offers as of their offer days")
            var dataset = try Predictor.features(store: store, lineage: lineage, entities: campaigns.entities, cutoffs: campaigns.offerDays, encoding: [:])
            progress?("scoring the churn of \(campaigns.count) offered users with \(source.reference)")
            let churn = source.probabilities(try Predictor.features(store: store, lineage: lineage, entities: campaigns.entities, cutoffs: campaigns.offerDays,
                                                                    encoding: source.categoryEncoding).aligned(to: source.featureNames, categoryNames: source.categoryNames))
            dataset.featureNames.append(treatmentColumn)
            dataset.features.append(campaigns.discounts.map(Double.init))
            dataset.categorical.append(false)
            dataset.categoryNames.append([])
            // The label the trees fit: churned despite the offer.
            dataset.labels = campaigns.renewed.map { Double(1 - $0) }

            let yearMonth = { (day: Int64) -> Int in let (y, m, _) = Dates.civil(dayNumber: Int(day)); return y * 12 + m - 1 }
            let lastMonth = campaigns.offerDays.map(yearMonth).max()!
            let testFrom = request.testFrom.map(Int64.init) ?? Int64(Dates.daysFromCivil(year: lastMonth / 12, month: lastMonth % 12 + 1, day: 1))
            let offered = dataset.cutoffs.indices.filter { campaigns.discounts[$0] > 0 }
            let trainRows = offered.filter { dataset.cutoffs[$0] < testFrom }
            let testRows = dataset.cutoffs.indices.filter { dataset.cutoffs[$0] >= testFrom }
            let testFromText = ValueText.date(testFrom, style: .iso)
            guard !trainRows.isEmpty, testRows.contains(where: { campaigns.discounts[$0] > 0 }), testRows.contains(where: { campaigns.discounts[$0] == 0 }) else {
                throw TrainError("the campaigns split at \(testFromText) leaves \(trainRows.count) offers to train and \(testRows.count) rows to test (offered and control both needed): "
                    + "offers of at least two months are needed (or give --test-from inside their range)")
            }
            let churnedInTraining = trainRows.reduce(0) { $0 + Int(dataset.labels[$1]) }
            guard churnedInTraining > 0 else {
                throw TrainError("none of the \(trainRows.count) offered users before \(testFromText) churned: the campaigns cannot tell what an offer saves")
            }
            // Start from the share the campaigns show overall: 1 − (churn with an offer) / (churn predicted without).
            func initialShare(_ rows: [Int]) -> Double {
                let observed = rows.reduce(0.0) { $0 + dataset.labels[$1] }
                let expected = rows.reduce(0.0) { $0 + churn[$1] }
                return min(0.9, max(0.05, 1 - observed / max(expected, 1e-9)))
            }
            progress?("training the uplift model on \(trainRows.count) offers (held out: \(testRows.count) rows from \(testFromText))")
            let fitStarted = Date()
            let trainer = GBDTTrainer(parameters: request.parameters)
            let (model, _) = try trainer.train(dataset, trainRows: trainRows, validRows: [],
                                               objective: .savedShare(churnProbability: churn, initialShare: initialShare(trainRows)))
            let heldOut = ModelArtifact(kind: .gbdt, featureNames: dataset.featureNames, gbdt: model, logistic: nil)
            progress?("evaluating on held-out offers")
            let evaluation = evaluate(artifact: heldOut, dataset: dataset, churn: churn, discounts: campaigns.discounts, renewed: campaigns.renewed, rows: testRows)
            let renewal = renewalProbabilities(heldOut, dataset: dataset, churn: churn, rows: testRows, discounts: testRows.map { campaigns.discounts[$0] })
            let testMetrics = Metrics.compute(labels: testRows.map { Double(campaigns.renewed[$0]) }, probabilities: renewal)
            // Evaluated on the held-out month, the model kept is fitted again on every offer: the newest
            // campaigns are the most like the users it will score.
            progress?("fitting the uplift model on all \(offered.count) offers")
            let (final, _) = try trainer.train(dataset, trainRows: offered, validRows: [],
                                               objective: .savedShare(churnProbability: churn, initialShare: initialShare(offered)))
            let trainSeconds = -fitStarted.timeIntervalSinceNow
            let artifact = ModelArtifact(kind: .gbdt, featureNames: dataset.featureNames, gbdt: final, logistic: nil)

            lineage.labelsTable = request.campaignsTable
            lineage.labelsRowCount = campaigns.count
            lineage.storeVersion = store.version
            let p = request.parameters
            let parameters: [String: String] = [
                "model": "uplift", "learner": "saved-share", "treatment": treatmentColumn, "outcome": outcomeColumn, "churn_model": source.reference,
                "rounds": String(p.rounds), "learning_rate": String(p.learningRate), "num_leaves": String(p.numLeaves),
                "min_data_in_leaf": String(p.minDataInLeaf), "lambda_l2": String(p.lambdaL2), "feature_fraction": String(p.featureFraction),
                "bagging_fraction": String(p.baggingFraction), "bagging_freq": String(p.baggingFrequency), "seed": String(p.seed),
                "threads": String(p.threads), "split": "time",
            ]
            var record = RunRecord(
                id: "", createdAt: StoreWriter.timestamp(), model: .gbdt, trainingSet: request.campaignsTable, lineage: lineage,
                storeVersion: store.version, parameters: parameters, featureNames: dataset.featureNames,
                split: "time split: evaluated on held-out offers from \(testFromText), then refitted on all offers", validFrom: nil, testFrom: testFromText,
                trainRows: trainRows.count, validRows: 0, testRows: testRows.count, durationSeconds: 0, trainSeconds: trainSeconds,
                bestIteration: final.trees.count, test: testMetrics, validation: nil, perCutoff: [],
                importance: zip(dataset.featureNames, final.gainImportance).map { .init(feature: $0, value: $1) }.sorted { $0.value > $1.value })
            record.uplift = evaluation
            record.durationSeconds = -started.timeIntervalSinceNow
            let (saved, registered) = try TrainingRunner.save(record, artifact: artifact, writer: writer, storePath: storePath, register: request.register)
            let manifest = try writer.commit(operation: "train \(saved.id) (uplift) on \(request.campaignsTable)")
            return TrainReport(record: saved, registeredVersion: registered, committedVersion: manifest.version)
        } catch {
            writer.abort()
            throw error
        }
    }

    /// The saved share s(x, d) of `rows` with the discount feature set to `discount` percent (0 for no offer),
    /// made non-decreasing in d by the caller where several discounts are compared.
    public static func savedShares(_ artifact: ModelArtifact, dataset: Dataset, rows: [Int], discount: Int) -> [Double] {
        guard discount > 0 else { return Array(repeating: 0, count: rows.count) }
        var copy = dataset
        let treatment = copy.features.count - 1
        for row in rows { copy.features[treatment][row] = Double(discount) }
        return artifact.probabilities(copy, rows: rows)
    }

    /// Per discount of `discounts` (ascending, 0 first) and row: p(renew) = 1 − c·(1 − s), s non-decreasing in d.
    public static func renewalByDiscount(_ artifact: ModelArtifact, dataset: Dataset, churn: [Double], rows: [Int], discounts: [Int]) -> [[Double]] {
        var best = [Double](repeating: 0, count: rows.count)
        return discounts.map { discount in
            let shares = savedShares(artifact, dataset: dataset, rows: rows, discount: discount)
            return rows.indices.map { index in
                best[index] = max(best[index], shares[index])
                return 1 - churn[rows[index]] * (1 - best[index])
            }
        }
    }

    /// p(renew) of each of `rows` under its own discount.
    static func renewalProbabilities(_ artifact: ModelArtifact, dataset: Dataset, churn: [Double], rows: [Int], discounts: [Int]) -> [Double] {
        let levels = Array(Set(discounts + [0])).sorted()
        let table = renewalByDiscount(artifact, dataset: dataset, churn: churn, rows: rows, discounts: levels)
        return rows.indices.map { table[levels.firstIndex(of: discounts[$0])!][$0] }
    }

    /// Qini and uplift AUC per discount against no offer, on `rows`; the predicted uplift of a discount is
    /// c·s(d), the renewals it adds.
    static func evaluate(artifact: ModelArtifact, dataset: Dataset, churn: [Double], discounts: [Int], renewed: [Int], rows: [Int]) -> UpliftEvaluation {
        let arms = Array(Set(rows.map { discounts[$0] })).sorted()
        let levels = arms.contains(0) ? arms : [0] + arms
        let renewal = renewalByDiscount(artifact, dataset: dataset, churn: churn, rows: rows, discounts: levels)
        let control = renewal[0]
        var results: [UpliftEvaluation.Arm] = []
        var allUplift: [Double] = [], allOutcome: [Double] = [], allTreated: [Bool] = []
        for (level, discount) in levels.enumerated() where discount > 0 {
            let positions = rows.indices.filter { discounts[rows[$0]] == discount || discounts[rows[$0]] == 0 }
            let uplift = positions.map { renewal[level][$0] - control[$0] }
            let outcome = positions.map { Double(renewed[rows[$0]]) }
            let treated = positions.map { discounts[rows[$0]] == discount }
            let treatedRows = treated.filter { $0 }.count
            func rate(_ group: Bool) -> Double {
                let members = positions.indices.filter { treated[$0] == group }
                return members.isEmpty ? 0 : members.reduce(0) { $0 + outcome[$1] } / Double(members.count)
            }
            results.append(.init(
                discountPct: discount, treatedRows: treatedRows, controlRows: positions.count - treatedRows, observedUplift: rate(true) - rate(false),
                predictedUplift: uplift.reduce(0, +) / Double(max(1, uplift.count)),
                qini: UpliftCurves.qiniCoefficient(outcome: outcome, uplift: uplift, treated: treated),
                upliftAUC: UpliftCurves.upliftAUC(outcome: outcome, uplift: uplift, treated: treated)))
        }
        // Every row at once: an offered row ranked by the uplift of its own discount, a control row by the largest discount's.
        for (position, row) in rows.enumerated() {
            let level = discounts[row] == 0 ? levels.count - 1 : levels.firstIndex(of: discounts[row])!
            allUplift.append(renewal[level][position] - control[position])
            allOutcome.append(Double(renewed[row]))
            allTreated.append(discounts[row] > 0)
        }
        let both = allTreated.contains(true) && allTreated.contains(false)
        return UpliftEvaluation(
            treatment: treatmentColumn, outcome: outcomeColumn, arms: results,
            qini: both ? UpliftCurves.qiniCoefficient(outcome: allOutcome, uplift: allUplift, treated: allTreated) : 0,
            upliftAUC: both ? UpliftCurves.upliftAUC(outcome: allOutcome, uplift: allUplift, treated: allTreated) : 0)
    }
}

/// The campaign table read and checked: one offer per row.
struct CampaignRows {
    var entities: [Int64] = []
    var offerDays: [Int64] = []
    var discounts: [Int] = []
    var renewed: [Int] = []
    var count: Int { entities.count }

    init(store: Store, table: String) throws {
        let manifest: TableManifest
        do { manifest = try store.table(table) } catch {
            throw TrainError("no campaign table \(table): ingest campaigns.csv (strata generate writes one) or name yours with --campaigns")
        }
        let expected: [(String, [LogicalType])] = [("msno", [.entity]), ("offer_date", [.date]), ("discount_pct", [.int64]), ("renewed", [.int64])]
        for (name, types) in expected {
            guard let column = manifest.columns.first(where: { $0.name == name }), types.contains(column.type) else {
                throw TrainError("table \(table) is not a campaign table: it needs msno, offer_date (date), discount_pct and renewed (integers); "
                    + "it has \(manifest.columns.map(\.name).joined(separator: ", "))")
            }
        }
        let columns = try TableScan(store: store, table: table, columns: expected.map(\.0)).load()
        func integers(_ column: ColumnVector, _ name: String) throws -> [Int64] {
            guard column.nullCount == 0, case .integers(let values) = column.values else {
                throw TrainError("campaign table \(table) has rows without \(name): every offer needs msno, offer_date, discount_pct and renewed")
            }
            return values
        }
        entities = try integers(columns[0], "msno")
        offerDays = try integers(columns[1], "offer_date")
        discounts = try integers(columns[2], "discount_pct").map { value in
            guard (0...100).contains(value) else { throw TrainError("campaign table \(table): discount_pct \(value) is not a percentage in 0...100") }
            return Int(value)
        }
        renewed = try integers(columns[3], "renewed").map { value in
            guard value == 0 || value == 1 else { throw TrainError("campaign table \(table): renewed \(value) is not 0 or 1") }
            return Int(value)
        }
        guard !entities.isEmpty else { throw TrainError("campaign table \(table) is empty") }
        guard discounts.contains(0) else {
            throw TrainError("campaign table \(table) has no offer of 0% (the control group): without it the effect of a discount cannot be measured")
        }
    }
}

/// Qini and uplift curves of a ranking, and their normalised areas, as scikit-uplift defines them
/// (`qini_auc_score` with negative effects allowed, `uplift_auc_score`): points at each distinct score,
/// trapezoids, the random line from the origin to the curve's end, and the perfect ranking's area as 1.
public enum UpliftCurves {
    /// (rows, curve value) at each distinct score, highest first, starting at (0, 0).
    /// Qini: R_t(k) − R_c(k)·N_t(k)/N_c(k). Uplift: (R_t/N_t − R_c/N_c)·k.
    public static func curve(outcome: [Double], score: [Double], treated: [Bool], qini: Bool) -> [(x: Double, y: Double)] {
        let order = score.indices.sorted { score[$0] != score[$1] ? score[$0] > score[$1] : $0 > $1 }
        var points: [(x: Double, y: Double)] = [(0, 0)]
        var (treatedCount, controlCount, treatedOutcome, controlOutcome) = (0.0, 0.0, 0.0, 0.0)
        for (position, row) in order.enumerated() {
            if treated[row] { treatedCount += 1; treatedOutcome += outcome[row] } else { controlCount += 1; controlOutcome += outcome[row] }
            if position + 1 < order.count && score[order[position + 1]] == score[row] { continue }
            let k = Double(position + 1)
            let value: Double
            if qini {
                value = treatedOutcome - (controlCount > 0 ? controlOutcome * treatedCount / controlCount : 0)
            } else {
                let treatedRate = treatedCount > 0 ? treatedOutcome / treatedCount : 0
                let controlRate = controlCount > 0 ? controlOutcome / controlCount : 0
                value = (treatedRate - controlRate) * k
            }
            points.append((k, value))
        }
        return points
    }

    static func area(_ points: [(x: Double, y: Double)]) -> Double {
        var total = 0.0
        for index in 1..<max(1, points.count) { total += (points[index].x - points[index - 1].x) * (points[index].y + points[index - 1].y) / 2 }
        return total
    }

    static func normalised(outcome: [Double], uplift: [Double], treated: [Bool], qini: Bool) -> Double {
        guard !outcome.isEmpty else { return 0 }
        let actual = curve(outcome: outcome, score: uplift, treated: treated, qini: qini)
        let perfectScore: [Double]
        if qini {
            // Treated rows with outcome 1 first, control rows with outcome 1 last.
            perfectScore = outcome.indices.map { outcome[$0] * (treated[$0] ? 1 : -1) }
        } else {
            // Rows where outcome equals treatment first; then outcome 1 (when control responders outnumber
            // treated non-responders) or treated rows.
            let controlResponders = outcome.indices.filter { outcome[$0] == 1 && !treated[$0] }.count
            let treatedNonResponders = outcome.indices.filter { outcome[$0] == 0 && treated[$0] }.count
            perfectScore = outcome.indices.map { row in
                let t = treated[row] ? 1.0 : 0
                return 2 * (outcome[row] == t ? 1 : 0) + (controlResponders > treatedNonResponders ? outcome[row] : t)
            }
        }
        let perfect = curve(outcome: outcome, score: perfectScore, treated: treated, qini: qini)
        let end = perfect[perfect.count - 1]
        let baseline = end.x * end.y / 2
        let best = area(perfect) - baseline
        guard best != 0 else { return 0 }
        return (area(actual) - baseline) / best
    }

    public static func qiniCoefficient(outcome: [Double], uplift: [Double], treated: [Bool]) -> Double {
        normalised(outcome: outcome, uplift: uplift, treated: treated, qini: true)
    }

    public static func upliftAUC(outcome: [Double], uplift: [Double], treated: [Bool]) -> Double {
        normalised(outcome: outcome, uplift: uplift, treated: treated, qini: false)
    }
}
