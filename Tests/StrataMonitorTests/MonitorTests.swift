import Foundation
import StrataTestSupport
import Testing
@testable import StrataMonitor

@Suite struct TriggerPolicyTests {
    @Test func theSeedsBandsDecide() {
        let policy = TriggerPolicy()
        #expect(policy.decide(0) == .none)
        #expect(policy.decide(0.02) == .none)
        #expect(policy.decide(0.03) == .watch)
        #expect(policy.decide(0.05) == .watch)
        #expect(policy.decide(0.06) == .retrain)
        #expect(policy.decide(0.09) == .retrain)
        #expect(policy.decide(0.10) == .reExperiment)
        #expect(policy.decide(0.5) == .reExperiment)
    }

    @Test func policyFilesAreReadAndBadOnesNamed() throws {
        let directory = temporaryDirectory()
        let good = directory + "/good.yaml"
        try "deviation: max_psi\npsi_threshold: 0.25\nbands: {watch: 0.1, retrain: 0.2, re_experiment: 0.4}\nfeatures:\n  w30_total_secs: {psi_threshold: 0.5, weight: 2}\n"
            .write(toFile: good, atomically: true, encoding: .utf8)
        let policy = try TriggerPolicy.load(good)
        #expect(policy.deviations == [.maxPSI] && policy.psiThreshold == 0.25 && policy.reExperiment == 0.4)
        #expect(policy.featureThresholds["w30_total_secs"] == 0.5 && policy.featureWeights["w30_total_secs"] == 2)
        let cases: [(String, String)] = [
            ("deviation: auc\n", "deviation must be one of"),
            ("psi_threshold: -1\n", "psi_threshold must be"),
            ("bands: {watch: 0.5, retrain: 0.1}\n", "bands must rise"),
            ("bands: {sometimes: 0.5}\n", "bands must map"),
            ("features: {x: {weight: heavy}}\n", "features.x.weight"),
            ("trigger: now\n", "unknown key"),
            ("[1, 2\n", "not valid YAML"),
            ("- 1\n", "expected a mapping"),
        ]
        for (index, (text, expected)) in cases.enumerated() {
            let path = directory + "/bad\(index).yaml"
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            do {
                _ = try TriggerPolicy.load(path)
                Issue.record("accepted: \(text)")
            } catch let error as MonitorError {
                #expect(error.message.contains(expected), "\(error.message)")
            }
        }
    }
}

@Suite struct DriftStatisticsTests {
    @Test func identicalSamplesShowNoDrift() {
        let sample = (0..<1000).map { Double($0 % 37) }
        let drift = Monitor.driftStatistics(reference: sample, current: sample, categorical: false)
        #expect(drift.psi == 0 && drift.jensenShannon == 0 && drift.ksStatistic == 0 && drift.ksPValue == 1 && drift.wassersteinNormed == 0)
        #expect(!drift.drifted)
    }

    @Test func emptyAndMissingSamplesNeverTrap() {
        for (reference, current) in [([Double](), [Double]()), ([.nan, .nan], [1, 2]), ([1, 2], []), ([3, 3, 3], [3, .nan])] {
            for categorical in [false, true] {
                let drift = Monitor.driftStatistics(reference: reference, current: current, categorical: categorical)
                #expect(drift.psi.isFinite && drift.jensenShannon.isFinite)
                #expect((0...1).contains(drift.missingReference) && (0...1).contains(drift.missingCurrent))
            }
        }
    }

    @Test func aShiftIsDrift() {
        let reference = (0..<2000).map(Double.init)
        let current = reference.map { $0 + 1000 }
        let drift = Monitor.driftStatistics(reference: reference, current: current, categorical: false)
        #expect(drift.psi > 1 && drift.drifted)
        #expect(abs(drift.ksStatistic! - 0.5) < 1e-12 && drift.ksPValue! < 1e-10)
        // W1 of a shift is the shift, here over the population standard deviation of 0...1999.
        let sd = ((2000.0 * 2000 - 1) / 12).squareRoot()
        #expect(abs(drift.wassersteinNormed! - 1000 / sd) < 1e-9)
    }
}
