import Foundation
import StrataFeatures
import StrataFormat
import StrataStorage

/// The users a weekly report is about: those whose membership expires in the 30 days from `as-of`
/// (`asOf <= expiry < asOf + 30`), the expiry taken from their latest transaction strictly before
/// `as-of` — the largest transaction_date, then the largest membership_expire_date, then the row ingested
/// last, as the churn features pick it. A cancellation is a transaction like the others: its expiry is
/// when the membership ends. Users with no transaction before `as-of` are not in it.
///
/// Computed by the point-in-time engine over a built-in feature view, so nothing on or after `as-of` is read.
public struct Population: Sendable {
    public static let windowDays = 30

    /// Entity ids, in entity order.
    public var entities: [Int64] = []
    /// Per user, from the latest transaction: the expiry day, the list price of the plan (what a renewal
    /// brings), the plan's days, the payment method, auto-renew and cancel flags.
    public var expiryDays: [Int64] = []
    public var listPrices: [Double] = []
    public var planDays: [Int64?] = []
    public var paymentMethods: [Int64?] = []
    public var autoRenew: [Bool] = []
    public var cancelled: [Bool] = []
    /// From members, when the user has a row there.
    public var cities: [Int64?] = []
    /// The latest day of any transaction before `as-of` (data freshness), nil when there is none.
    public var latestTransactionDay: Int64?
    public var count: Int { entities.count }

    static let view = """
        name: report_population
        entity: msno
        features:
          - last:
              name: last_tx
              source: transactions
              time: transaction_date
              order: [membership_expire_date]
              columns:
                expiry: membership_expire_date
                price: plan_list_price
                plan_days: payment_plan_days
                method: payment_method_id
                auto_renew: is_auto_renew
                cancel: is_cancel
                tx_day: transaction_date
          - attributes:
              name: member
              source: members
              columns:
                city: city
        """

    public init(store: Store, asOfDay: Int64) throws {
        guard store.manifest.tables["transactions"] != nil else {
            throw ReportError("the store has no transactions table: the report's population is read from it (ingest transactions.csv)")
        }
        var yaml = Self.view
        if store.manifest.tables["members"] == nil, let cut = yaml.range(of: "  - attributes:") { yaml = String(yaml[..<cut.lowerBound]) }
        let view = try FeatureViewParser.parse(yaml: yaml, file: "<report population>")
        let plan = try FeaturePlan(view: view, store: store)
        let count = store.manifest.entities.count
        let matrix = try PointInTimeEngine(plan: plan, store: store).compute(
            FeatureRequests(entities: (0..<Int64(count)).map { $0 }, cutoffs: Array(repeating: asOfDay, count: count)))
        let names = plan.outputs.map(\.name)
        func column(_ name: String) -> Int { names.firstIndex(of: name)! }
        func integer(_ row: Int, _ name: String) -> Int64? {
            if case .integer(let value) = matrix.value(row: row, column: column(name)) { return value }
            return nil
        }
        let hasCity = names.contains("city")
        for row in 0..<count {
            if let day = integer(row, "tx_day") { latestTransactionDay = max(latestTransactionDay ?? day, day) }
            guard let expiry = integer(row, "expiry"), expiry >= asOfDay, expiry < asOfDay + Int64(Self.windowDays) else { continue }
            entities.append(Int64(row))
            expiryDays.append(expiry)
            listPrices.append(Double(integer(row, "price") ?? 0))
            planDays.append(integer(row, "plan_days"))
            paymentMethods.append(integer(row, "method"))
            autoRenew.append(integer(row, "auto_renew") == 1)
            cancelled.append(integer(row, "cancel") == 1)
            cities.append(hasCity ? integer(row, "city") : nil)
        }
    }
}

public struct ReportError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
