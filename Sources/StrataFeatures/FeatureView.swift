/// A feature view as declared in a YAML file (see README, "Feature views"): one entity, and an ordered
/// list of feature groups whose outputs become the columns of a training set, in declaration order.
public struct FeatureView: Codable, Equatable, Sendable {
    public var name: String
    /// The entity column shared by every source table (KKBox: `msno`).
    public var entity: String
    public var items: [FeatureItem]

    public init(name: String, entity: String, items: [FeatureItem]) {
        self.name = name
        self.entity = entity
        self.items = items
    }

    /// A content hash of the parsed definition: comments and layout do not change it, any change of
    /// meaning does. FNV-1a 64 over the canonical JSON form.
    public var contentHash: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let bytes = (try? encoder.encode(self)).map(Array.init) ?? []
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01B3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

public enum FeatureItem: Codable, Equatable, Sendable {
    case window(WindowGroup)
    case last(LastValueGroup)
    case attributes(AttributeGroup)
    case derived(DerivedFeature)
}

/// Aggregates over the events of a source table in the `days` days before the cutoff:
/// `cutoff - days <= time < cutoff` (or `<= cutoff` with inclusive semantics).
public struct WindowGroup: Codable, Equatable, Sendable {
    public var source: String
    public var time: String
    public var days: [Int]
    public var aggregates: [Aggregate]
}

public struct Aggregate: Codable, Equatable, Sendable {
    /// Output name; `{days}` is replaced by each window length.
    public var name: String
    public var function: AggregateFunction
    /// nil only for `count` (count of rows).
    public var column: String?
    /// Decimal places to round a float result to (SQL `round(x, n)`).
    public var round: Int?
    /// Value used when the aggregate is NULL (no rows, or only NULL values): the null policy.
    public var fill: Double?

    public func outputName(days: Int) -> String { name.replacingOccurrences(of: "{days}", with: String(days)) }
}

public enum AggregateFunction: String, Codable, Equatable, Sendable, CaseIterable {
    case sum, count, mean, min, max
    case countDistinct = "count_distinct"
}

/// Columns of the latest event before the cutoff: the largest `time`, ties broken by the `order`
/// columns (larger wins), then by ingestion order (later wins, format-spec §8).
public struct LastValueGroup: Codable, Equatable, Sendable {
    /// Derived expressions refer to any column of the chosen row as `name.column`.
    public var name: String
    public var source: String
    public var time: String
    public var order: [String]
    /// Events older than this many days before the cutoff are ignored (NULL when nothing is left).
    public var ttlDays: Int?
    /// Output name → source column, in output order.
    public var columns: [NamedColumn]
}

/// Static attributes of the entity from a table without time semantics (KKBox `members`): the row
/// ingested last for the entity; NULL when the entity has none.
public struct AttributeGroup: Codable, Equatable, Sendable {
    public var name: String
    public var source: String
    public var columns: [NamedColumn]
}

public struct NamedColumn: Codable, Equatable, Sendable {
    public var output: String
    public var column: String
}

/// A value computed from earlier features, group columns (`group.column`) and `cutoff`.
public struct DerivedFeature: Codable, Equatable, Sendable {
    public var name: String
    public var expression: String
    public var round: Int?
}

import Foundation
