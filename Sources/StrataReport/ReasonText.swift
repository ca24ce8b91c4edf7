import Foundation
import StrataTrain

/// A model's reason (a feature, its value, its Shapley contribution) in words a marketer reads:
/// "auto-renew switched off", "listening down 60% vs the previous month". Features without a phrase
/// read as "feature = value".
public enum ReasonText {
    /// `values`: the user's feature values by name (NaN for NULL), for phrases that compare two windows.
    public static func phrase(_ reason: Reason, values: [String: Double]) -> String {
        let feature = reason.feature
        let value = reason.value.flatMap(Double.init)
        func number(_ x: Double) -> String { x == x.rounded() && abs(x) < 1e15 ? Int64(x).formatted() : String(format: "%.1f", x) }
        switch feature {
        case "last_is_auto_renew": return value == 0 ? "auto-renew switched off" : "on auto-renew"
        case "last_is_cancel": return value == 1 ? "cancelled the subscription" : "last transaction not a cancellation"
        case "cancel_count_365": return value.map { "cancelled \(number($0)) time\($0 == 1 ? "" : "s") in the last year" } ?? "no transaction in the last year"
        case "tx_count_365": return value.map { "\(number($0)) transaction\($0 == 1 ? "" : "s") in the last year" } ?? "no transaction in the last year"
        case "days_to_expire":
            guard let value else { return "no membership on record" }
            return value < 0 ? "membership ended \(number(-value)) day\(value == -1 ? "" : "s") ago" : "membership ends in \(number(value)) day\(value == 1 ? "" : "s")"
        case "last_payment_plan_days": return value.map { "on a \(number($0))-day plan" } ?? "no plan on record"
        case "last_plan_list_price": return value.map { "plan price \(number($0))" } ?? "no plan price on record"
        case "last_actual_amount_paid": return value.map { "last paid \(number($0))" } ?? "no payment on record"
        case "last_payment_method_id": return reason.value.map { "pays with method \($0)" } ?? "no payment method on record"
        case "tenure_days": return value.map { "member for \(number(($0 / 30.4).rounded())) months" } ?? "registration date unknown"
        case "bd": return value.map { $0 > 0 && $0 < 100 ? "age \(number($0))" : "age not given" } ?? "age not given"
        case "city": return reason.value.map { "lives in city \($0)" } ?? "city unknown"
        case "gender": return reason.value.map { "gender \($0)" } ?? "gender not given"
        case "registered_via": return reason.value.map { "registered via channel \($0)" } ?? "registration channel unknown"
        default: break
        }
        if let (days, what) = window(feature) {
            if what == "total_secs", days == 30, let change = listeningChange(values) {
                return change <= -0.005 ? "listening down \(Int((-change * 100).rounded()))% vs the previous two months"
                    : change >= 0.005 ? "listening up \(Int((change * 100).rounded()))% vs the previous two months" : "listening as in the previous two months"
            }
            let span = days == 7 ? "the last week" : "the last \(days) days"
            switch what {
            case "active_days": return "active on \(number(value ?? 0)) day\(value == 1 ? "" : "s") of \(span)"
            case "total_secs": return value.map { "listened \(number(($0 / 3600 * 10).rounded() / 10)) hours in \(span)" } ?? "no listening in \(span)"
            case "num_100": return value.map { "\(number($0)) song\($0 == 1 ? "" : "s") played through in \(span)" } ?? "no songs played in \(span)"
            case "num_25": return value.map { "\(number($0)) song\($0 == 1 ? "" : "s") skipped early in \(span)" } ?? "no songs skipped in \(span)"
            case "num_unq": return value.map { "\(number($0)) different song\($0 == 1 ? "" : "s") in \(span)" } ?? "no songs in \(span)"
            default: break
            }
        }
        return "\(feature) = \(reason.value ?? "none")"
    }

    /// `w30_total_secs` → (30, "total_secs").
    static func window(_ feature: String) -> (Int, String)? {
        guard feature.hasPrefix("w"), let underscore = feature.firstIndex(of: "_"),
              let days = Int(feature[feature.index(after: feature.startIndex)..<underscore]) else { return nil }
        return (days, String(feature[feature.index(after: underscore)...]))
    }

    /// Listening in the last 30 days against the mean of the 60 days before them (from w30 and w90), as a
    /// fraction; nil when either is missing or the earlier months had none.
    static func listeningChange(_ values: [String: Double]) -> Double? {
        guard let recent = values["w30_total_secs"], let quarter = values["w90_total_secs"], !recent.isNaN else { return nil }
        let before = (quarter.isNaN ? 0 : quarter) - recent
        guard before > 0 else { return nil }
        return recent / (before / 2) - 1
    }
}
