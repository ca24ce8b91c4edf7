import Foundation
import StrataFormat
import StrataStorage
import StrataTrain

/// The report as files: the CSV of every user, the HTML a marketer reads (charts inline as SVG, or as
/// `cid:` images for mail), and the plain-text headline. The same report gives the same bytes.
extension WeeklyReport {
    /// Users listed in full in the HTML, per bucket A and B (the rest are in the CSV).
    public static let htmlRowsPerBucket = 50

    public var headline: [(label: String, value: String)] {
        var lines: [(String, String)] = [
            ("Users whose membership expires in the next 30 days", grouped(rows.count)),
            ("At risk (A: will churn anyway, B: on the fence)", "\(grouped(atRisk)) (A \(grouped(bucketCounts["A"] ?? 0)), B \(grouped(bucketCounts["B"] ?? 0)))"),
            ("Expected churners", grouped(Int(expectedChurners.rounded()))),
            ("Expected revenue at risk", money(revenueAtRisk)),
        ]
        if upliftModel != nil {
            lines.append(("Expected revenue saved by the offers (net of discounts)", money(revenueSaved)))
            lines.append(("Offers / expected discount given", "\(grouped(rows.filter { $0.discount > 0 }.count)) / \(money(discountSpend))"))
        } else {
            lines.append(("Offers (bucket policy)", grouped(rows.filter { $0.discount > 0 }.count)))
        }
        return lines
    }

    public var charts: [BarChart] {
        var charts: [BarChart] = []
        let weeks = history.suffix(7).map { ($0.asOf, Double($0.bucketA + $0.bucketB)) } + [(asOfText, Double(atRisk))]
        charts.append(BarChart(id: "weeks", title: "Users at risk (A + B), this week and the previous weeks", items: weeks.map { (label: $0.0, value: $0.1) }))
        charts.append(BarChart(id: "buckets", title: "This week's buckets", items: ["A", "B", "C"].map { (label: "bucket \($0)", value: Double(bucketCounts[$0] ?? 0)) },
                               colour: BarChart.orange))
        var bins = [Double](repeating: 0, count: 10)
        for row in rows { bins[min(9, Int(row.probability * 10))] += 1 }
        charts.append(BarChart(id: "probabilities", title: "Churn probability of this week's users",
                               items: bins.indices.map { (label: String(format: "%.1f – %.1f", Double($0) / 10, Double($0 + 1) / 10), value: bins[$0]) }))
        var reasonCounts: [String: Int] = [:]
        for row in rows where row.bucket != "C" { for feature in row.reasonFeatures { reasonCounts[Self.reasonTopic(feature), default: 0] += 1 } }
        charts.append(BarChart(id: "reasons", title: "Most common reasons among users at risk",
                               items: reasonCounts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(8).map { (label: $0.key, value: Double($0.value)) }))
        func riskBy(_ id: String, _ title: String, _ key: (ReportRow) -> String?) -> BarChart {
            var groups: [String: (sum: Double, count: Int)] = [:]
            for row in rows { if let group = key(row) { groups[group, default: (0, 0)].sum += row.probability; groups[group, default: (0, 0)].count += 1 } }
            let largest = groups.sorted { $0.value.count != $1.value.count ? $0.value.count > $1.value.count : $0.key < $1.key }.prefix(8)
            return BarChart(id: id, title: title, items: largest.map { (label: "\($0.key) (\($0.value.count))", value: $0.value.sum / Double($0.value.count)) },
                            format: { String(format: "%.1f%%", $0 * 100) }, colour: BarChart.orange)
        }
        charts.append(riskBy("city", "Mean churn probability by city (users)", { $0.city.map { "city \($0)" } }))
        charts.append(riskBy("payment", "Mean churn probability by payment method (users)", { $0.paymentMethod.map { "method \($0)" } }))
        charts.append(riskBy("plan", "Mean churn probability by plan (users)", { $0.planDays.map { "\($0)-day plan" } }))
        if !valueByDiscount.isEmpty {
            let chosen = rows.reduce(0) { $0 + ($1.expectedValue ?? 0) }
            charts.append(BarChart(id: "value", title: "Expected net revenue vs no offer: one discount for all, or the chosen offers",
                                   items: valueByDiscount.filter { $0.discount > 0 }.map { (label: "\($0.discount)% to everyone", value: $0.value) }
                                       + [(label: "chosen per user", value: chosen)],
                                   format: { money($0) }))
        }
        return charts
    }

    /// A short topic for a reason's feature (w30_total_secs → listening).
    static func reasonTopic(_ feature: String) -> String {
        if let (_, what) = ReasonText.window(feature) {
            switch what {
            case "total_secs": return "listening time"
            case "active_days": return "active days"
            case "num_100", "num_25", "num_unq": return "songs played"
            default: return what
            }
        }
        switch feature {
        case "last_is_auto_renew": return "auto-renew"
        case "last_is_cancel", "cancel_count_365": return "cancellations"
        case "days_to_expire": return "expiry"
        case "last_payment_plan_days", "last_plan_list_price", "last_actual_amount_paid": return "plan and price"
        case "last_payment_method_id": return "payment method"
        case "tenure_days": return "tenure"
        case "tx_count_365": return "transactions"
        case "bd": return "age"
        case "registered_via": return "registration channel"
        default: return feature
        }
    }

    // MARK: CSV

    public static let csvHeader = ["msno", "expiry_date", "churn_probability", "bucket", "reason_1", "reason_2", "reason_3", "action", "discount_pct",
                                   "expected_value", "expected_discount", "plan_list_price"]

    public func csv() -> String {
        var text = Self.csvHeader.joined(separator: ",") + "\n"
        for row in rows {
            let fields: [String] = [
                row.msno, ValueText.date(row.expiryDay, style: .iso), String(format: "%.6f", row.probability), row.bucket,
                row.reasons.count > 0 ? row.reasons[0] : "", row.reasons.count > 1 ? row.reasons[1] : "", row.reasons.count > 2 ? row.reasons[2] : "",
                row.action, String(row.discount), row.expectedValue.map { String(format: "%.2f", $0) } ?? "",
                row.expectedCost.map { String(format: "%.2f", $0) } ?? "", row.price == row.price.rounded() && abs(row.price) < 1e15 ? String(Int64(row.price)) : String(row.price),
            ]
            text += fields.map(Self.csvField).joined(separator: ",") + "\n"
        }
        return text
    }

    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    // MARK: text

    public func plainText() -> String {
        var text = "Weekly churn report as of \(asOfText)\n\n"
        for (label, value) in headline { text += "\(label): \(value)\n" }
        text += "\nDiscounts: \(policy).\n"
        text += "Model: \(model) (test AUC \(modelMetrics.auc.map { String(format: "%.3f", $0) } ?? "n/a"), log loss \(String(format: "%.3f", modelMetrics.logLoss)))"
        if let upliftModel, let uplift { text += "; uplift model \(upliftModel) (Qini \(String(format: "%.3f", uplift.qini)) on held-out campaigns)" }
        text += ".\n"
        if let simulation { text += "\n" + simulationText(simulation) }
        text += "\nEvery user is in the attached CSV; the riskiest are listed in the HTML version of this message.\n"
        return text
    }

    func simulationText(_ simulation: Simulation) -> String {
        var text = "Simulated against the generator's truth (\(grouped(simulation.users)) users with a known outcome):\n"
        for outcome in simulation.outcomes {
            text += "  \(outcome.policy): churn \(String(format: "%.2f", outcome.churnPct))%, \(grouped(outcome.offers)) offers, discount given \(money(outcome.discountSpend))\n"
        }
        return text
    }

    // MARK: HTML

    /// The HTML report; `chart` renders each chart (inline SVG on disk, an `<img src="cid:…">` in mail).
    public func html(chart: (BarChart) -> String = { $0.svg() }) -> String {
        func e(_ text: String) -> String { Charts.escape(text) }
        var html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Weekly churn report \(e(asOfText))</title>
            <style>
            body{font-family:sans-serif;margin:24px;color:#222;max-width:1200px}
            h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}
            table{border-collapse:collapse;font-size:13px}td,th{border-bottom:1px solid #eee;padding:4px 8px;text-align:left;vertical-align:top}
            .cards{display:flex;flex-wrap:wrap;gap:12px}.card{border:1px solid #ddd;border-radius:6px;padding:10px 14px;min-width:200px}
            .card b{display:block;font-size:20px}.charts{display:flex;flex-wrap:wrap;gap:16px}figure{margin:0}.note{color:#555;font-size:13px}
            .A{color:#b22}.B{color:#b70}.C{color:#272}
            </style></head><body>
            <h1>Weekly churn report — as of \(e(asOfText))</h1>
            <p class="note">Users whose membership expires in the 30 days from \(e(asOfText)), scored a month ahead by \(e(model)). Discounts: \(e(policy)).</p>
            <div class="cards">
            """
        for (label, value) in headline { html += "<div class=\"card\">\(e(label))<b>\(e(value))</b></div>" }
        html += "</div>\n<h2>Charts</h2>\n<div class=\"charts\">\n"
        for item in charts { html += "<figure id=\"chart-\(e(item.id))\">\(chart(item))</figure>\n" }
        html += "</div>\n<h2>Model and data</h2>\n<table>"
        html += "<tr><th>churn model</th><td>\(e(model)): test AUC \(modelMetrics.auc.map { String(format: "%.4f", $0) } ?? "n/a"), log loss \(String(format: "%.4f", modelMetrics.logLoss)), \(grouped(modelMetrics.rows)) test rows</td></tr>"
        if let upliftModel, let uplift {
            let arms = uplift.arms.map { "\($0.discountPct)%: Qini \(String(format: "%.3f", $0.qini)), observed uplift \(String(format: "%+.3f", $0.observedUplift))" }
            html += "<tr><th>uplift model</th><td>\(e(upliftModel)): Qini \(String(format: "%.4f", uplift.qini)), uplift AUC \(String(format: "%.4f", uplift.upliftAUC)) on held-out campaigns (\(e(arms.joined(separator: "; "))))</td></tr>"
        }
        html += "<tr><th>data freshness</th><td>latest transaction before the report: \(latestTransactionDay.map { e(ValueText.date($0, style: .iso)) } ?? "none"); "
            + "latest listening day: \(latestLogDay.map { e(ValueText.date($0, style: .iso)) } ?? "none in the two months before")</td></tr>"
        html += "<tr><th>store version</th><td>\(inputVersion) (rebuild: strata report --version \(inputVersion) --as-of \(e(asOfText)))</td></tr></table>\n"
        if let simulation {
            html += "<h2>What the offers would do (simulated)</h2><p class=\"note\">On the \(grouped(simulation.users)) users whose outcome without an offer is known "
                + "(their label), with the generator's truth of how each discount saves a would-be churner.</p><table><tr><th>policy</th><th>offers</th><th>churn</th><th>discount given</th><th>net revenue</th></tr>"
            for outcome in simulation.outcomes {
                html += "<tr><td>\(e(outcome.policy))</td><td>\(grouped(outcome.offers))</td><td>\(String(format: "%.2f%%", outcome.churnPct))</td>"
                    + "<td>\(e(money(outcome.discountSpend)))</td><td>\(e(money(outcome.netRevenue)))</td></tr>"
            }
            html += "</table>\n"
        }
        for bucket in ["A", "B"] {
            let members = rows.filter { $0.bucket == bucket }
            html += "<h2>Bucket \(bucket): \(bucket == "A" ? "will churn anyway" : "on the fence") — \(grouped(members.count)) users"
                + (members.count > Self.htmlRowsPerBucket ? " (the riskiest \(Self.htmlRowsPerBucket); all in the CSV)" : "") + "</h2>\n"
            html += "<table><tr><th>msno</th><th>expires</th><th>churn</th><th>reasons</th><th>action</th><th>expected value</th></tr>"
            for row in members.prefix(Self.htmlRowsPerBucket) {
                html += "<tr><td><code>\(e(row.msno))</code></td><td>\(e(ValueText.date(row.expiryDay, style: .iso)))</td>"
                    + "<td class=\"\(bucket)\">\(String(format: "%.1f%%", row.probability * 100))</td><td>\(e(row.reasons.joined(separator: "; ")))</td>"
                    + "<td>\(e(row.action))</td><td>\(row.expectedValue.map { e(money($0)) } ?? "–")</td></tr>"
            }
            html += "</table>\n"
        }
        html += "<p class=\"note\">Bucket C (likely to renew): \(grouped(bucketCounts["C"] ?? 0)) users, in the CSV.</p>\n</body></html>\n"
        return html
    }
}

func money(_ value: Double) -> String {
    let rounded = (value * 100).rounded() / 100
    return abs(rounded) >= 1000 ? Int64(rounded.rounded()).formatted() : String(format: "%.2f", rounded)
}

func grouped(_ value: Int) -> String { ValueText.grouped(value) }

extension WeeklyReport {
    /// Writes DIR/report-YYYYMMDD.csv and .html (each atomically; the directory is created when missing)
    /// and returns the path stem.
    public func writeFiles(to directory: String) throws -> String {
        try FileSystem.createDirectories(directory)
        let stem = directory + "/" + fileStem
        try FileSystem.writeAtomically(Array(csv().utf8), to: stem + ".csv", temporaryPath: stem + ".csv.tmp")
        try FileSystem.writeAtomically(Array(html().utf8), to: stem + ".html", temporaryPath: stem + ".html.tmp")
        return stem
    }

    /// The report as an email (MIME) from `config`'s addresses, or placeholders without a config.
    public func message(config: EmailConfig?) throws -> [UInt8] {
        try ReportMessage.build(self, from: config?.from ?? "strata@localhost", to: config?.to ?? ["marketing@localhost"],
                                subject: config?.subject ?? "Weekly churn report {as_of}", boundarySeed: fingerprint)
    }
}
