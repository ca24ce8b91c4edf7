import Foundation
import Yams

/// The expected worth of an offer to one user, from their renewal probability under each discount:
/// value(d) = p(d)·price·(1 − d) − p(0)·price (what the renewal brings, net of the discount, beyond what
/// it would have brought with no offer); cost(d) = p(d)·price·d (the discount actually given).
public struct OfferOptions: Sendable {
    /// Discounts in percent, the first 0.
    public var discounts: [Int]
    /// Per discount: the user's renewal probability.
    public var renewal: [Double]
    public var price: Double

    public func value(_ level: Int) -> Double {
        renewal[level] * price * (1 - Double(discounts[level]) / 100) - renewal[0] * price
    }

    public func cost(_ level: Int) -> Double { renewal[level] * price * Double(discounts[level]) / 100 }

    /// What an offer at `level` is worth under `objective`: net revenue (`value`), or renewals added.
    public func gain(_ level: Int, _ objective: OfferObjective) -> Double {
        objective == .revenue ? value(level) : renewal[level] - renewal[0]
    }
}

/// What the offers maximise: expected net revenue (a discount must pay for itself), or expected renewals
/// (fewest churners for the money, with a budget).
public enum OfferObjective: String, Sendable, CaseIterable, Codable {
    case revenue, retention
}

public enum DiscountOptimizer {
    /// Per user, the index of the discount to offer. Without a budget each user gets the discount of the
    /// largest expected value (none when no offer pays; ties to the smaller discount). With `budget` (a cap
    /// on the total expected discount given) the choice is a multiple-choice knapsack solved greedily by
    /// marginal value per unit of cost: each user's options on the upper convex hull of (cost, value),
    /// every step between them ranked by Δvalue/Δcost, taken in that order while the budget lasts (a user
    /// whose next step does not fit takes no further step).
    ///
    /// With `.retention` the gain is renewals added instead of revenue: the most renewals a budget buys
    /// (without a budget, every user would get the discount of the most renewals).
    public static func choose(_ users: [OfferOptions], budget: Double?, objective: OfferObjective = .revenue) -> [Int] {
        guard let budget else {
            return users.map { user in
                var best = 0
                for level in user.discounts.indices.dropFirst() where user.gain(level, objective) > user.gain(best, objective) + 1e-12 { best = level }
                return best
            }
        }
        struct Step { var user: Int; var from: Int; var to: Int; var cost: Double; var value: Double }
        var steps: [Step] = []
        for (index, user) in users.enumerated() {
            var current = 0
            while true {
                var next: Int?
                var bestSlope = 0.0
                for level in user.discounts.indices where level != current {
                    let deltaValue = user.gain(level, objective) - user.gain(current, objective)
                    let deltaCost = user.cost(level) - user.cost(current)
                    guard deltaValue > 1e-12 else { continue }
                    // More value for no more cost: always worth it.
                    let slope = deltaCost <= 0 ? Double.infinity : deltaValue / deltaCost
                    if slope > bestSlope || (slope == bestSlope && next.map { user.cost(level) < user.cost($0) } ?? true) {
                        bestSlope = slope
                        next = level
                    }
                }
                guard let next else { break }
                steps.append(Step(user: index, from: current, to: next, cost: user.cost(next) - user.cost(current),
                                  value: user.gain(next, objective) - user.gain(current, objective)))
                current = next
            }
        }
        steps.sort { a, b in
            let (ra, rb) = (a.cost <= 0 ? Double.infinity : a.value / a.cost, b.cost <= 0 ? Double.infinity : b.value / b.cost)
            return ra != rb ? ra > rb : (a.user, a.from) < (b.user, b.from)
        }
        var chosen = [Int](repeating: 0, count: users.count)
        var closed = [Bool](repeating: false, count: users.count)
        var spent = 0.0
        for step in steps where !closed[step.user] && chosen[step.user] == step.from {
            if spent + step.cost <= budget + 1e-9 {
                chosen[step.user] = step.to
                spent += max(0, step.cost)
            } else {
                closed[step.user] = true
            }
        }
        return chosen
    }
}

/// Discounts by bucket, for stores without campaign data (no uplift model): a documented rule, read
/// from a YAML file (`discounts: {A: 0, B: 20, C: 0}`), and said to be one in the report.
public struct BucketPolicy: Sendable, Equatable {
    public var discounts: [String: Int]
    public var source: String

    /// The rule when no file is given: offer 20% to users on the fence (B) only — A will churn anyway and
    /// C renews anyway, so an untargeted discount to them is money given away.
    public static let standard = BucketPolicy(discounts: ["A": 0, "B": 20, "C": 0], source: "the built-in bucket policy (A 0%, B 20%, C 0%)")

    public static func load(_ path: String) throws -> BucketPolicy {
        let root = try ConfigFile.mapping(path, what: "policy file", known: ["discounts"]) { ReportError($0) }
        guard let table = root["discounts"] as? [String: Any] else {
            throw ReportError("policy file \(path) must hold exactly one key, discounts, mapping buckets A, B and C to a percent, e.g. discounts: {A: 0, B: 20, C: 0}")
        }
        var discounts: [String: Int] = [:]
        for (bucket, value) in table {
            guard ["A", "B", "C"].contains(bucket), let percent = value as? Int, (0...100).contains(percent) else {
                throw ReportError("policy file \(path): discounts.\(bucket) must be one of the buckets A, B, C with a percent in 0...100")
            }
            discounts[bucket] = percent
        }
        for bucket in ["A", "B", "C"] where discounts[bucket] == nil { discounts[bucket] = 0 }
        return BucketPolicy(discounts: discounts, source: "the bucket policy of \(path) (A \(discounts["A"]!)%, B \(discounts["B"]!)%, C \(discounts["C"]!)%)")
    }
}
