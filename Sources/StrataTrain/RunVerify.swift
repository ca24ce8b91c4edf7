import StrataStorage

/// `strata verify` for the files of training runs: each run record and model file against the checksums
/// the manifest recorded, and each model's structure (what prediction relies on), in every version.
public enum RunVerifier {
    /// The check `Store.verify` runs for this layer.
    public static let check: StoreCheck = { try verify(path: $0) }

    public static func verify(path: String) throws -> VerifyReport {
        var report = VerifyReport()
        var checked = Set<String>()
        for store in try Store.openableVersions(path: path) {
            let runs: [RunEntry]
            do {
                runs = try store.manifest.section(RunLog.self).runs
                _ = try store.manifest.section(ModelCatalog.self)
            } catch let error as StorageError {
                report.problems.append(error.shortDescription)
                continue
            }
            for run in runs where checked.insert("\(run.id)|\(run.file)|\(run.modelFile)|\(String(describing: run.fileCRC))|\(String(describing: run.modelFileCRC))").inserted {
                report.filesChecked += 2
                report.bytesChecked += ((try? FileSystem.fileSize(store.absolute(run.file))) ?? nil ?? 0)
                    + ((try? FileSystem.fileSize(store.absolute(run.modelFile))) ?? nil ?? 0)
                do {
                    let record = try TrainingRunner.record(store: store, id: run.id)
                    let model = try TrainingRunner.model(store: store, runId: run.id)
                    if model.featureNames != record.featureNames {
                        report.problems.append("\(store.absolute(run.modelFile)): its features differ from run \(run.id)'s record")
                    }
                } catch let error as StorageError {
                    report.problems.append(error.shortDescription)
                } catch {
                    report.problems.append("run \(run.id): \(error)")
                }
            }
        }
        return report
    }
}
