// swift-tools-version: 6.0
// libFuzzer targets for Strata (see README.md). Build only through tools/fuzz.sh, which passes
// -sanitize=fuzzer,address; a plain `swift build` of this package links no fuzzer runtime.
import PackageDescription

/// The Strata checkout to fuzz: this repository by default; STRATA_FUZZ_ROOT may name another (for example a
/// snapshot of a commit while the working tree is being edited).
let strataPath = Context.environment["STRATA_FUZZ_ROOT"] ?? "../.."

/// Every Strata library a target may call.
let strataProducts: [Target.Dependency] = ["StrataFormat", "StrataStorage", "StrataIngest", "StrataQuery", "StrataFeatures", "StrataTrain"]
    .map { .product(name: $0, package: "Strata") }

let fuzzTargets = ["FuzzCSV", "FuzzSQL", "FuzzFeatureView", "FuzzSegment", "FuzzManifest", "FuzzOnline", "FuzzModel"]

let package = Package(
    name: "StrataFuzz",
    platforms: [.macOS(.v13)],
    products: fuzzTargets.map { .executable(name: $0, targets: [$0]) },
    dependencies: [.package(name: "Strata", path: strataPath)],
    targets: [
        // Declares libFuzzer's LLVMFuzzerRunDriver for the entry point (see FuzzSupport/Entry.swift).
        .target(name: "CFuzzShim"),
        // The tiny store every target shares, temporary files, CRC fix-ups.
        .target(
            name: "FuzzSupport",
            dependencies: ["CFuzzShim"] + strataProducts),
    ] + fuzzTargets.map { name in
        .executableTarget(
            name: name,
            dependencies: ["FuzzSupport"] + strataProducts)
    },
    swiftLanguageModes: [.v5]
)
