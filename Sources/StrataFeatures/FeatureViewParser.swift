import Foundation
import StrataQuery
import Yams

/// A mistake in a feature view file, with the line and column where it is.
public struct FeatureDefinitionError: Error, CustomStringConvertible, Equatable {
    public var file: String
    public var line: Int?
    public var column: Int?
    public var message: String

    public var description: String {
        var location = file
        if let line { location += ":\(line)" }
        if let column { location += ":\(column)" }
        return "\(location): \(message)"
    }
}

/// Reads feature views from YAML, checking shape and names; meaning against the store is checked later
/// by `FeaturePlan`.
public enum FeatureViewParser {
    public static func parse(file: String) throws -> FeatureView {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw FeatureDefinitionError(file: file, line: nil, column: nil, message: "cannot read the file")
        }
        return try parse(yaml: String(decoding: data, as: UTF8.self), file: file)
    }

    /// An error text from the YAML parser, which quotes the offending line whatever its length.
    static func clipped(_ text: String) -> String {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.count > 160 ? String($0.prefix(157)) + "..." : String($0) }
        return lines.prefix(6).joined(separator: "\n")
    }

    public static func parse(yaml: String, file: String = "<features>") throws -> FeatureView {
        let root: Node
        do {
            guard let composed = try Yams.compose(yaml: yaml) else {
                throw FeatureDefinitionError(file: file, line: nil, column: nil, message: "the file is empty")
            }
            root = composed
        } catch let error as FeatureDefinitionError {
            throw error
        } catch let error as YamlError {
            throw FeatureDefinitionError(file: file, line: nil, column: nil, message: "not valid YAML: " + Self.clipped("\(error)"))
        }
        let context = Context(file: file)
        let top = try context.mapping(root, "the file", keys: ["name", "entity", "features"])
        let name = try context.identifier(context.require(top, "name", in: root), "name")
        let entity = try context.string(top["entity"] ?? Node("msno"), "entity")
        let features = try context.sequence(context.require(top, "features", in: root), "features")
        var items: [FeatureItem] = []
        for node in features {
            let item = try context.mapping(node, "a feature", keys: ["window", "aggregates", "last", "attributes", "derived"])
            if let window = item["window"] {
                items.append(.window(try context.window(window, aggregates: context.require(item, "aggregates", in: node))))
            } else if let last = item["last"] {
                items.append(.last(try context.last(last)))
            } else if let attributes = item["attributes"] {
                items.append(.attributes(try context.attributes(attributes)))
            } else if let derived = item["derived"] {
                items.append(.derived(try context.derived(derived)))
            } else {
                throw context.error(node, "a feature is one of window (with aggregates), last, attributes or derived")
            }
        }
        guard !items.isEmpty else { throw context.error(root, "features is empty") }
        return FeatureView(name: name, entity: entity, items: items)
    }

    struct Context {
        let file: String

        func error(_ node: Node, _ message: String) -> FeatureDefinitionError {
            FeatureDefinitionError(file: file, line: node.mark.map { $0.line }, column: node.mark.map { $0.column }, message: message)
        }

        func mapping(_ node: Node, _ what: String, keys allowed: [String]) throws -> [String: Node] {
            guard let mapping = node.mapping else { throw error(node, "\(what) must be a mapping with keys \(allowed.joined(separator: ", "))") }
            var result: [String: Node] = [:]
            for (key, value) in mapping {
                guard let name = key.string, allowed.contains(name) else {
                    throw error(key, "unknown key '\(key.string ?? "?")' in \(what); expected one of: \(allowed.joined(separator: ", "))")
                }
                result[name] = value
            }
            return result
        }

        func orderedPairs(_ node: Node, _ what: String) throws -> [NamedColumn] {
            guard let mapping = node.mapping, !mapping.isEmpty else { throw error(node, "\(what) must be a non-empty mapping of output name: source column") }
            return try mapping.map { key, value in
                NamedColumn(output: try identifier(key, "\(what) output name"), column: try identifier(value, "\(what) column"))
            }
        }

        func require(_ mapping: [String: Node], _ key: String, in node: Node) throws -> Node {
            guard let value = mapping[key] else { throw error(node, "missing '\(key)'") }
            return value
        }

        func sequence(_ node: Node, _ what: String) throws -> [Node] {
            guard let sequence = node.sequence else { throw error(node, "\(what) must be a list") }
            return Array(sequence)
        }

        func string(_ node: Node, _ what: String) throws -> String {
            guard let value = node.scalar?.string, !value.isEmpty else { throw error(node, "\(what) must be a non-empty string") }
            return value
        }

        /// Names become column names: letters, digits and underscores (and `{days}` templates).
        func identifier(_ node: Node, _ what: String) throws -> String {
            let value = try string(node, what)
            let allowed = value.replacingOccurrences(of: "{days}", with: "")
            guard allowed.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }), value.utf8.count <= 255 else {
                throw error(node, "\(what) '\(value)' may use only letters, digits and _ (at most 255 bytes)")
            }
            return value
        }

        func integer(_ node: Node, _ what: String, range: ClosedRange<Int>) throws -> Int {
            guard let value = node.scalar.flatMap({ Int($0.string) }), range.contains(value) else {
                throw error(node, "\(what) must be an integer in \(range.lowerBound)...\(range.upperBound)")
            }
            return value
        }

        /// A SQL expression, checked for syntax here; names and types are checked against the store by `FeaturePlan`.
        func sql(_ node: Node, _ what: String) throws -> String {
            let text = try string(node, what)
            guard text.utf8.count <= FeatureView.expressionBytesMax else {
                throw error(node, "\(what) is \(text.utf8.count) bytes long; at most \(FeatureView.expressionBytesMax) are allowed")
            }
            do {
                _ = try Parser.parseExpression(text)
            } catch let failure as QueryError {
                let shown = text.count > 80 ? text.prefix(77) + "..." : Substring(text)
                let at = failure.position.map { " at character \($0.lowerBound + 1)" } ?? ""
                throw error(node, "\(what) '\(shown)': \(failure.message)\(at)")
            }
            return text
        }

        func window(_ node: Node, aggregates: Node) throws -> WindowGroup {
            let fields = try mapping(node, "window", keys: ["source", "time", "days"])
            let days = try sequence(require(fields, "days", in: node), "days").map { try integer($0, "a window length in days", range: 1...36_500) }
            guard !days.isEmpty else { throw error(node, "days must list at least one window length") }
            let list = try sequence(aggregates, "aggregates")
            guard !list.isEmpty else { throw error(aggregates, "aggregates is empty") }
            let parsed = try list.map { entry -> Aggregate in
                let fields = try mapping(entry, "an aggregate", keys: ["name", "function", "column", "round", "fill", "filter"])
                let functionNode = try require(fields, "function", in: entry)
                let functionName = try string(functionNode, "function")
                let column = try fields["column"].map { try identifier($0, "column") }
                guard let function = AggregateFunction(featureName: functionName, hasColumn: column != nil) else {
                    throw error(functionNode, "unknown function '\(functionName)'; use one of \(AggregateFunction.featureNames.joined(separator: ", "))")
                }
                if column == nil && function != .countStar { throw error(entry, "\(functionName) needs a column") }
                let filter = try fields["filter"].map { try sql($0, "filter") }
                let name = try identifier(require(fields, "name", in: entry), "name")
                if days.count > 1 && !name.contains("{days}") {
                    throw error(entry, "name '\(name)' needs {days} to tell the \(days.count) windows apart")
                }
                let fill = try fields["fill"].map { node -> Double in
                    guard let value = node.scalar.flatMap({ Double($0.string) }), value.isFinite else { throw error(node, "fill must be a number") }
                    return value
                }
                return Aggregate(
                    name: name, function: function, column: column,
                    round: try fields["round"].map { try integer($0, "round", range: 0...15) }, fill: fill, filter: filter)
            }
            return WindowGroup(
                source: try identifier(require(fields, "source", in: node), "source"),
                time: try identifier(require(fields, "time", in: node), "time"), days: days, aggregates: parsed)
        }

        func last(_ node: Node) throws -> LastValueGroup {
            let fields = try mapping(node, "last", keys: ["name", "source", "time", "order", "ttl_days", "columns"])
            return LastValueGroup(
                name: try identifier(require(fields, "name", in: node), "name"),
                source: try identifier(require(fields, "source", in: node), "source"),
                time: try identifier(require(fields, "time", in: node), "time"),
                order: try fields["order"].map { try sequence($0, "order").map { try identifier($0, "order column") } } ?? [],
                ttlDays: try fields["ttl_days"].map { try integer($0, "ttl_days", range: 1...36_500) },
                columns: try orderedPairs(require(fields, "columns", in: node), "columns"))
        }

        func attributes(_ node: Node) throws -> AttributeGroup {
            let fields = try mapping(node, "attributes", keys: ["name", "source", "columns"])
            return AttributeGroup(
                name: try identifier(require(fields, "name", in: node), "name"),
                source: try identifier(require(fields, "source", in: node), "source"),
                columns: try orderedPairs(require(fields, "columns", in: node), "columns"))
        }

        func derived(_ node: Node) throws -> DerivedFeature {
            let fields = try mapping(node, "derived", keys: ["name", "expression", "round"])
            let expression = try sql(require(fields, "expression", in: node), "expression")
            return DerivedFeature(
                name: try identifier(require(fields, "name", in: node), "name"), expression: expression,
                round: try fields["round"].map { try integer($0, "round", range: 0...15) })
        }
    }
}
