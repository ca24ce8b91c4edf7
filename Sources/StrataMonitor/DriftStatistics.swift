import Foundation

/// Two-sample drift statistics between a reference sample and a current one. NaN is a missing value:
/// it counts in the missing rates and is left out of every other statistic. Definitions (each checked
/// against scipy or a NumPy transcription of the same definition in tools/test_monitor.py):
/// - PSI over bins at the reference's deciles (`quantileEdges`): Σ (c − r)·ln(c / r) over the bins, a
///   share of 0 counted as 0.0001 (as Evidently does);
/// - Jensen–Shannon distance over the same bins: √JS divergence, natural logarithms (scipy's
///   `jensenshannon`);
/// - Kolmogorov–Smirnov: D = sup |F_r − F_c| and its asymptotic p-value Q_KS(√(n·m/(n+m))·D) (scipy's
///   `special.kolmogorov`);
/// - Wasserstein-1 distance between the empirical distributions, divided by the reference's population
///   standard deviation (at least 0.001, as Evidently's normed Wasserstein);
/// - categorical: Pearson's chi-square of the current counts against the reference shares scaled to the
///   current size (scipy's `chisquare`, Evidently's chi-square test), and JS over the category shares.
public enum DriftStatistics {
    public static let emptyShare = 0.0001

    /// Bin edges at the reference's deciles (`binCount` − 1 inner edges, duplicates removed): a value v
    /// falls in the first bin whose edge is ≥ v, the last bin past every edge.
    public static func quantileEdges(_ reference: [Double], binCount: Int = 10) -> [Double] {
        let sorted = reference.filter { !$0.isNaN }.sorted()
        guard !sorted.isEmpty else { return [] }
        var edges: [Double] = []
        for k in 1..<binCount {
            // Linear interpolation between order statistics (NumPy's default quantile).
            let position = Double(k) / Double(binCount) * Double(sorted.count - 1)
            let low = Int(position.rounded(.down))
            let high = min(low + 1, sorted.count - 1)
            let value = sorted[low] + (sorted[high] - sorted[low]) * (position - Double(low))
            if edges.last.map({ value > $0 }) ?? true { edges.append(value) }
        }
        return edges
    }

    /// Share of the non-missing values of `sample` in each of the `edges.count + 1` bins.
    public static func shares(_ sample: [Double], edges: [Double]) -> [Double] {
        var counts = [Double](repeating: 0, count: edges.count + 1)
        var total = 0.0
        for value in sample where !value.isNaN {
            var low = 0, high = edges.count
            while low < high {
                let middle = (low + high) / 2
                if value <= edges[middle] { high = middle } else { low = middle + 1 }
            }
            counts[low] += 1
            total += 1
        }
        return total == 0 ? counts : counts.map { $0 / total }
    }

    public static func psi(reference: [Double], current: [Double]) -> Double {
        var total = 0.0
        for (r, c) in zip(reference, current) {
            let (r, c) = (r == 0 ? emptyShare : r, c == 0 ? emptyShare : c)
            total += (c - r) * log(c / r)
        }
        return total
    }

    public static func jensenShannon(_ p: [Double], _ q: [Double]) -> Double {
        let (sp, sq) = (p.reduce(0, +), q.reduce(0, +))
        guard sp > 0, sq > 0 else { return 0 }
        var divergence = 0.0
        for (a, b) in zip(p, q) {
            let (x, y) = (a / sp, b / sq)
            let m = (x + y) / 2
            if x > 0 { divergence += x * log(x / m) / 2 }
            if y > 0 { divergence += y * log(y / m) / 2 }
        }
        return max(0, divergence).squareRoot()
    }

    /// (D, asymptotic p-value) of the two-sample Kolmogorov–Smirnov test on the non-missing values.
    public static func kolmogorovSmirnov(_ reference: [Double], _ current: [Double]) -> (statistic: Double, pValue: Double) {
        let a = reference.filter { !$0.isNaN }.sorted(), b = current.filter { !$0.isNaN }.sorted()
        guard !a.isEmpty, !b.isEmpty else { return (0, 1) }
        var (i, j, d) = (0, 0, 0.0)
        while i < a.count && j < b.count {
            let value = min(a[i], b[j])
            while i < a.count && a[i] == value { i += 1 }
            while j < b.count && b[j] == value { j += 1 }
            d = max(d, abs(Double(i) / Double(a.count) - Double(j) / Double(b.count)))
        }
        let n = Double(a.count) * Double(b.count) / Double(a.count + b.count)
        return (d, kolmogorovSurvival(n.squareRoot() * d))
    }

    /// Q_KS(z) = 2 Σ_{k≥1} (−1)^{k−1} e^{−2k²z²}, the limiting distribution's survival function.
    static func kolmogorovSurvival(_ z: Double) -> Double {
        guard z > 0 else { return 1 }
        if z < 1.18 {
            // The other series converges faster for small z: P(K <= z) = √(2π)/z Σ e^{−(2k−1)²π²/(8z²)}.
            var sum = 0.0
            for k in 1...50 {
                let term = exp(-Double((2 * k - 1) * (2 * k - 1)) * .pi * .pi / (8 * z * z))
                sum += term
                if term < 1e-17 { break }
            }
            return min(1, max(0, 1 - (2 * Double.pi).squareRoot() / z * sum))
        }
        var sum = 0.0
        for k in 1...100 {
            let term = exp(-2 * Double(k * k) * z * z)
            sum += (k % 2 == 1 ? term : -term)
            if term < 1e-17 { break }
        }
        return min(1, max(0, 2 * sum))
    }

    /// W1 between the empirical distributions of the non-missing values, over the reference's population
    /// standard deviation (at least 0.001).
    public static func wassersteinNormed(_ reference: [Double], _ current: [Double]) -> Double {
        let a = reference.filter { !$0.isNaN }.sorted(), b = current.filter { !$0.isNaN }.sorted()
        guard !a.isEmpty, !b.isEmpty else { return 0 }
        // ∫ |F_a − F_b| over the merged support.
        var (i, j, distance) = (0, 0, 0.0)
        var previous = min(a[0], b[0])
        while i < a.count || j < b.count {
            let value = j >= b.count || (i < a.count && a[i] <= b[j]) ? a[i] : b[j]
            distance += abs(Double(i) / Double(a.count) - Double(j) / Double(b.count)) * (value - previous)
            previous = value
            while i < a.count && a[i] == value { i += 1 }
            while j < b.count && b[j] == value { j += 1 }
        }
        let mean = a.reduce(0, +) / Double(a.count)
        let deviation = (a.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(a.count)).squareRoot()
        return distance / max(deviation, 0.001)
    }

    /// (statistic, p-value, degrees of freedom) of Pearson's chi-square of `current` category counts
    /// against the reference's shares scaled to the current total; categories of either sample.
    public static func chiSquare(reference: [String: Double], current: [String: Double]) -> (statistic: Double, pValue: Double, degrees: Int) {
        let keys = Set(reference.keys).union(current.keys).sorted()
        let (rt, ct) = (reference.values.reduce(0, +), current.values.reduce(0, +))
        guard rt > 0, ct > 0, keys.count > 1 else { return (0, 1, 0) }
        var statistic = 0.0
        for key in keys {
            let expected = (reference[key] ?? 0) * ct / rt
            let observed = current[key] ?? 0
            // A category the reference never had: infinite evidence, as scipy gives it.
            if expected == 0 { if observed > 0 { return (.infinity, 0, keys.count - 1) } else { continue } }
            statistic += (observed - expected) * (observed - expected) / expected
        }
        return (statistic, chiSquareSurvival(statistic, degrees: Double(keys.count - 1)), keys.count - 1)
    }

    /// P(X² > x) for k degrees of freedom: the regularised upper incomplete gamma Q(k/2, x/2).
    static func chiSquareSurvival(_ x: Double, degrees k: Double) -> Double {
        guard x > 0 else { return 1 }
        return upperIncompleteGamma(k / 2, x / 2)
    }

    /// Q(a, x), by its series for x < a + 1 and by a continued fraction (modified Lentz) otherwise.
    static func upperIncompleteGamma(_ a: Double, _ x: Double) -> Double {
        let logPrefix = a * log(x) - x - lgamma(a)
        if x < a + 1 {
            var (sum, term, n) = (1 / a, 1 / a, a)
            for _ in 0..<1000 {
                n += 1
                term *= x / n
                sum += term
                if abs(term) < abs(sum) * 1e-16 { break }
            }
            return max(0, 1 - sum * exp(logPrefix))
        }
        let tiny = 1e-300
        var b = x + 1 - a
        var c = 1 / tiny
        var d = 1 / b
        var h = d
        for i in 1..<1000 {
            let an = -Double(i) * (Double(i) - a)
            b += 2
            d = an * d + b
            if abs(d) < tiny { d = tiny }
            c = b + an / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-16 { break }
        }
        return min(1, exp(logPrefix) * h)
    }
}
