import Foundation
import StrataStorage
import Yams

/// The one way a YAML config (email, bucket policy, trigger policy) is read: the file, its YAML, a mapping
/// at the top with only `known` keys. `fail` makes the caller's error from a message that already names
/// the file, so each layer keeps its own error type.
public enum ConfigFile {
    public static func mapping(_ path: String, what: String, known: [String], fail: (String) -> Error) throws -> [String: Any] {
        guard !FileSystem.isDirectory(path) else { throw fail("\(what) \(path) is a directory: give the YAML file") }
        let text: String
        do {
            guard let decoded = String(validating: try FileSystem.readFile(path), as: UTF8.self) else { throw fail("\(what) \(path) is not UTF-8 text") }
            text = decoded
        } catch let error as StorageError {
            throw fail("cannot read the \(what) \(path): \(error.description)")
        }
        let node: Any?
        do { node = try Yams.load(yaml: text) } catch {
            // Yams describes the place over several lines: one line is enough here.
            throw fail("\(what) \(path): not valid YAML: " + "\(error)".split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " "))
        }
        guard let root = node as? [String: Any] else { throw fail("\(what) \(path): expected a mapping with the keys \(known.joined(separator: ", "))") }
        let unknown = Set(root.keys).subtracting(known)
        guard unknown.isEmpty else {
            throw fail("\(what) \(path): unknown key\(unknown.count == 1 ? "" : "s") \(unknown.sorted().joined(separator: ", ")) (known: \(known.joined(separator: ", ")))")
        }
        return root
    }
}
