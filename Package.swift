// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Strata",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "strata", targets: ["strata"]),
        .library(name: "StrataIngest", targets: ["StrataIngest"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // The system's compression and checksum libraries (Debian: liblz4-dev, libzstd-dev, zlib1g-dev).
        .systemLibrary(name: "CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // Bytes <-> column chunks. Knows nothing of files, tables or stores.
        .target(name: "StrataFormat", dependencies: ["CLZ4", "CZstd", "CZlib"]),
        // Directories, mmap, segment files, manifests, commits, the entity dictionary.
        .target(name: "StrataStorage", dependencies: ["StrataFormat"]),
        // CSV parsing, the KKBox schemas, ingest into a store, and the dataset generator.
        .target(name: "StrataIngest", dependencies: ["StrataStorage"]),
        // The command-line tool: a thin layer over the libraries above.
        .executableTarget(
            name: "strata",
            dependencies: [
                "StrataIngest",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        .testTarget(name: "StrataFormatTests", dependencies: ["StrataFormat"]),
        .testTarget(name: "StrataStorageTests", dependencies: ["StrataStorage"]),
        .testTarget(name: "StrataIngestTests", dependencies: ["StrataIngest"]),
        .testTarget(name: "StrataCLITests", dependencies: ["StrataIngest"]),
    ]
)
