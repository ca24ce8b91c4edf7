import Foundation
import StrataPipeline
import StrataTestSupport
import Testing

@Suite struct PipelineConfigTests {
    @Test func aConfigIsReadWithItsDefaultsAndRelativePaths() throws {
        let directory = temporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/pipeline.yaml"
        try FileManager.default.createDirectory(atPath: directory + "/in", withIntermediateDirectories: true)
        try String(contentsOfFile: packageRoot + "/fixtures/features/w1.yaml", encoding: .utf8).write(toFile: directory + "/churn.features", atomically: true, encoding: .utf8)
        try "inbox: in\nfeatures: churn.features\ntraining: {months: 4, num_leaves: 15}\ngates: {mean_score: [0.02, 0.5]}\n".write(toFile: path, atomically: true, encoding: .utf8)
        let config = try PipelineConfig.load(path)
        #expect(config.inbox == directory + "/in")
        #expect(config.features == directory + "/churn.features")
        #expect(config.trainingMonths == 4 && config.parameters.numLeaves == 15 && config.parameters.rounds == 200)
        #expect(config.gates.meanScore == 0.02...0.5 && config.gates.aucEpsilon == 0.005)
        #expect(config.model == "churn" && config.labels == "labels" && config.reportDirectory == nil)
    }

    @Test func aMalformedConfigIsAnErrorNamingTheKey() throws {
        let directory = temporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/pipeline.yaml"
        try FileManager.default.createDirectory(atPath: directory + "/in", withIntermediateDirectories: true)
        try String(contentsOfFile: packageRoot + "/fixtures/features/w1.yaml", encoding: .utf8).write(toFile: directory + "/f", atomically: true, encoding: .utf8)
        try "name: broken\n".write(toFile: directory + "/broken.features", atomically: true, encoding: .utf8)
        let cases: [(String, String)] = [
            ("inbox: nowhere\nfeatures: f\n", "inbox \(directory)/nowhere is not a directory"),
            ("inbox: in\nfeatures: missing.features\n", "features \(directory)/missing.features"),
            ("inbox: in\nfeatures: broken.features\n", "features \(directory)/broken.features"),
            ("features: f\n", "inbox is missing"),
            ("inbox: in\n", "features is missing"),
            ("inbox: in\nfeatures: f\ntraining: {months: 1}\n", "training.months must be a whole number in 2...120"),
            ("inbox: in\nfeatures: f\ntraining: {leaves: 3}\n", "unknown key training.leaves"),
            ("inbox: in\nfeatures: f\ngates: {mean_score: [0.9, 0.1]}\n", "gates.mean_score must be [low, high]"),
            ("inbox: in\nfeatures: f\nalert: {webhook: 'file:///etc/passwd'}\n", "alert.webhook must be an http:// or https:// URL"),
            ("inbox: in\nfeatures: f\nmodel: ../x\n", "model"),
            ("inbox: in\nfeatures: f\nsearch: {trials: 0}\n", "search.trials must be a whole number in 1...1000"),
            ("inbox: [in\n", "not valid YAML"),
            ("inbox: in\nfeatures: f\nmonitor: {policy: missing.yaml}\n", "missing.yaml"),
            ("inbox: in\nfeatures: f\nreport: {email: e.yaml}\n", "report needs out"),
            ("inbox: in\nfeatures: f\nlabels: predictions\n", "predictions must not be the label table"),
        ]
        for (text, expected) in cases {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            do {
                _ = try PipelineConfig.load(path)
                Issue.record("accepted: \(text)")
            } catch {
                #expect("\(error)".contains(expected), "\(text) → \(error)")
            }
        }
    }
}
