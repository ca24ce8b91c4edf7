import Foundation
import StrataFormat
import StrataStorage

/// How a simulated user responds to a retention offer: the generator's hidden truth behind
/// campaigns.csv, written to `truth/campaign_response.csv` so that a policy can be scored against it.
///
/// An offer only matters to a user who would otherwise churn (the others renew anyway, and an offer
/// to them is money given away). Such a user is either unresponsive (no discount saves them) or has a
/// threshold: an offer of at least that many percent saves them with probability `savedRate`. Who is
/// responsive, and from which discount, follows things a model can see — the plan's price, auto-renew,
/// the payment method, age — plus noise.
public struct CampaignResponse: Sendable, Equatable {
    /// The discounts of the campaigns, in percent.
    public static let discounts = [0, 10, 20, 30]
    /// The chance that an offer at or above a responsive user's threshold saves them.
    public static let savedRate = 0.9

    /// The smallest discount (percent) that can save the user; nil: none can.
    public var thresholdPercent: Int?

    /// Probability that an offer of `discount` percent makes a would-be churner renew.
    public func savedProbability(discount: Int) -> Double {
        guard let thresholdPercent, discount > 0, discount >= thresholdPercent else { return 0 }
        return Self.savedRate
    }

    static func draw(listPrice: Int, autoRenew: Bool, paymentMethod: Int, age: Int, random: inout Xoshiro256) -> CampaignResponse {
        let expensive = listPrice >= 149
        let young = (16...25).contains(age)
        // Price-sensitive users respond: those on dear plans, paying by hand, young, or not on the usual method.
        let score = -0.4 + (expensive ? 1.0 : 0) + (autoRenew ? 0 : 0.9) + (paymentMethod == 41 ? -0.6 : 0) + (young ? 0.6 : 0) + 0.5 * random.normal()
        let responsive = random.uniform() < 1 / (1 + exp(-score))
        let draw = random.uniform()
        guard responsive else { return CampaignResponse(thresholdPercent: nil) }
        // Dear plans feel 10% more; manual payers are reached by less.
        let shift = (expensive ? 0.25 : 0) + (autoRenew ? 0 : 0.15)
        return CampaignResponse(thresholdPercent: draw < 0.25 + shift ? 10 : draw < 0.65 + shift / 2 ? 20 : 30)
    }
}

extension DatasetGenerator {
    /// campaigns.csv (offer date order, then user) and truth/campaign_response.csv (every user).
    func writeCampaigns(_ campaigns: [(offer: Int, user: Int, discount: Int, renewed: Bool)], responses: [CampaignResponse], ids: [UInt8],
                        directory: String) throws {
        let sorted = campaigns.sorted { ($0.offer, $0.user) < ($1.offer, $1.user) }
        let file = try CSVOutput(path: directory + "/campaigns.csv", header: KKBoxTables.campaigns.header)
        for campaign in sorted {
            file.append(ids: ids, user: campaign.user)
            file.comma()
            file.append(Dates.yyyymmdd(dayNumber: campaign.offer))
            file.comma()
            file.append(campaign.discount)
            file.comma()
            file.append(campaign.renewed ? 1 : 0)
            file.newline()
        }
        try file.finish()
        // Kept apart from the CSVs to ingest: it is what no real dataset has.
        try FileSystem.createDirectories(directory + "/truth")
        let truth = try CSVOutput(path: directory + "/truth/campaign_response.csv", header: CampaignTruth.header)
        for (user, response) in responses.enumerated() {
            truth.append(ids: ids, user: user)
            for discount in CampaignResponse.discounts.dropFirst() {
                truth.comma()
                truth.append(text: response.savedProbability(discount: discount) > 0 ? String(response.savedProbability(discount: discount)) : "0")
            }
            truth.newline()
        }
        try truth.finish()
    }
}

/// The generator's truth file read back: per msno, the probability that each discount saves a would-be churner.
public struct CampaignTruth: Sendable {
    public static let header = ["msno", "saved_by_10", "saved_by_20", "saved_by_30"]
    /// msno → saved probability at 10, 20, 30%.
    public var savedBy: [String: [Double]]

    public static func read(_ path: String) throws -> CampaignTruth {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw IngestError.malformed(file: path, line: nil, column: nil, reason: "cannot read the truth file: \(error.localizedDescription)")
        }
        var lines = text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }).makeIterator()
        guard let first = lines.next(), first.split(separator: ",").map(String.init) == header else {
            throw IngestError.malformed(file: path, line: 1, column: nil, reason: "not a campaign truth file: the header must be \(header.joined(separator: ","))")
        }
        var savedBy: [String: [Double]] = [:]
        var number = 1
        while let line = lines.next() {
            number += 1
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            let values = fields.dropFirst().compactMap { Double($0) }
            guard fields.count == 4, values.count == 3, values.allSatisfy({ (0...1).contains($0) }) else {
                throw IngestError.malformed(file: path, line: number, column: nil, reason: "expected msno and three probabilities in 0...1")
            }
            guard savedBy.updateValue(values, forKey: String(fields[0])) == nil else {
                throw IngestError.malformed(file: path, line: number, column: nil, reason: "msno \(fields[0].prefix(44)) is listed twice")
            }
        }
        guard !savedBy.isEmpty else { throw IngestError.malformed(file: path, line: nil, column: nil, reason: "the truth file lists no user") }
        return CampaignTruth(savedBy: savedBy)
    }

    /// Probability that `discount` percent saves `msno` if they would churn (0 for unknown users and 0%).
    public func saved(_ msno: String, discount: Int) -> Double {
        guard discount > 0, let values = savedBy[msno] else { return 0 }
        return discount >= 30 ? values[2] : discount >= 20 ? values[1] : discount >= 10 ? values[0] : 0
    }
}
