import Foundation
import StrataFormat

/// A JSON value held verbatim: the manifest keeps the sections of the layers above storage as JSON it
/// does not interpret. Integers keep their exact value (CRCs, counts); other numbers are doubles.
public enum JSONValue: Codable, Equatable, Sendable {
    case null
    case bool(Bool)
    case integer(Int64)
    case unsigned(UInt64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(UInt64.self) {
            self = .unsigned(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .unsigned(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// `value` as JSON (through its Codable form).
    public init<T: Encodable>(encoding value: T) throws {
        self = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(value))
    }

    /// This JSON decoded as `T`.
    public func decoded<T: Decodable>(as type: T.Type) throws -> T {
        try JSONDecoder().decode(T.self, from: JSONEncoder().encode(self))
    }

    /// Every string under a key named `file` or ending in `File`, at any depth: by convention (format-spec
    /// §7) the store files a section refers to, which storage keeps from garbage collection and checks.
    public var referencedFiles: [String] {
        var files: [String] = []
        func walk(_ value: JSONValue, key: String?) {
            switch value {
            case .string(let text) where key.map({ $0 == "file" || $0.hasSuffix("File") }) ?? false: files.append(text)
            case .array(let items): for item in items { walk(item, key: key) }
            case .object(let fields): for (name, field) in fields { walk(field, key: name) }
            default: break
            }
        }
        walk(self, key: nil)
        return files
    }
}

/// A namespaced section of the manifest, owned by one layer above storage (feature views, online tables,
/// runs, the model registry; serving, reports and monitoring to come). Storage stores it as opaque JSON
/// under `key`; the owning layer decodes it, and checks it with `problems(in:)` every time it does, so a
/// manifest whose checksum is right but whose section lies is refused by the layer that would trust it.
public protocol ManifestSection: Codable, Sendable {
    /// The manifest key; one layer owns each.
    static var key: String { get }
    /// The section of a store that has none yet.
    static var empty: Self { get }
    /// Whether the section holds nothing (then it is left out of the manifest).
    var isEmpty: Bool { get }
    /// Every broken rule, one line each, checked against the whole manifest (other sections included).
    func problems(in manifest: Manifest) -> [String]
}

/// The section types whose rules every manifest decode checks, as the layers that own them register them
/// (`StrataFeatures.registerManifestSections()`, `StrataTrain.registerManifestSections()`): a program that
/// assembles the layers refuses a manifest whose section lies as soon as it opens the store, whatever it
/// reads next. Reading a section checks it whether it is registered or not.
public enum ManifestSections {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var types: [String: any ManifestSection.Type] = [:]

    public static func register(_ type: any ManifestSection.Type) {
        lock.withLock { types[type.key] = type }
    }

    static var registered: [any ManifestSection.Type] {
        lock.withLock { types.keys.sorted().map { types[$0]! } }
    }

    /// The problems of every registered section present in `manifest`.
    static func problems(of manifest: Manifest) -> [String] {
        func check<S: ManifestSection>(_ type: S.Type) -> [String] {
            do {
                _ = try manifest.section(S.self)
                return []
            } catch let error as StorageError {
                if case .corrupt(_, _, _, let reason) = error { return [reason] }
                return [error.description]
            } catch {
                return ["section \(S.key): \(error)"]
            }
        }
        return registered.filter { manifest.sections[$0.key] != nil }.flatMap { check($0) }
    }
}

/// A section whose JSON is one collection (a list or a map of entries): its Codable form, emptiness and
/// empty value come from `value`.
public protocol CollectionSection: ManifestSection {
    associatedtype Value: Codable & Sendable & Collection & ExpressibleByEmptyLiteral
    var value: Value { get }
    init(value: Value)
}

/// `[]` and `[:]`: what an absent collection section holds.
public protocol ExpressibleByEmptyLiteral { static var emptyLiteral: Self { get } }
extension Array: ExpressibleByEmptyLiteral { public static var emptyLiteral: Array { [] } }
extension Dictionary: ExpressibleByEmptyLiteral { public static var emptyLiteral: Dictionary { [:] } }

extension CollectionSection {
    public init(from decoder: Decoder) throws { self.init(value: try decoder.singleValueContainer().decode(Value.self)) }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }

    public static var empty: Self { Self(value: .emptyLiteral) }
    public var isEmpty: Bool { value.isEmpty }
}

extension Manifest {
    /// The section `S` of this version, decoded and checked; `S.empty` when absent.
    public func section<S: ManifestSection>(_ type: S.Type) throws -> S {
        guard let json = sections[S.key] else { return S.empty }
        let value: S
        do {
            value = try json.decoded(as: S.self)
        } catch {
            throw corruptSection("section \(S.key) is not valid: \(describeDecodingError(error))")
        }
        let problems = value.problems(in: self)
        guard problems.isEmpty else {
            throw corruptSection("section \(S.key) does not hold together: "
                + problems.prefix(5).joined(separator: "; ") + (problems.count > 5 ? " (and \(problems.count - 5) more)" : ""))
        }
        return value
    }

    private func corruptSection(_ reason: String) -> StorageError {
        .corrupt(file: "manifest/\(StorePaths.zeroPadded(version, 12)).manifest", column: nil, chunk: nil, reason: reason)
    }

    /// Replaces section `S` (removes it when empty).
    public mutating func setSection<S: ManifestSection>(_ value: S) throws {
        sections[S.key] = value.isEmpty ? nil : try JSONValue(encoding: value)
    }

    /// The store files every section refers to (keys `file` and `*File`).
    public var sectionFiles: [String] { sections.keys.sorted().flatMap { sections[$0]!.referencedFiles } }
}
