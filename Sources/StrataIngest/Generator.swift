import Foundation
import StrataFormat
import StrataStorage

/// Options of `strata generate`.
public struct GeneratorOptions: Sendable {
    public var memberCount = 10_000
    /// First day of the simulated period, YYYYMMDD.
    public var start = 20_160_101
    public var monthCount = 15
    public var seed: UInt64 = 42
    /// From this day (YYYYMMDD) on, behaviour and its link to churn change.
    public var driftFrom: Int?
    /// How many of the last months get label rows.
    public var labelMonthCount = 8
    /// Share of the labelled expiries that get a randomised retention offer (campaigns.csv); 0: none,
    /// and then the other files are exactly those of a generator without campaigns.
    public var campaignShare = 0.3
    /// The last label months run no campaign, so that their labels are what happens without offers
    /// (what a report as of those months is measured against).
    public var campaignFreeMonthCount = 2
    /// Scales how often users listen: the chance of a listening day is this many times the engagement's
    /// (at most 0.98). Churn reads activity relative to it, so churn rates stay about where they are.
    /// 1 is the generator as it always was (the same bytes for a seed); 1.5 gives about half again as
    /// many user_logs rows.
    public var activity = 1.0
    /// Share of the members who hold a subscription during the period; the others are registered members
    /// who never subscribe (a members row, nothing else), as most of KKBox's 6.8 M members in any month.
    /// 1 is the generator as it always was (the same bytes for a seed). 0.35 gives KKBox's log rows and
    /// labels per member (tools/bench/README.md, "Calibration").
    public var subscriberShare = 1.0

    public init() {}
}

public struct GeneratorReport: Sendable {
    public var memberCount = 0
    public var transactionCount = 0
    public var userLogCount = 0
    public var labelCount = 0
    public var churnCount = 0
    public var campaignCount = 0
    public var seconds = 0.0
}

/// Writes the four KKBox CSVs for a simulated subscriber base, deterministic for a seed.
///
/// Each user has a latent engagement that drifts week by week. It drives how often they listen (the
/// user_logs rows), and at each expiry it drives whether they renew, together with auto-renew, a
/// cancellation and noise: churn is *caused* by behaviour that the logs and transactions reveal, so a
/// model can learn it. Labels follow the company's definition: no valid renewal within 30 days after
/// the expiry, one row per user and month of expiry, cutoff = the first day of that month.
///
/// Campaigns: some labelled expiries get a retention offer on the first day of the expiry's month, with
/// a discount drawn at random from {0, 10, 20, 30}%. How a user responds is a hidden trait the
/// generator knows (`CampaignResponse`): some never respond, others renew from a threshold discount on —
/// if they would have churned. A saved user renews (paying the discounted price) and the label says so.
/// The campaign draws use a stream of their own, so with `campaignShare` 0 nothing else changes.
public struct DatasetGenerator {
    public let options: GeneratorOptions
    var random: Xoshiro256
    var campaignRandom: Xoshiro256
    /// Who subscribes, drawn only when `subscriberShare` < 1, so that the other streams are untouched at 1.
    var subscriberRandom: Xoshiro256

    public init(options: GeneratorOptions) {
        self.options = options
        random = Xoshiro256(seed: options.seed)
        campaignRandom = Xoshiro256(seed: options.seed ^ 0x5EED_CA4A_16A5_0FFE)
        subscriberRandom = Xoshiro256(seed: options.seed ^ 0x50B5_C41B_E125_4A7E)
    }

    struct User {
        var registrationDay: Int
        var engagement: Double
        var planDays: Int
        var listPrice: Int
        var paymentMethod: Int
        var autoRenew: Bool
        /// Day the current membership expires; Int.max when the user has churned for good.
        var expiryDay: Int
        /// While churned: the day they come back, or Int.max.
        var returnDay: Int
        var activeDaysSinceRenewal = 0
        var daysSinceRenewal = 1
        var cancelled = false
        var lastLabelMonth = 0
        var subscribed: Bool
        /// The discount of a retention offer made this month, if any.
        var offer: Int?
    }

    public mutating func generate(into directory: String) throws -> GeneratorReport {
        let began = Date()
        var report = GeneratorReport()
        try FileSystem.createDirectories(directory)
        guard let startDay = Dates.dayNumber(yyyymmdd: options.start) else {
            throw IngestError.malformed(file: "--start", line: nil, column: nil, reason: "\(options.start) is not a valid YYYYMMDD date")
        }
        let (startYear, startMonth, _) = Dates.civil(dayNumber: startDay)
        let endMonthIndex = startYear * 12 + startMonth - 1 + options.monthCount
        let endDay = Dates.daysFromCivil(year: endMonthIndex / 12, month: endMonthIndex % 12 + 1, day: 1)
        let firstLabelMonthIndex = max(startYear * 12 + startMonth, endMonthIndex - options.labelMonthCount)
        let driftDay = options.driftFrom.flatMap { Dates.dayNumber(yyyymmdd: $0) } ?? Int.max
        let earliestRegistration = Dates.daysFromCivil(year: 2004, month: 3, day: 26)

        let ids = makeIDs(count: options.memberCount)
        var users: [User] = []
        users.reserveCapacity(options.memberCount)
        let members = try CSVOutput(path: directory + "/members.csv", header: KKBoxTables.members.header)
        let transactions = try CSVOutput(path: directory + "/transactions.csv", header: KKBoxTables.transactions.header)
        let logs = try CSVOutput(path: directory + "/user_logs.csv", header: KKBoxTables.userLogs.header)
        var labels: [(cutoff: Int, user: Int, churn: Bool)] = []
        var campaigns: [(offer: Int, user: Int, discount: Int, renewed: Bool)] = []
        var responses: [CampaignResponse] = []
        responses.reserveCapacity(options.memberCount)
        let campaignEndMonthIndex = endMonthIndex - options.campaignFreeMonthCount

        for index in 0..<options.memberCount {
            // 60% were members before the period; the rest sign up during it.
            let existing = random.uniform() < 0.6
            let registration = existing
                ? earliestRegistration + random.below(startDay - earliestRegistration)
                : startDay + random.below(endDay - startDay - 20)
            let plan = choosePlan()
            var user = User(
                registrationDay: registration, engagement: min(0.97, max(0.03, 0.15 + 0.7 * random.uniform() + 0.1 * random.normal())),
                planDays: plan.days, listPrice: plan.price, paymentMethod: choosePaymentMethod(), autoRenew: random.uniform() < 0.7,
                expiryDay: 0, returnDay: .max, subscribed: true)
            let firstExpiry = existing ? startDay + random.below(plan.days) : registration + plan.days
            user.expiryDay = firstExpiry
            let subscribes = options.subscriberShare >= 1 || subscriberRandom.uniform() < options.subscriberShare
            if !subscribes {
                // A member who never subscribes: no transaction, no listening, no label.
                user.subscribed = false
                user.returnDay = .max
            }
            users.append(user)
            let age = writeMember(index, user, ids: ids, to: members)
            responses.append(CampaignResponse.draw(listPrice: plan.price, autoRenew: user.autoRenew, paymentMethod: user.paymentMethod,
                                                   age: age, random: &campaignRandom))
            guard subscribes else { continue }
            // The transaction that opened the current membership (may predate the period).
            let opened = existing ? firstExpiry - plan.days : registration
            writeTransaction(index, user, day: max(opened, user.registrationDay), expiry: firstExpiry, cancel: false, ids: ids, to: transactions)
            report.transactionCount += 1
        }
        report.memberCount = users.count

        // Simulate past the end so the renewals that decide the last labels happen (they are not written).
        for day in startDay..<(endDay + 31) {
            let writing = day < endDay
            let drifted = day >= driftDay
            let (year, month, dayOfMonth) = Dates.civil(dayNumber: day)
            let monthIndex = year * 12 + month - 1
            let dateText = year * 10_000 + month * 100 + dayOfMonth
            for index in 0..<users.count {
                var user = users[index]
                if day < user.registrationDay { continue }
                if !user.subscribed {
                    if day >= user.returnDay {
                        user = resubscribe(user, day: day)
                        if writing {
                            writeTransaction(index, user, day: day, expiry: user.expiryDay, cancel: false, ids: ids, to: transactions)
                            report.transactionCount += 1
                        }
                    } else {
                        users[index] = user
                        continue
                    }
                }
                // Weekly drift of engagement, a little downwards on average.
                if (day + index) % 7 == 0 {
                    user.engagement = min(0.97, max(0.02, user.engagement + 0.09 * (random.uniform() - 0.5) - 0.004))
                }
                if writing && random.uniform() < min(0.98, options.activity * (0.06 + 0.75 * user.engagement)) {
                    writeLog(index, user, date: dateText, drifted: drifted, ids: ids, to: logs)
                    report.userLogCount += 1
                    user.activeDaysSinceRenewal += 1
                }
                user.daysSinceRenewal += 1
                // An auto-renewing, disengaged user may cancel before the expiry: a strong churn signal.
                if user.autoRenew && !user.cancelled && day == user.expiryDay - 10 {
                    let activity = Double(user.activeDaysSinceRenewal) / Double(user.daysSinceRenewal) / options.activity
                    if random.uniform() < sigmoid(-3.2 - 7 * (activity - 0.15)) {
                        user.cancelled = true
                        if writing {
                            writeTransaction(index, user, day: day, expiry: day, cancel: true, ids: ids, to: transactions)
                            report.transactionCount += 1
                        }
                    }
                }
                if day == user.expiryDay {
                    let activity = Double(user.activeDaysSinceRenewal) / Double(user.daysSinceRenewal) / options.activity
                    var churns = decideChurn(user, activity: activity, drifted: drifted)
                    user.offer = nil
                    if monthIndex >= firstLabelMonthIndex && monthIndex < endMonthIndex && user.lastLabelMonth != monthIndex {
                        let cutoff = Dates.daysFromCivil(year: year, month: month, day: 1)
                        if monthIndex < campaignEndMonthIndex && options.campaignShare > 0 && campaignRandom.uniform() < options.campaignShare {
                            let discount = CampaignResponse.discounts[campaignRandom.below(CampaignResponse.discounts.count)]
                            // Drawn for every offer, so that the stream does not depend on who would churn.
                            let draw = campaignRandom.uniform()
                            if churns && draw < responses[index].savedProbability(discount: discount) { churns = false }
                            user.offer = discount
                            campaigns.append((cutoff, index, discount, !churns))
                        }
                        labels.append((cutoff, index, churns))
                        user.lastLabelMonth = monthIndex
                    }
                    if churns {
                        user.subscribed = false
                        // Some come back after the 30-day window (a new subscription, not a renewal).
                        user.returnDay = random.uniform() < 0.5 ? day + 31 + random.below(120) : .max
                    } else {
                        let renewalDay = user.autoRenew ? day : max(day - random.below(6), day - 5)
                        if writing && renewalDay < endDay {
                            writeTransaction(index, user, day: renewalDay, expiry: day + user.planDays, cancel: false, discount: user.offer ?? 0, ids: ids, to: transactions)
                            report.transactionCount += 1
                            // Real exports repeat some rows verbatim.
                            if random.uniform() < 0.003 {
                                writeTransaction(index, user, day: renewalDay, expiry: day + user.planDays, cancel: false, discount: user.offer ?? 0, ids: ids, to: transactions)
                                report.transactionCount += 1
                            }
                        }
                        user.expiryDay = day + user.planDays
                        user.activeDaysSinceRenewal = 0
                        user.daysSinceRenewal = 1
                    }
                    user.cancelled = false
                }
                users[index] = user
            }
        }
        try members.finish()
        try transactions.finish()
        try logs.finish()

        labels.sort { ($0.cutoff, $0.user) < ($1.cutoff, $1.user) }
        let labelFile = try CSVOutput(path: directory + "/labels.csv", header: KKBoxTables.labels.header)
        for label in labels {
            labelFile.append(ids: ids, user: label.user)
            labelFile.comma()
            labelFile.append(Dates.yyyymmdd(dayNumber: label.cutoff))
            labelFile.comma()
            labelFile.append(label.churn ? 1 : 0)
            labelFile.newline()
            if label.churn { report.churnCount += 1 }
        }
        try labelFile.finish()
        report.labelCount = labels.count
        if options.campaignShare > 0 {
            try writeCampaigns(campaigns, responses: responses, ids: ids, directory: directory)
            report.campaignCount = campaigns.count
        }
        report.seconds = -began.timeIntervalSinceNow
        return report
    }

    func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }

    mutating func decideChurn(_ user: User, activity: Double, drifted: Bool) -> Bool {
        var score = -2.0 - 6.0 * (activity - 0.35) + (user.cancelled ? 3.0 : 0) + (user.planDays == 30 ? 0 : -0.6)
        // After the drift, auto-renew no longer protects, and everyone churns a little more.
        score += user.autoRenew ? (drifted ? 0 : -1.6) : 0
        if drifted { score += 0.3 }
        score += 0.7 * random.normal()
        return random.uniform() < sigmoid(score)
    }

    mutating func resubscribe(_ user: User, day: Int) -> User {
        var user = user
        user.subscribed = true
        user.returnDay = .max
        user.expiryDay = day + user.planDays
        user.engagement = min(0.97, max(0.05, user.engagement + 0.2 * random.uniform()))
        user.activeDaysSinceRenewal = 0
        user.daysSinceRenewal = 1
        return user
    }

    mutating func choosePlan() -> (days: Int, price: Int) {
        let draw = random.uniform()
        switch draw {
        case ..<0.82: return (30, [149, 99, 129, 180][random.below(4)])
        case ..<0.87: return (7, 35)
        case ..<0.93: return (90, 480)
        case ..<0.97: return (180, 894)
        default: return (410, 1788)
        }
    }

    mutating func choosePaymentMethod() -> Int {
        let draw = random.uniform()
        switch draw {
        case ..<0.45: return 41
        case ..<0.60: return 40
        case ..<0.72: return 36
        case ..<0.82: return 39
        default: return 20 + random.below(18)
        }
    }

    /// Writes the member's row; returns the age (bd) written.
    mutating func writeMember(_ index: Int, _ user: User, ids: [UInt8], to output: CSVOutput) -> Int {
        output.append(ids: ids, user: index)
        output.comma()
        output.append([1, 1, 1, 13, 5, 4, 15, 22, 6, 12][random.below(10)])
        output.comma()
        // bd (age) is dirty in the real data: zeros, negatives and values over 100.
        let draw = random.uniform()
        let age: Int = draw < 0.4 ? 0 : draw < 0.995 ? 16 + random.below(35) : [-3000, -39, 105, 1034, 1051][random.below(5)]
        output.append(age)
        output.comma()
        let gender = random.uniform()
        if gender < 0.3 { output.append(text: "male") } else if gender < 0.6 { output.append(text: "female") }
        output.comma()
        output.append([3, 4, 7, 7, 9, 9, 9, 13][random.below(8)])
        output.comma()
        output.append(Dates.yyyymmdd(dayNumber: user.registrationDay))
        output.newline()
        return age
    }

    /// `discount`: percent off the price actually paid (a retention offer taken up).
    mutating func writeTransaction(_ index: Int, _ user: User, day: Int, expiry: Int, cancel: Bool, discount: Int = 0, ids: [UInt8], to output: CSVOutput) {
        output.append(ids: ids, user: index)
        output.comma()
        output.append(user.paymentMethod)
        output.comma()
        output.append(user.planDays)
        output.comma()
        output.append(user.listPrice)
        output.comma()
        // Mostly the list price; sometimes a discount.
        let paid = random.uniform() < 0.9 ? user.listPrice : user.listPrice * 2 / 3
        output.append(discount == 0 ? paid : paid * (100 - discount) / 100)
        output.comma()
        output.append(user.autoRenew && !cancel ? 1 : 0)
        output.comma()
        output.append(Dates.yyyymmdd(dayNumber: day))
        output.comma()
        output.append(Dates.yyyymmdd(dayNumber: expiry))
        output.comma()
        output.append(cancel ? 1 : 0)
        output.newline()
    }

    mutating func writeLog(_ index: Int, _ user: User, date: Int, drifted: Bool, ids: [UInt8], to output: CSVOutput) {
        // After the drift, sessions are shorter: fewer songs a day, each a little longer.
        let songs = 1 + random.below(4 + Int((drifted ? 32 : 60) * user.engagement))
        let full = Int(Double(songs) * (0.45 + 0.45 * user.engagement))
        var rest = songs - full
        let n25 = rest > 0 ? random.below(rest + 1) : 0
        rest -= n25
        let n50 = rest > 0 ? random.below(rest + 1) : 0
        rest -= n50
        let n75 = rest > 0 ? random.below(rest + 1) : 0
        let n985 = rest - n75
        let unique = max(1, songs - random.below(max(1, songs / 3)))
        let songMillis = drifted ? 250_000 : 230_000
        var millis = full * songMillis + n25 * songMillis / 6 + n50 * songMillis / 2 + n75 * songMillis * 3 / 4 + n985 * songMillis * 97 / 100
        millis += random.below(30_000)
        // A few rows carry the real data's anomalies: seconds over a day, and negative totals.
        let anomaly = random.uniform()
        if anomaly < 0.0002 { millis = 90_000_000 + random.below(400_000_000) } else if anomaly < 0.0003 { millis = -millis }
        output.append(ids: ids, user: index)
        output.comma()
        output.append(date)
        for value in [n25, n50, n75, n985, full, unique] {
            output.comma()
            output.append(value)
        }
        output.comma()
        output.appendMillis(millis)
        output.newline()
    }

    /// 44-character base64 ids like the real msno (32 random bytes), laid out back to back.
    mutating func makeIDs(count: Int) -> [UInt8] {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var ids = [UInt8]()
        ids.reserveCapacity(count * 44)
        for _ in 0..<count {
            for _ in 0..<43 { ids.append(alphabet[random.below(64)]) }
            ids.append(UInt8(ascii: "="))
        }
        return ids
    }
}

/// Buffered CSV writing with hand-rolled number formatting (the generator writes millions of rows).
final class CSVOutput {
    private let fd: Int32
    private let path: String
    private var buffer: [UInt8] = []
    private let flushBytes = 4 << 20

    init(path: String, header: [String]) throws {
        self.path = path
        fd = try FileSystem.open(path, O_WRONLY | O_CREAT | O_TRUNC)
        buffer.reserveCapacity(flushBytes + 4096)
        buffer.append(contentsOf: Array(header.joined(separator: ",").utf8))
        buffer.append(UInt8(ascii: "\n"))
    }

    @inline(__always) func comma() { buffer.append(UInt8(ascii: ",")) }

    @inline(__always) func newline() {
        buffer.append(UInt8(ascii: "\n"))
        if buffer.count >= flushBytes { try? flush() }
    }

    func append(text: String) { buffer.append(contentsOf: Array(text.utf8)) }

    @inline(__always) func append(ids: [UInt8], user: Int) {
        buffer.append(contentsOf: ids[(user * 44)..<(user * 44 + 44)])
    }

    @inline(__always) func append(_ value: Int) {
        if value < 0 { buffer.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { raw in
            repeat {
                raw[count] = UInt8(48 + magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            for index in stride(from: count - 1, through: 0, by: -1) { buffer.append(raw[index]) }
        }
    }

    /// Milliseconds as seconds with three decimals ("123.456").
    @inline(__always) func appendMillis(_ millis: Int) {
        if millis < 0 { buffer.append(UInt8(ascii: "-")) }
        let magnitude = abs(millis)
        append(magnitude / 1000)
        buffer.append(UInt8(ascii: "."))
        let fraction = magnitude % 1000
        buffer.append(UInt8(48 + fraction / 100))
        buffer.append(UInt8(48 + fraction / 10 % 10))
        buffer.append(UInt8(48 + fraction % 10))
    }

    func flush() throws {
        try buffer.withUnsafeBytes { try FileSystem.writeAll(fd, $0, path: path) }
        buffer.removeAll(keepingCapacity: true)
    }

    func finish() throws {
        try flush()
        FileSystem.close(fd)
    }
}

/// xoshiro256** (Blackman & Vigna): small, fast, and the same sequence on every platform for a seed.
struct Xoshiro256 {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    init(seed: UInt64) {
        // SplitMix64 expands the seed so that nearby seeds give unrelated streams.
        var mix = seed
        func next() -> UInt64 {
            mix &+= 0x9E37_79B9_7F4A_7C15
            var z = mix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (next(), next(), next(), next())
    }

    @inline(__always) mutating func next() -> UInt64 {
        let result = ((state.1 &* 5) << 7 | (state.1 &* 5) >> 57) &* 9
        let shifted = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= shifted
        state.3 = state.3 << 45 | state.3 >> 19
        return result
    }

    /// Uniform in [0, 1).
    @inline(__always) mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform integer in 0..<bound (bound > 0); the multiply-shift bias is negligible for our bounds.
    @inline(__always) mutating func below(_ bound: Int) -> Int {
        Int(((next() >> 32) &* UInt64(bound)) >> 32)
    }

    /// Standard normal, by the Box–Muller transform.
    mutating func normal() -> Double {
        let u1 = max(uniform(), 1e-300)
        let u2 = uniform()
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }
}
