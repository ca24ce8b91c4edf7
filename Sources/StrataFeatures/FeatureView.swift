import StrataQuery
/// A feature view as declared in a YAML file (see README, "Feature views"): one entity, and an ordered
/// list of feature groups whose outputs become the columns of a training set, in declaration order.
public struct FeatureView: Codable, Equatable, Sendable {
    public var name: String
    /// The entity column shared by every source table (KKBox: `msno`).
    public var entity: String
    public var items: [FeatureItem]

    /// The longest SQL text a derived expression or a filter may have.
    public static let expressionBytesMax = 4096

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
    /// The kernel's aggregate: `count` without a column is COUNT(*), `mean` is AVG.
    public var function: AggregateFunction
    /// nil only for `count` (count of rows).
    public var column: String?
    /// Decimal places to round a float result to (SQL `round(x, n)`).
    public var round: Int?
    /// Value used when the aggregate is NULL (no rows, or only NULL values): the null policy.
    public var fill: Double?
    /// A SQL predicate over the source table's columns: the aggregate sees only the rows where it is
    /// TRUE (SQL `FILTER (WHERE …)`).
    public var filter: String?

    public init(name: String, function: AggregateFunction, column: String?, round: Int? = nil, fill: Double? = nil, filter: String? = nil) {
        self.name = name
        self.function = function
        self.column = column
        self.round = round
        self.fill = fill
        self.filter = filter
    }

    public func outputName(days: Int) -> String { name.replacingOccurrences(of: "{days}", with: String(days)) }

    private enum CodingKeys: String, CodingKey { case name, function, column, round, fill, filter }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        column = try container.decodeIfPresent(String.self, forKey: .column)
        let spelling = try container.decode(String.self, forKey: .function)
        guard let function = AggregateFunction(featureName: spelling, hasColumn: column != nil) else {
            throw DecodingError.dataCorruptedError(forKey: .function, in: container, debugDescription: "unknown aggregate '\(spelling)'")
        }
        self.function = function
        round = try container.decodeIfPresent(Int.self, forKey: .round)
        fill = try container.decodeIfPresent(Double.self, forKey: .fill)
        filter = try container.decodeIfPresent(String.self, forKey: .filter)
    }

    /// The same keys and spellings as before the kernel was shared, so a view's content hash is unchanged.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(function.featureName, forKey: .function)
        try container.encodeIfPresent(column, forKey: .column)
        try container.encodeIfPresent(round, forKey: .round)
        try container.encodeIfPresent(fill, forKey: .fill)
        try container.encodeIfPresent(filter, forKey: .filter)
    }
}

extension AggregateFunction {
    /// The names a feature view writes aggregates with.
    public static let featureNames = ["sum", "count", "mean", "min", "max", "count_distinct"]

    public var featureName: String {
        switch self {
        case .count, .countStar: "count"
        case .countDistinct: "count_distinct"
        case .avg: "mean"
        case .sum: "sum"
        case .min: "min"
        case .max: "max"
        }
    }

    public init?(featureName: String, hasColumn: Bool) {
        switch featureName {
        case "count": self = hasColumn ? .count : .countStar
        case "count_distinct": self = .countDistinct
        case "mean": self = .avg
        case "sum": self = .sum
        case "min": self = .min
        case "max": self = .max
        default: return nil
        }
    }
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
