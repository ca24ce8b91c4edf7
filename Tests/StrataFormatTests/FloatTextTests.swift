import StrataTestSupport
import Testing
@testable import StrataFormat

@Suite struct FloatTextTests {
    @Test func matchesPythonRepr() {
        // repr() of these in CPython 3.11.
        let cases: [(Double, String)] = [
            (0, "0.0"), (-0.0, "-0.0"), (1, "1.0"), (1.5, "1.5"), (100, "100.0"), (0.1 + 0.2, "0.30000000000000004"),
            (1e-4, "0.0001"), (1.2e-5, "1.2e-05"), (1e16, "1e+16"), (1.5e16, "1.5e+16"), (123456789012345.6, "123456789012345.6"),
            (5e-324, "5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308"), (-2.5e-7, "-2.5e-07"),
            (.nan, "nan"), (.infinity, "inf"), (-.infinity, "-inf"),
        ]
        for (value, text) in cases { #expect(FloatText.python(value) == text, "\(value)") }
    }

    @Test func fastPathAgreesWithTheGeneralLayout() {
        var random = TestRandom(state: 11)
        for _ in 0..<200_000 {
            let value = Double(bitPattern: random.next())
            guard value.isFinite else { continue }
            #expect(FloatText.python(value) == FloatText.laidOutAsPython(value))
        }
        for exponent in -330...310 {
            let value = 1.234567 * pow10(exponent)
            guard value.isFinite else { continue }
            #expect(FloatText.python(value) == FloatText.laidOutAsPython(value), "\(value)")
        }
    }

    private func pow10(_ exponent: Int) -> Double {
        var value = 1.0
        for _ in 0..<abs(exponent) { value = exponent < 0 ? value / 10 : value * 10 }
        return value
    }
}
