#!/usr/bin/env bash
# Checks that another package can depend on Strata's libraries: a throwaway package that depends on this
# one by `.package(path:)` builds in release (SwiftPM refuses unsafe flags in a dependency, so this fails
# if any target of Strata uses them) and runs a program that generates a small dataset, ingests it,
# materialises the online table of fixtures/features/w1.yaml and looks vectors up through OnlineTable.lookup.
#
#   tools/check_dependency.sh          (about five minutes on two cores: a release build of the libraries)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export PATH="/opt/swift/usr/bin:$PATH"
work=${CHECK_DEPENDENCY_WORK:-$(mktemp -d)}
trap '[ -z "${CHECK_DEPENDENCY_WORK:-}" ] && rm -rf "$work"' EXIT
mkdir -p "$work/consumer/Sources/Consumer"
cat > "$work/consumer/Package.swift" <<SWIFT
// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Consumer",
    platforms: [.macOS(.v14)],
    dependencies: [.package(name: "Strata", path: "$root")],
    targets: [
        .executableTarget(name: "Consumer", dependencies: [
            .product(name: "StrataIngest", package: "Strata"),
            .product(name: "StrataFeatures", package: "Strata"),
        ]),
    ]
)
SWIFT
cat > "$work/consumer/Sources/Consumer/main.swift" <<'SWIFT'
import Foundation
import StrataFeatures
import StrataFormat
import StrataIngest
import StrataStorage

// Someone else's service, in process: build a store, materialise the online table, look users up.
let arguments = CommandLine.arguments
let work = arguments[1], view = arguments[2]
var options = GeneratorOptions()
options.memberCount = 300
options.start = 20160101
options.monthCount = 4
options.seed = 3
var generator = DatasetGenerator(options: options)
_ = try generator.generate(into: work + "/csv")
_ = try Ingester.ingest(store: work + "/db", files: ["members", "transactions", "user_logs", "labels"].map { work + "/csv/\($0).csv" })
let day = Dates.dayNumber(yyyymmdd: 20160501)!
let report = try OnlineMaterializer.materialize(storePath: work + "/db", featuresFile: view, viewName: nil, asOfDay: day)
let store = try Store(path: work + "/db")
let table = try OnlineTable(store: store, view: report.view)
let entities = try store.loadEntities()
var found = 0
for id in 0..<entities.count where table.lookup(entities.string(id)) != nil { found += 1 }
guard found == entities.count, table.lookup("no such msno") == nil else {
    print("lookup failed: \(found) of \(entities.count) found")
    exit(1)
}
let first = table.lookup(entities.string(0))!
print("check_dependency: \(found) vectors of \(first.count) features looked up through OnlineTable.lookup in another package")
SWIFT
cd "$work/consumer"
swift build 2>&1 | tail -3
"$work/consumer/.build/debug/Consumer" "$work" "$root/fixtures/features/w1.yaml"
