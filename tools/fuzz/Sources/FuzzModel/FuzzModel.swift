// Model files: the input is a model file (or, without the STRATMDL magic, its JSON payload).
// ModelFile.decode of the input as given, then with its size and CRC recomputed; a model that decodes
// replaces the model file of the run registered as `churn` in a private copy of the fixture store and
// Predictor.predict scores the W1 training set with it, explaining every row (TreeSHAP for trees, the
// linear contributions for the logistic model). The predictions commit is then undone so that every
// input starts from the same store.
import Foundation
import FuzzSupport
import StrataFormat
import StrataStorage
import StrataTrain

@_cdecl("FuzzModel_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    _ = setup
    return runLibFuzzer(argc, argv) { data, size in fuzz(data ?? emptyInput, size) }
}

private let magic = Array("STRATMDL".utf8)

private struct Setup {
    let path: String
    let baseVersion: Int
    let modelFile: String
}

private let setup: Setup = {
    let path = FixtureStore.shared.copy(named: "model-store")
    guard let store = try? Store(path: path), let entry = try? ModelRegistry.resolve(store: store, reference: "churn"),
        let run = try? store.manifest.section(RunLog.self).entry(entry.runId)
    else { harnessFailure("no model churn in the fixture store") }
    return Setup(path: path, baseVersion: store.version, modelFile: store.absolute(run.modelFile))
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? ModelFile.decode(bytes, path: "input.mdl")
    let fixed = Fixups.framed(bytes, magic: magic)
    let artifact: ModelArtifact
    do { artifact = try ModelFile.decode(fixed, path: "input.mdl") } catch { note("decode: \(error)"); return 0 }
    blackHole &+= artifact.featureNames.count
    Scratch.write(fixed, to: setup.modelFile)
    var request = PredictRequest(model: "churn", outputTable: "fuzz_predictions")
    request.trainingSet = FixtureStore.shared.trainingSet
    request.explain = .all
    request.replace = true
    let predicted: PredictReport?
    do { predicted = try Predictor.predict(storePath: setup.path, request: request) } catch { note("predict: \(error)"); predicted = nil }
    if let report = predicted {
        note("predicted \(report.rowCount) rows")
        blackHole &+= report.rowCount &+ report.top.count
        // Undo the commit: drop the new manifests and the predictions table's files.
        for version in (setup.baseVersion + 1)...report.committedVersion {
            let digits = String(version)
            Scratch.remove(setup.path + "/manifest/" + String(repeating: "0", count: 12 - digits.count) + digits + ".manifest")
        }
        Scratch.remove(setup.path + "/tables/fuzz_predictions")
    }
    return 0
}
