// Manifests: the input is a manifest file (or, when it lacks the STRATMAN magic, its JSON payload).
// Manifest.decode of the input as given, then of the input with its size and CRC recomputed. A manifest
// that decodes is then committed by hand into a private copy of the fixture store (its files are the
// real segments, online table, runs and feature views) and read through the public reading API:
// Store(path:), loadEntities, every segment of every table opened and read, a TableScan of every table,
// every feature view, online table, run record and model reference resolved, and Store.verify.
// Manifests naming a file outside the store (an absolute path or a ".." component) skip that second
// part: the harness does not let the fuzzer read arbitrary files of the machine.
import Foundation
import FuzzSupport
import StrataFeatures
import StrataFormat
import StrataStorage
import StrataTrain

@_cdecl("FuzzManifest_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    _ = scratchStore
    return runLibFuzzer(argc, argv) { data, size in fuzz(data ?? emptyInput, size) }
}

private let magic = Array("STRATMAN".utf8)
/// Every layer's section rules, checked on each decode as the CLI checks them.
private let sectionsRegistered: Void = StrataTrain.registerManifestSections()

/// The fixture store without its manifests.
private let scratchStore: String = {
    let path = FixtureStore.shared.copy(named: "manifest-store")
    let manifests = path + "/manifest"
    for name in (try? FileManager.default.contentsOfDirectory(atPath: manifests)) ?? [] { Scratch.remove(manifests + "/" + name) }
    return path
}()

private func staysInside(_ path: String) -> Bool {
    !path.hasPrefix("/") && !path.split(separator: "/", omittingEmptySubsequences: false).contains("..") && !path.contains("\0")
}

private func files(of manifest: Manifest) -> [String] {
    var files = manifest.entities.segments.map(\.file)
    for table in manifest.tables.values { files += table.segments.map(\.file) }
    return files + manifest.sectionFiles
}

private func readStore(_ path: String) throws {
    let store = try Store(path: path)
    let entities = try store.loadEntities()
    blackHole &+= entities.count
    for name in store.tableNames {
        let table = try store.table(name)
        blackHole &+= table.rowCount &+ table.sizeBytes &+ table.partitions.count
        for segment in table.segments {
            guard let reader = try? store.openSegment(segment, of: table) else { continue }
            for column in 0..<reader.columns.count {
                for chunk in 0..<reader.chunkCount {
                    if let vector = try? reader.read(column: column, chunk: chunk) { blackHole &+= consume(vector) }
                }
            }
        }
        if let scan = try? TableScan(store: store, table: name) {
            while let batch = try? scan.next() { blackHole &+= batch.rowCount }
        }
    }
    for name in ((try? store.manifest.section(FeatureCatalog.self).views) ?? [:]).keys {
        if let (view, _) = try? FeatureRegistry.load(store: store, name: name) { blackHole &+= view.items.count }
    }
    for name in ((try? store.manifest.section(OnlineCatalog.self).tables) ?? [:]).keys {
        guard let online = try? OnlineTable(store: store, view: name) else { continue }
        for msno in FixtureStore.shared.msnos.prefix(4) { blackHole &+= online.lookup(msno)?.values.count ?? 0 }
    }
    for run in (try? store.manifest.section(RunLog.self).runs) ?? [] { _ = try? TrainingRunner.record(store: store, id: run.id) }
    for name in ((try? store.manifest.section(ModelCatalog.self).models) ?? [:]).keys {
        for reference in [name, name + "@production", name + "@1"] { _ = try? ModelRegistry.resolve(store: store, reference: reference) }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    _ = sectionsRegistered
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? Manifest.decode(bytes)
    let fixed = Fixups.framed(bytes, magic: magic)
    let manifest: Manifest
    do { manifest = try Manifest.decode(fixed) } catch { note("decode: \(error)"); return 0 }
    blackHole &+= (try? manifest.encoded())?.count ?? 0
    guard (1...999_999_999_999).contains(manifest.version), files(of: manifest).allSatisfy(staysInside) else { return 0 }
    let digits = String(manifest.version)
    let file = scratchStore + "/manifest/" + String(repeating: "0", count: 12 - digits.count) + digits + ".manifest"
    Scratch.write(fixed, to: file)
    defer { Scratch.remove(file) }
    do { try readStore(scratchStore); note("read store version \(manifest.version)") } catch { note("read: \(error)") }
    if let report = try? Store.verify(path: scratchStore) { blackHole &+= report.problems.count }
    return 0
}
