// Online tables: the input is an online-table file (.onl). It replaces the W1 online table of a private
// copy of the fixture store, whose manifest is rewritten to name it with its checksum, and is opened with
// OnlineTable(store:view:) — first with the input's own file CRC, then with the CRC recomputed so that
// mutations reach the layout checks. Every msno of the store (and two unknown ones) is looked up, by
// String and by bytes, and every value of every vector read and copied.
import Foundation
import FuzzSupport
import StrataFeatures
import StrataFormat
import StrataStorage

@_cdecl("FuzzOnline_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    _ = setup
    return runLibFuzzer(argc, argv) { data, size in fuzz(data ?? emptyInput, size) }
}

private struct Setup {
    let path: String
    let base: Manifest
    let entry: OnlineTableEntry
    let manifestFile: String
    let lookups: [String]
}

private let setup: Setup = {
    let fixture = FixtureStore.shared
    let path = fixture.copy(named: "online-store")
    guard let store = try? Store(path: path), let entry = try? store.manifest.section(OnlineCatalog.self).tables[fixture.view] else { harnessFailure("no online table") }
    let version = store.manifest.version + 1
    let digits = String(version)
    let manifestFile = path + "/manifest/" + String(repeating: "0", count: 12 - digits.count) + digits + ".manifest"
    return Setup(path: path, base: store.manifest, entry: entry, manifestFile: manifestFile,
                 lookups: fixture.msnos + ["", "nobody-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx="])
}()

private func open(_ bytes: [UInt8], crc: UInt32) {
    Scratch.write(bytes, to: setup.path + "/" + setup.entry.file)
    var manifest = setup.base
    manifest.version += 1
    manifest.parentVersion = setup.base.version
    var entry = setup.entry
    entry.fileCRC = crc
    entry.sizeBytes = bytes.count
    guard var online = try? manifest.section(OnlineCatalog.self) else { harnessFailure("online section") }
    online.tables[FixtureStore.shared.view] = entry
    guard (try? manifest.setSection(online)) != nil, let encoded = try? manifest.encoded() else { harnessFailure("manifest encode") }
    Scratch.write(encoded, to: setup.manifestFile)
    guard let store = try? Store(path: setup.path) else { harnessFailure("cannot open the online store") }
    let table: OnlineTable
    do { table = try OnlineTable(store: store, view: FixtureStore.shared.view) } catch { note("open: \(error)"); return }
    note("opened, \(table.schemas.count) columns")
    blackHole &+= table.schemas.count &+ table.asOfDay &+ table.rowWidthBytes
    let row = UnsafeMutableRawPointer.allocate(byteCount: max(table.rowWidthBytes, 8), alignment: 8)
    defer { row.deallocate() }
    for msno in setup.lookups {
        guard let vector = table.lookup(msno) else { continue }
        for value in vector.values {
            if case .string(let text) = value { blackHole &+= text.utf8.count }
        }
        for column in 0..<vector.count where !vector.isNull(column) { blackHole &+= Int(truncatingIfNeeded: vector.slot(column)) }
        vector.copyRow(into: row)
        var utf8 = Array(msno.utf8)
        _ = utf8.withUnsafeMutableBytes { table.lookup(UnsafeRawBufferPointer($0)) }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let stated = bytes.count >= 16 ? UInt32(bytes[size - 16]) | UInt32(bytes[size - 15]) << 8 | UInt32(bytes[size - 14]) << 16 | UInt32(bytes[size - 13]) << 24 : 0
    open(bytes, crc: stated)
    let (fixed, crc) = Fixups.online(bytes)
    if fixed != bytes || crc != stated { open(fixed, crc: crc) }
    return 0
}
