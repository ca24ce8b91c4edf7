import Testing
@testable import StrataReport

@Suite struct DiscountTests {
    /// value(d) = p(d)·price·(1−d) − p(0)·price: a discount pays only when the renewals it adds outweigh
    /// what it gives to those who would renew anyway.
    @Test func eachUserGetsTheDiscountThatPaysMost() {
        let users = [
            OfferOptions(discounts: [0, 10, 20, 30], renewal: [0.95, 0.95, 0.95, 0.95], price: 100),  // renews anyway: nothing pays
            OfferOptions(discounts: [0, 10, 20, 30], renewal: [0.40, 0.85, 0.90, 0.92], price: 100),  // 10%: 76.5 − 40 = 36.5 (20%: 32, 30%: 24.4)
            OfferOptions(discounts: [0, 10, 20, 30], renewal: [0.10, 0.10, 0.80, 0.85], price: 100),  // 20%: 64 − 10 = 54 (30%: 49.5)
            OfferOptions(discounts: [0, 10, 20, 30], renewal: [0.05, 0.05, 0.05, 0.05], price: 100),  // never responds
        ]
        #expect(DiscountOptimizer.choose(users, budget: nil) == [0, 1, 2, 0])
        #expect(abs(users[1].value(1) - 36.5) < 1e-9)
        #expect(abs(users[2].cost(2) - 16) < 1e-9)
    }

    /// Under a budget the best value per unit of cost goes first, and nothing exceeds the cap.
    @Test func aBudgetGoesToTheBestValuePerUnitOfCost() {
        let users = [
            OfferOptions(discounts: [0, 10, 20], renewal: [0.40, 0.85, 0.90], price: 100),  // 10%: +36.5 for 8.5 (4.29 per unit)
            OfferOptions(discounts: [0, 10, 20], renewal: [0.10, 0.10, 0.80], price: 100),  // 20%: +54 for 16 (3.375 per unit)
        ]
        #expect(DiscountOptimizer.choose(users, budget: 0) == [0, 0])
        #expect(DiscountOptimizer.choose(users, budget: 10) == [1, 0])
        #expect(DiscountOptimizer.choose(users, budget: 24.5) == [1, 2])
        let generous = DiscountOptimizer.choose(users, budget: 1e9)
        #expect(generous == DiscountOptimizer.choose(users, budget: nil))
        for budget in stride(from: 0.0, through: 40, by: 0.5) {
            let chosen = DiscountOptimizer.choose(users, budget: budget)
            let spent = zip(users, chosen).reduce(0.0) { $0 + $1.0.cost($1.1) }
            #expect(spent <= budget + 1e-9)
        }
    }
}
@Suite struct ChartsAreSafeSVG {
    @Test func textIsEscaped() {
        #expect(Charts.escape("<script>&\"'\u{1}") == "&lt;script&gt;&amp;&quot;&#39;\u{FFFD}")
        let svg = Charts.bars([("<b>", 3), ("x", 0)], title: "t & u")
        #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>") && !svg.contains("<b>") && svg.contains("t &amp; u"))
        #expect(Charts.line([], title: "empty", xLabel: "v").contains("no data yet"))
    }
}
