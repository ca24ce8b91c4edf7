// Feature views: the input is a feature-view YAML file. FeatureViewParser.parse(yaml:), then, for a view
// that parses, FeaturePlan(view:store:) against the tiny fixture store and PointInTimeEngine.compute for
// eight entities at three cutoffs, with every value of the matrix read.
import Foundation
import FuzzSupport
import StrataFeatures
import StrataFormat
import StrataStorage

@_cdecl("FuzzFeatureView_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    _ = FixtureStore.shared
    return runLibFuzzer(argc, argv) { data, size in fuzz(data ?? emptyInput, size) }
}

private let requests: FeatureRequests = {
    let count = min(8, FixtureStore.shared.msnos.count)
    let days = [20160215, 20160401, 20160601].map { Int64(Dates.dayNumber(yyyymmdd: $0)!) }
    var entities: [Int64] = []
    var cutoffs: [Int64] = []
    for id in 0..<count {
        entities.append(Int64(id))
        cutoffs.append(days[id % days.count])
    }
    return FeatureRequests(entities: entities, cutoffs: cutoffs)
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let yaml = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let view = try? FeatureViewParser.parse(yaml: yaml, file: "fuzz.yaml") else { return 0 }
    blackHole &+= view.contentHash.utf8.count
    let store = FixtureStore.shared.store
    guard let plan = try? FeaturePlan(view: view, store: store) else { return 0 }
    guard let matrix = try? PointInTimeEngine(plan: plan, store: store).compute(requests) else { return 0 }
    for row in 0..<matrix.rowCount {
        for column in 0..<matrix.schemas.count {
            if case .string(let text) = matrix.value(row: row, column: column) { blackHole &+= text.utf8.count }
        }
    }
    return 0
}
