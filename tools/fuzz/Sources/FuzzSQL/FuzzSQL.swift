// SQL: the input is one query (UTF-8). Parser.parse alone, then Query(sql, store:) — parse, bind, plan
// and open against the tiny fixture store — and, when that succeeds, EXPLAIN text or a full run with
// every cell rendered. One worker thread, a 256 MB query memory limit.
import Foundation
import FuzzSupport
import StrataQuery
import StrataStorage

@_cdecl("FuzzSQL_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    _ = FixtureStore.shared
    return runLibFuzzer(argc, argv) { data, size in fuzz(data ?? emptyInput, size) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let sql = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    _ = try? Parser.parse(sql)
    guard let query = try? Query(sql, store: FixtureStore.shared.store, memoryLimitBytes: 256 << 20, workerCount: 1) else { return 0 }
    blackHole &+= query.columnNames.count &+ query.columnTypes.count
    blackHole &+= query.explain().utf8.count
    if query.isExplain { return 0 }
    var rows = 0
    try? query.run { result in
        for row in 0..<result.count {
            for column in 0..<query.columnNames.count {
                blackHole &+= (try result.text(row: row, column: column))?.utf8.count ?? 0
            }
        }
        rows += result.count
        return rows < 100_000
    }
    return 0
}
