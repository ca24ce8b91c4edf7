import StrataFormat
import StrataStorage

/// `strata verify` for the files this layer owns: every registered feature view file (it parses, and its
/// content hash is the manifest's) and every online table (checksums, layout, header against the
/// manifest, columns against the view, string slots), in every committed version.
public enum FeatureStoreVerifier {
    /// The check `Store.verify` runs for this layer.
    public static let check: StoreCheck = { try verify(path: $0) }

    public static func verify(path: String) throws -> VerifyReport {
        var report = VerifyReport()
        var checked = Set<String>()
        for store in try Store.openableVersions(path: path) {
            let catalog: FeatureCatalog
            let online: OnlineCatalog
            do {
                catalog = try store.manifest.section(FeatureCatalog.self)
                online = try store.manifest.section(OnlineCatalog.self)
            } catch {
                report.problems.append(shortDescription(error))
                continue
            }
            for (name, entries) in catalog.views.sorted(by: { $0.key < $1.key }) {
                // Each distinct entry (file and what the manifest says of it) once: a later version that
                // records another hash for the same file is checked too.
                for entry in entries where checked.insert("\(entry.file)|\(entry.hash)|\(name)").inserted {
                    report.filesChecked += 1
                    do {
                        _ = try FeatureRegistry.definition(store: store, name: name, entry: entry)
                    } catch {
                        report.problems.append(shortDescription(error))
                    }
                }
            }
            for (name, entry) in online.tables.sorted(by: { $0.key < $1.key })
            where checked.insert("\(entry.file)|\(entry.fileCRC)|\(entry.asOf)|\(entry.entityCount)|\(entry.featureViewVersion)|\(name)").inserted {
                report.filesChecked += 1
                report.bytesChecked += entry.sizeBytes
                if let file = try? MappedFile(path: store.absolute(entry.file)), OnlineLayout.isFormat1(file.bytes) {
                    // Format 1's trailer: the CRC-32 of every byte before its last 16, which the manifest repeats.
                    let bytes = file.bytes
                    let stored = bytes.loadUnaligned(fromByteOffset: bytes.count - 16, as: UInt32.self).littleEndian
                    if stored == entry.fileCRC, Checksum.crc32(UnsafeRawBufferPointer(rebasing: bytes[0..<(bytes.count - 16)])) == stored {
                        report.notes.append("\(store.absolute(entry.file)) (store version \(store.version)): \(OnlineLayout.format1Advice); it is kept for time travel")
                    } else {
                        report.problems.append("\(store.absolute(entry.file)): online table checksum mismatch (format 1)")
                    }
                    continue
                }
                do {
                    _ = try OnlineTable(store: store, view: name)
                } catch {
                    report.problems.append(shortDescription(error))
                }
            }
        }
        return report
    }

    static func shortDescription(_ error: Error) -> String {
        if let error = error as? StorageError { return error.shortDescription }
        return "\(error)"
    }
}
