import Foundation

/// Helpers shared by the test targets (not part of any product).

/// The package's root directory, for fixtures and the built binary.
public let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// Whether the real KKBox rows of ../shared/kkbox-sample lie beside the repository (CI has them; a fresh
/// clone does not, and the tests that read them are then skipped with a message).
public let sharedSamplesPresent = FileManager.default.fileExists(atPath: packageRoot + "/../shared/kkbox-sample")

/// A new empty directory under the system's temporary directory, named after the calling test.
public func temporaryDirectory(_ name: String = #function) -> String {
    let path = NSTemporaryDirectory() + "strata-test-\(name.filter(\.isLetter))-\(UUID().uuidString.prefix(8))"
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A deterministic generator for test data (SplitMix64), so failures reproduce.
public struct TestRandom {
    public var state: UInt64

    public init(state: UInt64) { self.state = state }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    /// Uniform in [0, 1).
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }
}

/// Every row of `table` as text cells (format-spec §10, `ValueText`), NULL as "NULL".
public func tableCells(_ store: String, _ table: String, version: Int? = nil) throws -> [[String]] {
    let opened = try Store(path: store, version: version)
    let entities = try opened.loadEntities()
    let scan = try TableScan(store: opened, table: table)
    var rows: [[String]] = []
    while let batch = try scan.next() {
        for row in 0..<batch.rowCount {
            // Dates as YYYYMMDD, the form of the CSVs the tests compare with.
            rows.append(batch.columns.map { column in ValueText.cell(column, row: row, dates: .compact) { entities.string(Int($0)) } ?? "NULL" })
        }
    }
    return rows
}

import StrataFormat
import StrataStorage
