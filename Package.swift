// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Strata",
    // macOS 15: the window sums use Int128.
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "strata", targets: ["strata"]),
        .executable(name: "strata-bench", targets: ["strata-bench"]),
        .library(name: "StrataIngest", targets: ["StrataIngest"]),
        .library(name: "StrataQuery", targets: ["StrataQuery"]),
        .library(name: "StrataFeatures", targets: ["StrataFeatures"]),
        .library(name: "StrataFormat", targets: ["StrataFormat"]),
        .library(name: "StrataStorage", targets: ["StrataStorage"]),
        .library(name: "StrataTrain", targets: ["StrataTrain"]),
        .library(name: "StrataReport", targets: ["StrataReport"]),
        .library(name: "StrataMonitor", targets: ["StrataMonitor"]),
        .library(name: "StrataServe", targets: ["StrataServe"]),
        .library(name: "StrataPipeline", targets: ["StrataPipeline"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.0"),
    ],
    targets: [
        // The system's compression and checksum libraries (Debian: liblz4-dev, libzstd-dev, zlib1g-dev).
        .systemLibrary(name: "CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // Charts as PNG (Debian: libcairo2-dev) and mail over SMTP (libcurl4-openssl-dev), for the weekly report.
        .systemLibrary(name: "CCairo", pkgConfig: "cairo", providers: [.apt(["libcairo2-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // CRC-32C with the CPU's instruction (content fingerprints of ingested files).
        .target(name: "CStrataCRC"),
        // Memory hints (prefetch) for loops over rows in an order the hardware cannot guess.
        .target(name: "CStrataHints"),

        // Bytes <-> column chunks. Knows nothing of files, tables or stores.
        .target(name: "StrataFormat", dependencies: ["CLZ4", "CZstd", "CZlib", "CStrataCRC"]),
        // Directories, mmap, segment files, manifests, commits, the entity dictionary.
        .target(name: "StrataStorage", dependencies: ["StrataFormat", "CStrataHints"]),
        // CSV parsing, the KKBox schemas, ingest into a store, and the dataset generator.
        .target(name: "StrataIngest", dependencies: ["StrataStorage", .product(name: "Yams", package: "Yams")]),
        // SQL over the store, and the kernel every layer above computes with: vectors, scalar functions and
        // operators, aggregate states (grouped and over ranges), one semantics checked against DuckDB.
        .target(name: "StrataQuery", dependencies: ["StrataStorage"]),
        // Feature views, point-in-time training sets and the online store.
        .target(
            name: "StrataFeatures",
            dependencies: ["StrataQuery", "CStrataHints", .product(name: "Yams", package: "Yams")]),
        // Gradient-boosted trees and a logistic baseline trained from training sets; runs, registry, predictions.
        .target(name: "StrataTrain", dependencies: ["StrataFeatures", "CStrataHints"]),
        // The weekly churn report: who expires next month, scores, reasons in words, discounts chosen by the
        // uplift model, charts (SVG and PNG), the HTML and CSV, its record in the store, and the email.
        .target(name: "StrataReport", dependencies: ["StrataTrain", "StrataIngest", "CCairo", "CCurl", .product(name: "Yams", package: "Yams")]),
        // Drift between training data and today's users (PSI, KS, JS, Wasserstein, chi-square), the trigger policy.
        .target(name: "StrataMonitor", dependencies: ["StrataReport", .product(name: "Yams", package: "Yams")]),
        // The continuous-training loop: ingest → verify → materialise → monitor → retrain or search → gates →
        // stage → acceptance → production → predict → report → alert, each step recorded and resumable.
        .target(name: "StrataPipeline", dependencies: ["StrataMonitor", "StrataIngest"]),
        // HTTP serving of online features and churn scores, the serving log, metrics and the dashboard.
        .target(
            name: "StrataServe",
            dependencies: [
                "StrataTrain",
                "StrataReport",
                "StrataPipeline",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        // The command-line tool: a thin layer over the libraries above.
        .executableTarget(
            name: "strata",
            dependencies: [
                "StrataIngest",
                "StrataQuery",
                "StrataFeatures",
                "StrataTrain",
                "StrataReport",
                "StrataMonitor",
                "StrataPipeline",
                "StrataServe",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // In-process timings for tools/bench (online lookups, repeated queries), kept out of the product CLI.
        .executableTarget(
            name: "strata-bench",
            dependencies: ["StrataQuery", "StrataFeatures", "StrataTrain", "StrataMonitor", .product(name: "ArgumentParser", package: "swift-argument-parser")]),

        // Helpers shared by the tests: fixtures' location, temporary directories, seeded random data, generated stores.
        .target(name: "StrataTestSupport", dependencies: ["StrataStorage", "StrataIngest"], path: "Sources/StrataTestSupport"),
        .testTarget(name: "StrataFormatTests", dependencies: ["StrataFormat", "StrataTestSupport"]),
        .testTarget(name: "StrataStorageTests", dependencies: ["StrataStorage", "StrataTestSupport"]),
        .testTarget(name: "StrataIngestTests", dependencies: ["StrataIngest", "StrataTestSupport"]),
        .testTarget(name: "StrataFeaturesTests", dependencies: ["StrataFeatures", "StrataIngest", "StrataTestSupport"]),
        .testTarget(name: "StrataQueryTests", dependencies: ["StrataQuery", "StrataIngest", "StrataTestSupport"]),
        .testTarget(name: "StrataTrainTests", dependencies: ["StrataTrain", "StrataIngest", "StrataTestSupport"]),
        .testTarget(name: "StrataReportTests", dependencies: ["StrataReport", "StrataIngest", "StrataTestSupport"]),
        .testTarget(name: "StrataMonitorTests", dependencies: ["StrataMonitor", "StrataTestSupport"]),
        .testTarget(name: "StrataPipelineTests", dependencies: ["StrataPipeline", "StrataTestSupport"]),
        .testTarget(name: "StrataServeTests", dependencies: ["StrataServe", .product(name: "Hummingbird", package: "hummingbird")]),
        .testTarget(name: "StrataCLITests", dependencies: ["StrataIngest", "StrataFeatures", "StrataTrain", "StrataTestSupport"]),
    ]
)
