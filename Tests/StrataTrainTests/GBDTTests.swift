import Foundation
import StrataTestSupport
import Testing
import StrataFeatures
@testable import StrataStorage
@testable import StrataTrain


/// A synthetic problem with known structure: churn when x0 > 0.6 and x1 < 0.3, or when the category is
/// 3 or 7, or when x2 is missing; `noise` is pure noise.
func synthetic(rows: Int, seed: UInt64, noise: Double = 0.05) -> Dataset {
    var random = TestRandom(state: seed)
    var features = Array(repeating: [Double](), count: 5)
    var labels: [Double] = []
    for _ in 0..<rows {
        let x0 = random.uniform(), x1 = random.uniform()
        let x2 = random.uniform() < 0.1 ? Double.nan : random.uniform()
        let category = Double(Int(random.uniform() * 10))
        var churn = (x0 > 0.6 && x1 < 0.3) || category == 3 || category == 7 || x2.isNaN
        if random.uniform() < noise { churn.toggle() }
        features[0].append(x0)
        features[1].append(x1)
        features[2].append(x2)
        features[3].append(category)
        features[4].append(random.uniform())
        labels.append(churn ? 1 : 0)
    }
    return Dataset(featureNames: ["x0", "x1", "x2", "category", "noise"], features: features, categorical: [false, false, false, true, false],
                   categoryNames: [[], [], [], [], []], labels: labels, cutoffs: Array(repeating: 0, count: rows), entities: Array(repeating: 0, count: rows))
}

@Suite struct GBDTTests {
    var parameters: GBDTParameters {
        var parameters = GBDTParameters()
        parameters.rounds = 60
        parameters.learningRate = 0.2
        return parameters
    }

    @Test func treesRecoverKnownStructure() throws {
        let data = synthetic(rows: 6000, seed: 1)
        let (model, history) = try GBDTTrainer(parameters: parameters).train(data, trainRows: Array(0..<4000), validRows: Array(4000..<6000))
        let probabilities = model.probabilities(data, rows: Array(4000..<6000))
        let auc = try #require(Metrics.auc(labels: Array(data.labels[4000...]), scores: probabilities))
        // 5% of labels are flipped: a perfect model scores about 0.95; a useless one 0.5.
        #expect(auc > 0.93, "AUC \(auc)")
        #expect(history.validLogLoss.last! < history.validLogLoss.first!)
        // The signals carry the gain; the noise feature gets a small share.
        let importance = model.gainImportance
        let total = importance.reduce(0, +)
        #expect(importance[4] < 0.1 * total && importance[4] < importance[0] && importance[4] < importance[2] && importance[4] < importance[3], "\(importance)")
        #expect(importance[3] > 0.2 * total && importance[2] > 0.05 * total && importance[0] > 0.05 * total, "\(importance)")
        // A missing x2 means churn: rows with NaN score higher than the rest.
        let missing = (4000..<6000).filter { data.features[2][$0].isNaN }
        let present = (4000..<6000).filter { !data.features[2][$0].isNaN }
        let scores = model.rawScores(data, rows: Array(4000..<6000))
        let meanMissing = missing.map { scores[$0 - 4000] }.reduce(0, +) / Double(missing.count)
        let meanPresent = present.map { scores[$0 - 4000] }.reduce(0, +) / Double(present.count)
        #expect(meanMissing > meanPresent + 1, "the learned default direction sends NaN to the churn side")
        // Categories 3 and 7 are found by categorical splits.
        #expect(model.trees.contains { $0.isCategorical.contains(true) })
    }

    @Test func treeSHAPPlusBaseEqualsTheRawScore() throws {
        let data = synthetic(rows: 3000, seed: 2, noise: 0.2)
        var parameters = self.parameters
        parameters.featureFraction = 0.75
        parameters.baggingFraction = 0.8
        parameters.baggingFrequency = 1
        let (model, _) = try GBDTTrainer(parameters: parameters).train(data, trainRows: Array(0..<2000), validRows: Array(2000..<3000))
        let rows = Array(2000..<2300)
        let contributions = model.contributions(data, rows: rows)
        let scores = model.rawScores(data, rows: rows)
        for (index, phi) in contributions.enumerated() {
            let total = phi.reduce(model.expectedValue, +)
            #expect(abs(total - scores[index]) < 1e-9, "row \(rows[index]): \(total) vs \(scores[index])")
        }
        // Shapley values of a feature the model never used are zero.
        let unused = (0..<5).filter { feature in !model.trees.contains { $0.splitFeature.contains(Int32(feature)) } }
        for feature in unused { #expect(contributions.allSatisfy { $0[feature] == 0 }) }
    }

    @Test func quadratureTreeSHAPEqualsTheRecursiveAlgorithm() throws {
        // Deep trees with repeated features on a path and categorical splits: every case of the recursion.
        let data = synthetic(rows: 4000, seed: 9, noise: 0.3)
        var parameters = self.parameters
        parameters.numLeaves = 63
        parameters.minDataInLeaf = 5
        parameters.rounds = 40
        let (model, _) = try GBDTTrainer(parameters: parameters).train(data, trainRows: Array(0..<3000), validRows: Array(3000..<4000))
        let rows = Array(3000..<3400)
        let reference = model.referenceContributions(data, rows: rows)
        // Both forms: quadrature leaf by leaf (a few rows) and the leaf tables (many rows, in blocks: 400
        // rows make a full block and a partial one).
        let explainer = TreeExplainer(model)
        for bulk in [false, true] {
            let fast = explainer.contributions(data, rows: rows, bulk: bulk)
            var largest = 0.0
            for (a, b) in zip(fast, reference) { for (x, y) in zip(a, b) { largest = max(largest, abs(x - y)) } }
            #expect(largest < 1e-10, "largest difference \(largest) (tables: \(bulk))")
        }
        #expect(explainer.tables.quadratureLeaves == 0 && explainer.tables.valueCount > 0)
        // Rows that repeat one another fall in one group per tree: each copy gets its group's numbers.
        let repeated = explainer.contributions(data, rows: Array(repeating: 3000, count: 70) + [3001, 3000], bulk: true)
        #expect(repeated.allSatisfy { $0 == repeated[0] || $0 == repeated[70] } && repeated[71] == repeated[0] && repeated[70] != repeated[0])
        #expect(zip(repeated[0], reference[0]).allSatisfy { abs($0 - $1) < 1e-10 })
        #expect(zip(repeated[70], reference[1]).allSatisfy { abs($0 - $1) < 1e-10 })
        #expect(GaussLegendre.unitInterval(count: 1).nodes == [0.5])
        for count in 1...12 {
            // Exact for t^(2·count − 1): its integral over [0, 1] is 1 / (2·count).
            let (nodes, weights) = GaussLegendre.unitInterval(count: count)
            let integral = zip(nodes, weights).reduce(0.0) { $0 + $1.1 * pow($1.0, Double(2 * count - 1)) }
            #expect(abs(integral - 1 / Double(2 * count)) < 1e-13, "\(count) nodes")
        }
    }

    @Test func quadratureTreeSHAPEqualsTheRecursiveAlgorithmOnPathsOfManyFeatures() throws {
        // A parity of 24 features makes paths that split on more than 16 distinct features: leaves whose
        // quadrature needs more than one SIMD vector of nodes.
        var random = TestRandom(state: 5)
        let width = 24, rows = 6000
        var features = Array(repeating: [Double](), count: width)
        var labels: [Double] = []
        for _ in 0..<rows {
            var ones = 0
            for feature in 0..<width {
                let value = random.uniform() < 0.05 ? Double.nan : random.uniform()
                if value > 0.5 { ones += 1 }
                features[feature].append(value)
            }
            labels.append(ones % 2 == 0 ? 1 : 0)
        }
        let data = Dataset(featureNames: (0..<width).map { "f\($0)" }, features: features, categorical: Array(repeating: false, count: width),
                           categoryNames: Array(repeating: [], count: width), labels: labels, cutoffs: Array(repeating: 0, count: rows),
                           entities: Array(repeating: 0, count: rows))
        var parameters = self.parameters
        parameters.numLeaves = 1024
        parameters.minDataInLeaf = 1
        parameters.rounds = 4
        let (model, _) = try GBDTTrainer(parameters: parameters).train(data, trainRows: Array(0..<5000), validRows: Array(5000..<6000))
        let explainer = TreeExplainer(model)
        #expect(explainer.leaves.maxDistinct > 16, "deepest path: \(explainer.leaves.maxDistinct) distinct features")
        let rowsToExplain = Array(5000..<5200)
        let reference = model.referenceContributions(data, rows: rowsToExplain)
        let scores = model.rawScores(data, rows: rowsToExplain)
        for bulk in [false, true] {
            let fast = explainer.contributions(data, rows: rowsToExplain, bulk: bulk)
            var largest = 0.0
            for (index, (a, b)) in zip(fast, reference).enumerated() {
                for (x, y) in zip(a, b) { largest = max(largest, abs(x - y)) }
                #expect(abs(a.reduce(model.expectedValue, +) - scores[index]) < 1e-9)
            }
            #expect(largest < 1e-10, "largest difference \(largest) (tables: \(bulk))")
        }
        // Deep leaves are left to quadrature, the others have tables: the bulk form mixes both. Trees of more
        // than 64 splits are not grouped: every row is explained.
        #expect(model.trees.contains { $0.splitFeature.count > 64 })
        #expect(explainer.tables.quadratureLeaves > 0 && explainer.tables.valueCount > 0)
    }

    @Test func trainingIsDeterministicForASeed() throws {
        let data = synthetic(rows: 3000, seed: 3, noise: 0.2)
        var parameters = self.parameters
        parameters.baggingFraction = 0.7
        parameters.baggingFrequency = 1
        parameters.featureFraction = 0.5
        let first = try GBDTTrainer(parameters: parameters).train(data, trainRows: Array(0..<2500), validRows: []).0
        let second = try GBDTTrainer(parameters: parameters).train(data, trainRows: Array(0..<2500), validRows: []).0
        #expect(first == second)
        parameters.seed = 43
        let third = try GBDTTrainer(parameters: parameters).train(data, trainRows: Array(0..<2500), validRows: []).0
        #expect(first != third)
    }

    @Test func savedAndReloadedModelsPredictBitIdentically() throws {
        let data = synthetic(rows: 3000, seed: 4, noise: 0.2)
        let (gbdt, _) = try GBDTTrainer(parameters: parameters).train(data, trainRows: Array(0..<2000), validRows: [])
        let logistic = LogisticModel.train(data, rows: Array(0..<2000))
        for artifact in [ModelArtifact(kind: .gbdt, featureNames: data.featureNames, gbdt: gbdt, logistic: nil),
                         ModelArtifact(kind: .logistic, featureNames: data.featureNames, gbdt: nil, logistic: logistic)] {
            let bytes = try ModelFile.encode(artifact)
            let reloaded = try ModelFile.decode(bytes, path: "model")
            #expect(reloaded == artifact)
            let rows = Array(2000..<3000)
            #expect(reloaded.probabilities(data, rows: rows).map(\.bitPattern) == artifact.probabilities(data, rows: rows).map(\.bitPattern))
        }
    }

    /// A feature NULL on every row (a derived expression that never applies) still gives a model its own
    /// reader accepts: one empty value bin, every row in the missing bin.
    @Test func aFeatureWithoutValuesStillMakesAReadableModel() throws {
        var data = synthetic(rows: 1000, seed: 6)
        data.features[2] = [Double](repeating: .nan, count: 1000)
        let (gbdt, _) = try GBDTTrainer(parameters: parameters).train(data, trainRows: Array(0..<800), validRows: [])
        let artifact = ModelArtifact(kind: .gbdt, featureNames: data.featureNames, gbdt: gbdt, logistic: nil)
        #expect(artifact.problems().isEmpty, "\(artifact.problems())")
        let reloaded = try ModelFile.decode(try ModelFile.encode(artifact), path: "model")
        #expect(reloaded.probabilities(data, rows: Array(800..<1000)).allSatisfy { $0 > 0 && $0 < 1 })
    }

    @Test func damagedOrNewerModelFilesAreRefused() throws {
        let data = synthetic(rows: 500, seed: 5)
        let (gbdt, _) = try GBDTTrainer(parameters: parameters).train(data, trainRows: Array(0..<500), validRows: [])
        let bytes = try ModelFile.encode(ModelArtifact(kind: .gbdt, featureNames: data.featureNames, gbdt: gbdt, logistic: nil))
        var damaged = bytes
        damaged[damaged.count / 2] ^= 4
        #expect(throws: StorageError.self) { try ModelFile.decode(damaged, path: "m") }
        #expect(throws: StorageError.self) { try ModelFile.decode(Array(bytes.prefix(30)), path: "m") }
        // A file from a future Strata: min reader version 2, checksum made valid again.
        var newer = Array(bytes.dropLast(4))
        newer[10] = 2
        let crc = StrataFormatChecksum.crc32(newer)
        newer += [UInt8(crc & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 24)]
        do {
            _ = try ModelFile.decode(newer, path: "m")
            Issue.record("a newer model file was accepted")
        } catch let error as StorageError {
            #expect(error.description.contains("upgrade Strata"))
        }
    }

    /// The classes the model fuzzer found (tools/fuzz/findings/model-*.bin): each is refused on decode with
    /// a reason, before prediction or TreeSHAP could index out of range or unwrap nil.
    @Test func modelsThatLieAreRefusedOnDecode() throws {
        let data = synthetic(rows: 500, seed: 5)
        let (gbdt, _) = try GBDTTrainer(parameters: parameters).train(data, trainRows: Array(0..<500), validRows: [])
        let logistic = LogisticModel.train(data, rows: Array(0..<500))
        func refused(_ artifact: ModelArtifact, _ reason: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let bytes = try ModelFile.encode(artifact)
            do {
                _ = try ModelFile.decode(bytes, path: "m")
                Issue.record("accepted: \(reason)", sourceLocation: sourceLocation)
            } catch let error as StorageError {
                #expect(error.description.contains(reason), "\(error)", sourceLocation: sourceLocation)
            }
        }
        let names = data.featureNames
        // model-3: a kind without its section.
        try refused(ModelArtifact(kind: .gbdt, featureNames: names, gbdt: nil, logistic: logistic), "a gbdt model without its trees")
        try refused(ModelArtifact(kind: .logistic, featureNames: names, gbdt: gbdt, logistic: nil), "a logistic model without its weights")
        // model-4: fewer weights than features + 1.
        var short = logistic
        short.weights.removeLast()
        try refused(ModelArtifact(kind: .logistic, featureNames: names, gbdt: nil, logistic: short), "do not all describe")
        // model-5: category texts for another number of features.
        var texts = logistic
        texts.categoryNames = [["a"]]
        try refused(ModelArtifact(kind: .logistic, featureNames: names, gbdt: nil, logistic: texts), "category texts describe 1 features")
        // model-2: more feature names than bin mappers.
        var wider = gbdt
        wider.featureNames.append("extra")
        try refused(ModelArtifact(kind: .gbdt, featureNames: names + ["extra"], gbdt: wider, logistic: nil), "bin mappers")
        // model-1: a split on a feature that does not exist.
        var split = gbdt
        if let tree = split.trees.firstIndex(where: { !$0.splitFeature.isEmpty }) { split.trees[tree].splitFeature[0] = Int32(names.count) }
        try refused(ModelArtifact(kind: .gbdt, featureNames: names, gbdt: split, logistic: nil), "which does not exist")
        // The trained models themselves are accepted.
        #expect(ModelArtifact(kind: .gbdt, featureNames: names, gbdt: gbdt, logistic: nil).problems().isEmpty)
        #expect(ModelArtifact(kind: .logistic, featureNames: names, gbdt: nil, logistic: logistic).problems().isEmpty)
    }

    @Test func logisticBaselineLearnsALinearSignal() throws {
        var random = TestRandom(state: 9)
        var x = [Double](), y = [Double]()
        for _ in 0..<4000 {
            let value = random.uniform() * 4 - 2
            x.append(value)
            y.append(random.uniform() < 1 / (1 + exp(-(2 * value - 0.5))) ? 1 : 0)
        }
        let data = Dataset(featureNames: ["x"], features: [x], categorical: [false], categoryNames: [[]], labels: y,
                           cutoffs: Array(repeating: 0, count: 4000), entities: Array(repeating: 0, count: 4000))
        let model = LogisticModel.train(data, rows: Array(0..<4000))
        // The weight is per standard deviation of x (about 1.15): close to 2 * 1.15.
        #expect(abs(model.weights[1] - 2 * model.scales[0]) < 0.3, "\(model.weights)")
    }

    @Test func metricsOnAHandCheckedCase() throws {
        let labels: [Double] = [1, 0, 1, 0, 0, 1, 0, 0, 0, 0]
        let scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05]
        // Positives at ranks 10, 8, 5 of 10: U = (10 + 8 + 5) - 6 = 17 of 3 * 7 = 21 pairs.
        #expect(Metrics.auc(labels: labels, scores: scores)! == 17.0 / 21.0)
        let metrics = Metrics.compute(labels: labels, probabilities: scores, threshold: 0.55)
        #expect(metrics.precisionTopDecile == 1 && metrics.recallTopDecile == 1.0 / 3.0)
        #expect(metrics.truePositives == 2 && metrics.falsePositives == 2 && metrics.falseNegatives == 1 && metrics.trueNegatives == 5)
        #expect(Metrics.auc(labels: [1, 0], scores: [0.5, 0.5]) == 0.5)
        #expect(Metrics.auc(labels: [1, 1], scores: [0.5, 0.6]) == nil)
    }
}

import StrataFormat
typealias StrataFormatChecksum = Checksum

@Suite struct BatchedFeatureTests {
    /// A store of 400 generated members over 5 months with the W1 training set `w1`.
    static func storeWithW1(_ name: String = #function) throws -> (store: String, report: TrainingSetReport) {
        let path = try generatedStore(members: 400, months: 5, labelMonths: 2, name: name).store
        let report = try TrainingSetBuilder.build(storePath: path, request: TrainingSetRequest(
            featuresFile: packageRoot + "/fixtures/features/w1.yaml", labelsTable: "labels", outputTable: "w1"))
        return (path, report)
    }

    /// A string feature the model has no encoding for is coded by first appearance. Scored in batches,
    /// the codes carry from batch to batch: each batch's are what one call over all its rows gives.
    @Test func firstAppearanceCodesCarryAcrossBatches() throws {
        let (path, report) = try Self.storeWithW1()
        let store = try Store(path: path)
        let day = Int64(Dates.dayNumber(yyyymmdd: 20_160_501)!)
        func features(_ entities: [Int64], _ firstSeen: inout [String: [String]]) throws -> Dataset {
            try Predictor.features(store: store, lineage: report.lineage, entities: entities, cutoffs: entities.map { _ in day }, encoding: [:],
                                   firstSeen: &firstSeen)
        }
        var unused: [String: [String]] = [:]
        let all = (0..<Int64(store.manifest.entities.count)).map { $0 }
        let first = try features(all, &unused)
        let gender = try #require(first.featureNames.firstIndex(of: "gender"))
        try #require(first.categoryNames[gender].count >= 2)
        // Put the first user whose gender is the second text seen at the front: one call codes it 0.
        let split = try #require(first.features[gender].firstIndex(of: 1))
        let reordered = Array(all[split...]) + Array(all[..<split])
        var fresh: [String: [String]] = [:]
        let whole = try features(reordered, &fresh)
        var carried: [String: [String]] = [:]
        let batches = [Array(reordered[..<(reordered.count - split)]), Array(reordered[(reordered.count - split)...])]
        let parts = try batches.map { try features($0, &carried) }
        let joined = parts.flatMap { $0.features[gender] }
        #expect(whole.features[gender][0] == 0 && joined.count == whole.rowCount)
        #expect(zip(joined, whole.features[gender]).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) })
        #expect(parts.last!.categoryNames[gender] == whole.categoryNames[gender])
    }

    /// A logistic model keeps the texts of its string features' codes: scoring codes `gender` as the
    /// training set did, whatever order the users come in. Models saved before it (no texts) still load.
    @Test func logisticModelsScoreStringFeaturesWithTheirTrainingCodes() throws {
        let (path, _) = try Self.storeWithW1()
        let store = try Store(path: path)
        let data = try Dataset.load(store: store, table: "w1")
        let gender = try #require(data.featureNames.firstIndex(of: "gender"))
        try #require(data.categoryNames[gender].count >= 2)
        let model = LogisticModel.train(data, rows: Array(0..<data.rowCount))
        #expect(model.categoryNames?[gender] == data.categoryNames[gender])
        let artifact = ModelArtifact(kind: .logistic, featureNames: data.featureNames, gbdt: nil, logistic: model)
        #expect(try ModelFile.decode(try ModelFile.encode(artifact), path: "m") == artifact)
        // Registered and scored: the scorer codes gender with the model's texts, so users scored in another
        // order (where first appearance would swap the codes) get the codes training gave them.
        var request = TrainRequest(trainingSet: "w1")
        request.model = .logistic
        request.register = "baseline"
        let trained = try TrainingRunner.run(storePath: path, request: request)
        let scorer = try ModelScorer(store: try Store(path: path), reference: "baseline@\(try #require(trained.registeredVersion))")
        let texts = try #require(scorer.categoryEncoding["gender"])
        #expect(texts.count >= 2)
        let lineage = try #require(scorer.run.lineage)
        let day = Int64(Dates.dayNumber(yyyymmdd: 20_160_501)!)
        func features(_ users: [Int64], _ encoding: [String: [String]]) throws -> Dataset {
            var unused: [String: [String]] = [:]
            return try Predictor.features(store: store, lineage: lineage, entities: users, cutoffs: users.map { _ in day }, encoding: encoding,
                                          firstSeen: &unused)
        }
        // Users ordered so that the first one's gender is the model's second text: first appearance would code it 0.
        let all = (0..<Int64(store.manifest.entities.count)).map { $0 }
        let plain = try features(all, [:])
        let column = try #require(plain.featureNames.firstIndex(of: "gender"))
        let first = try #require(all.indices.first { row in
            !plain.features[column][row].isNaN && plain.categoryNames[column][Int(plain.features[column][row])] == texts[1]
        })
        let users = [all[first]] + all.filter { $0 != all[first] }
        let scored = try features(users, scorer.categoryEncoding)
        let unencoded = try features(users, [:])
        #expect(scored.features[column][0] == 1 && unencoded.features[column][0] == 0)
        // Every user's code names the same text either way; only the model's encoding gives the model's codes.
        for row in 0..<scored.rowCount where !scored.features[column][row].isNaN {
            #expect(texts[Int(scored.features[column][row])] == unencoded.categoryNames[column][Int(unencoded.features[column][row])])
        }
        // A model file from before: no categoryNames key.
        var old = model
        old.categoryNames = nil
        let oldArtifact = ModelArtifact(kind: .logistic, featureNames: data.featureNames, gbdt: nil, logistic: old)
        let text = String(decoding: try ModelFile.encode(oldArtifact), as: UTF8.self)
        #expect(!text.contains("categoryNames"))
        #expect(try ModelFile.decode(try ModelFile.encode(oldArtifact), path: "m").logistic?.categoryNames == nil)
    }
}
