import StrataFormat

/// How the rows of a training set are divided into the rows that fit the model, the rows that choose the
/// early-stopping round (validation), and the rows that measure it (test), which nothing else sees, so
/// the reported metrics are not flattered by a choice made on them.
public struct SplitPlan: Sendable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// By cutoff: later months test, as the model will be used (default with two or more cutoffs).
        case time
        /// By user, at random: for one cutoff (Kaggle's train.csv), where time has nothing to split.
        case random
    }

    public var kind: Kind?
    /// First cutoff (day number) of the validation rows (time split, with early stopping).
    public var validFrom: Int64?
    /// First cutoff (day number) of the test rows (time split).
    public var testFrom: Int64?
    /// Shares of the users (random split): test, and validation of what remains.
    public var testFraction = 0.2
    public var validFraction = 0.2
    /// Whether the fractions were asked for: one that the split cannot use is refused, not ignored.
    public var fractionsGiven = (test: false, valid: false)
    public var seed: UInt64 = 42

    public init() {}
}

/// The rows of each part, and how they were chosen.
public struct SplitRows: Sendable {
    public var train: [Int]
    public var valid: [Int]
    public var test: [Int]
    public var kind: SplitPlan.Kind
    /// The first validation and test cutoff (time split), YYYY-MM-DD.
    public var validFrom: String?
    public var testFrom: String?
    /// One line: what went where.
    public var description: String
}

extension Dataset {
    /// Divides the rows. `needsValidation`: early stopping is on, so a validation part is carved out of
    /// what does not test. A time split tests the last cutoff month (or from `testFrom`) and validates the
    /// month before it (or from `validFrom`); with a single earlier month, a random share of its users
    /// validates. A random split keeps every row of a user on one side and keeps the churn rate of each
    /// side close to the whole's (stratified by the user's label).
    public func split(_ plan: SplitPlan, needsValidation: Bool) throws -> SplitRows {
        let cutoffMonths = Array(Set(cutoffs.map { Int64(Dates.firstDayOfMonth(dayNumber: Int($0))) })).sorted()
        guard !cutoffMonths.isEmpty else { throw TrainError("the training set has no labelled rows") }
        let kind = plan.kind ?? (cutoffMonths.count >= 2 || plan.testFrom != nil || plan.validFrom != nil ? .time : .random)
        func day(_ value: Int64) -> String { ValueText.date(value, style: .iso) }
        if kind == .time && plan.fractionsGiven.test {
            throw TrainError("--test-fraction is for --split random; this training set has \(cutoffMonths.count) cutoff months, so it splits by time: "
                + "the test rows are chosen with --test-from (or pass --split random)")
        }
        if plan.fractionsGiven.valid && !needsValidation {
            throw TrainError("--valid-fraction sets aside rows that choose the early-stopping round: add --early-stopping N, or leave it out")
        }
        switch kind {
        case .random:
            guard plan.testFrom == nil, plan.validFrom == nil else { throw TrainError("--valid-from and --test-from belong to --split time") }
            let (rest, test) = try randomSplit(rows: Array(0..<rowCount), fraction: plan.testFraction, seed: plan.seed, what: "test")
            var train = rest
            var valid: [Int] = []
            if needsValidation { (train, valid) = try randomSplit(rows: rest, fraction: plan.validFraction, seed: plan.seed &+ 1, what: "validation") }
            let description = "random split by user, stratified by label (seed \(plan.seed)): test \(percent(plan.testFraction)) of users"
                + (needsValidation ? ", validation \(percent(plan.validFraction)) of the rest" : "")
            return SplitRows(train: train, valid: valid, test: test, kind: .random, validFrom: nil, testFrom: nil, description: description)
        case .time:
            // Without early stopping, --valid-from alone marks the held-out rows, as it always has.
            let testFrom = plan.testFrom ?? (needsValidation ? nil : plan.validFrom) ?? cutoffMonths.last!
            var train = (0..<rowCount).filter { cutoffs[$0] < testFrom }
            let test = (0..<rowCount).filter { cutoffs[$0] >= testFrom }
            guard !train.isEmpty else {
                throw TrainError("no rows with a cutoff before \(day(testFrom)) to train on"
                    + (cutoffMonths.count == 1 ? " (the training set has one cutoff: use --split random)" : ""))
            }
            guard !test.isEmpty else {
                throw TrainError("no rows with a cutoff from \(day(testFrom)) on to test with (the cutoff months are \(cutoffMonths.map(day).joined(separator: ", ")))")
            }
            var valid: [Int] = []
            var validFrom: Int64?
            var description = "time split: train before \(day(testFrom)), test from it"
            if needsValidation {
                let earlier = cutoffMonths.filter { $0 < testFrom }
                if let from = plan.validFrom ?? (earlier.count >= 2 ? earlier.last : nil) {
                    guard from < testFrom else { throw TrainError("--valid-from \(day(from)) must come before the test rows (\(day(testFrom)))") }
                    valid = train.filter { cutoffs[$0] >= from }
                    train = train.filter { cutoffs[$0] < from }
                    validFrom = from
                    guard !train.isEmpty, !valid.isEmpty else {
                        throw TrainError("--valid-from \(day(from)) leaves no rows to \(train.isEmpty ? "train on" : "validate with") before the test rows")
                    }
                    description = "time split: train before \(day(from)), validate from it, test from \(day(testFrom))"
                } else {
                    (train, valid) = try randomSplit(rows: train, fraction: plan.validFraction, seed: plan.seed, what: "validation")
                    description = "time split: train before \(day(testFrom)) (validation: \(percent(plan.validFraction)) of those users at random), test from it"
                }
            }
            return SplitRows(train: train, valid: valid, test: test, kind: .time, validFrom: validFrom.map(day), testFrom: day(testFrom), description: description)
        }
    }

    private func percent(_ fraction: Double) -> String { "\(FloatText.python((fraction * 1000).rounded() / 10).replacingOccurrences(of: ".0", with: ""))%" }

    /// Takes about `fraction` of the users of `rows` (all their rows), churners and others separately so
    /// both sides keep the churn rate; the rest stays. Deterministic for a seed.
    func randomSplit(rows: [Int], fraction: Double, seed: UInt64, what: String) throws -> (rest: [Int], taken: [Int]) {
        guard fraction > 0, fraction < 1 else { throw TrainError("the \(what) fraction must be between 0 and 1 (exclusive), got \(fraction)") }
        // A user counts as a churner when any of their rows churned.
        var churned: [Int64: Bool] = [:]
        for row in rows { churned[entities[row], default: false] = churned[entities[row], default: false] || labels[row] == 1 }
        var generator = SplitMix(seed: seed)
        var taken = Set<Int64>()
        for stratum in [true, false] {
            var users = churned.filter { $0.value == stratum }.map(\.key).sorted()
            // Fisher-Yates with the training layer's own SplitMix64, so a seed gives the same split on every
            // machine and Swift version (the standard library's shuffle may change its algorithm).
            for index in stride(from: users.count - 1, to: 0, by: -1) { users.swapAt(index, generator.below(index + 1)) }
            taken.formUnion(users.prefix(Int((Double(users.count) * fraction).rounded())))
        }
        let takenRows = rows.filter { taken.contains(entities[$0]) }
        let rest = rows.filter { !taken.contains(entities[$0]) }
        guard !takenRows.isEmpty, !rest.isEmpty else {
            throw TrainError("\(churned.count) users are too few to set \(percent(fraction)) of them aside for \(what) with users on both sides; "
                + "use a larger --\(what == "test" ? "test" : "valid")-fraction or more data")
        }
        return (rest, takenRows)
    }
}
