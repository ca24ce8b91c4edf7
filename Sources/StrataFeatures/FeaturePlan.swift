import StrataFormat
import StrataQuery
import StrataStorage

/// A feature view that does not fit the store it is used with.
public struct FeaturePlanError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public var description: String { message }
}

/// A feature view resolved against one store version: every source, column and name checked, and the
/// schema of the feature columns known.
public struct FeaturePlan: Sendable {
    public let view: FeatureView
    /// The feature columns, in output order.
    public let outputs: [ColumnSchema]
    /// Source columns each last/attributes group must load (outputs plus those derived features use).
    let groupColumns: [String: [String]]
    let groupSources: [String: TableManifest]
    /// Each derived feature's expression, bound by the kernel.
    let derived: [String: DerivedProgram]
    /// Each window aggregate filter, by source table and SQL text, bound over the source's columns.
    let filters: [FilterKey: ScalarProgram]

    /// A derived feature's expression over table 0 (`featureNames`: earlier features, then `cutoff`) and
    /// one table per earlier last/attributes group (`groupNames`), whose columns are the source's columns.
    struct DerivedProgram: Sendable {
        let program: ScalarProgram
        let featureNames: [String]
        let groupNames: [String]
    }

    struct FilterKey: Hashable, Sendable {
        let source: String
        let sql: String
    }

    /// Features one view may compute, leaving room for a label table's columns.
    public static let featureCountMax = 1000

    public init(view: FeatureView, store: Store) throws {
        self.view = view
        var outputs: [ColumnSchema] = []
        var groupColumns: [String: [String]] = [:]
        var groupSources: [String: TableManifest] = [:]
        var derived: [String: DerivedProgram] = [:]
        var filters: [FilterKey: ScalarProgram] = [:]
        /// Groups in declaration order (the tables a derived expression may qualify names with).
        var groupOrder: [String] = []
        func fail(_ message: String) -> FeaturePlanError { FeaturePlanError(message: "feature view \(view.name): \(message)") }
        func source(_ name: String) throws -> TableManifest {
            guard let table = store.manifest.tables[name] else {
                throw fail("no table '\(name)' in the store (tables: \(store.tableNames.joined(separator: ", ")))")
            }
            guard table.columns.contains(where: { $0.name == view.entity && $0.type == .entity }) else {
                throw fail("table \(name) has no entity column '\(view.entity)'")
            }
            return table
        }
        func column(_ name: String, of table: TableManifest, source: String) throws -> ColumnSchema {
            guard let column = table.columns.first(where: { $0.name == name }) else {
                throw fail("table \(source) has no column '\(name)' (columns: \(table.columns.map(\.name).joined(separator: ", ")))")
            }
            return column
        }
        func dateColumn(_ name: String, of table: TableManifest, source: String) throws {
            let time = try column(name, of: table, source: source)
            guard time.type == .date else { throw fail("time column \(source).\(name) is \(time.type), not a date") }
        }
        func add(_ schema: ColumnSchema) throws {
            // SQL names match without regard to case: `Secs` and `secs` could not be told apart in a query.
            if let other = outputs.first(where: { $0.name.lowercased() == schema.name.lowercased() }) {
                throw fail(other.name == schema.name ? "two features are named '\(schema.name)'"
                           : "features '\(other.name)' and '\(schema.name)' differ only in case; SQL would not tell them apart")
            }
            guard schema.name.lowercased() != view.entity.lowercased() else {
                throw fail("a feature may not be named '\(schema.name)': it is the entity column")
            }
            outputs.append(schema)
        }
        /// The null policy's value must be one the output column can hold exactly.
        func checkFill(_ aggregate: Aggregate, type: LogicalType) throws {
            guard let fill = aggregate.fill, type != .float64 else { return }
            guard fill == fill.rounded(), fill >= -9.2e18, fill <= 9.2e18 else {
                throw fail("fill \(fill) of \(aggregate.name) is not an integer that a \(type.name) column holds")
            }
            if type == .date, !Dates.dayRange.contains(Int(fill)) {
                throw fail("fill \(fill) of \(aggregate.name) is not a day number of the years 0001–9999")
            }
            if type == .bool, fill != 0 && fill != 1 { throw fail("fill \(fill) of \(aggregate.name) is not 0 or 1") }
        }
        /// A last-value or attributes group: its output columns, and the source columns to load for it.
        func addGroup(_ name: String, source: String, table: TableManifest, columns: [NamedColumn]) throws {
            guard groupSources[name] == nil else { throw fail("two groups are named '\(name)'") }
            groupSources[name] = table
            groupOrder.append(name)
            groupColumns[name] = []
            for pair in columns {
                let input = try column(pair.column, of: table, source: source)
                guard input.type != .entity else { throw fail("\(name).\(pair.column) is the entity itself, not a feature") }
                try add(ColumnSchema(name: pair.output, type: input.type, nullable: true))
                groupColumns[name]!.append(pair.column)
            }
        }

        for item in view.items {
            switch item {
            case .window(let group):
                let table = try source(group.source)
                try dateColumn(group.time, of: table, source: group.source)
                for aggregate in group.aggregates {
                    guard let sql = aggregate.filter, filters[FilterKey(source: group.source, sql: sql)] == nil else { continue }
                    do {
                        let program = try ScalarProgram(sql, tables: [.init(qualifier: group.source, columns: table.columns)])
                        if let entity = program.slotColumns.first(where: { table.columns[$0.column].type == .entity }) {
                            throw fail("the filter of \(aggregate.name) uses \(table.columns[entity.column].name), the entity: a window already reads one entity's rows")
                        }
                        guard program.type == .boolean || program.type == .null else {
                            throw fail("the filter of \(aggregate.name) is \(program.type.rawValue), not a condition: '\(sql)'")
                        }
                        filters[FilterKey(source: group.source, sql: sql)] = program
                    } catch let error as QueryError {
                        throw fail("the filter of \(aggregate.name): \(error.rendered(sql: sql))")
                    }
                }
                for days in group.days {
                    for aggregate in group.aggregates {
                        let input = try aggregate.column.map { try column($0, of: table, source: group.source) }
                        let type = try Self.outputType(aggregate, input: input, fail: fail)
                        try checkFill(aggregate, type: type)
                        let nullable = aggregate.fill == nil && aggregate.function != .count && aggregate.function != .countStar && aggregate.function != .countDistinct
                        try add(ColumnSchema(name: aggregate.outputName(days: days), type: type, nullable: nullable))
                    }
                }
            case .last(let group):
                let table = try source(group.source)
                try dateColumn(group.time, of: table, source: group.source)
                for name in group.order {
                    let key = try column(name, of: table, source: group.source)
                    guard key.type.isIntegerLike else { throw fail("order column \(group.source).\(name) must be an integer or a date") }
                }
                try addGroup(group.name, source: group.source, table: table, columns: group.columns)
            case .attributes(let group):
                let table = try source(group.source)
                try addGroup(group.name, source: group.source, table: table, columns: group.columns)
            case .derived(let feature):
                // Names: earlier features and `cutoff` (the request's cutoff date, which shadows a feature of that name).
                let featureColumns = outputs.filter { $0.name.lowercased() != "cutoff" } + [ColumnSchema(name: "cutoff", type: .date, nullable: false)]
                let program: ScalarProgram
                do {
                    program = try ScalarProgram(feature.expression, tables: [.init(qualifier: "earlier features and cutoff", columns: featureColumns)]
                        + groupOrder.map { .init(qualifier: $0, columns: groupSources[$0]!.columns) })
                } catch let error as QueryError {
                    throw fail("derived feature \(feature.name): \(error.rendered(sql: feature.expression))")
                }
                for input in program.slotColumns where input.table > 0 {
                    let group = groupOrder[input.table - 1]
                    let column = groupSources[group]!.columns[input.column]
                    guard column.type != .entity else { throw fail("\(feature.name) uses \(group).\(column.name), the entity itself") }
                    if !groupColumns[group]!.contains(column.name) { groupColumns[group]!.append(column.name) }
                }
                if feature.round != nil, program.logicalType != .float64, program.logicalType != .int64 {
                    throw fail("derived feature \(feature.name) is \(program.type.rawValue): round applies to numbers only")
                }
                derived[feature.name] = DerivedProgram(program: program, featureNames: featureColumns.map(\.name), groupNames: groupOrder)
                try add(ColumnSchema(name: feature.name, type: program.logicalType, nullable: true))
            }
        }
        // A training set adds its label columns, and both it and the online table hold at most
        // FormatLimits.columnCountMax columns: refuse here, before any work, what could not be written.
        guard outputs.count <= Self.featureCountMax else {
            throw fail("\(outputs.count) features; a view computes at most \(Self.featureCountMax) (segments and online tables hold \(FormatLimits.columnCountMax) columns)")
        }
        self.outputs = outputs
        self.groupColumns = groupColumns
        self.groupSources = groupSources
        self.derived = derived
        self.filters = filters
    }

    static func outputType(_ aggregate: Aggregate, input: ColumnSchema?, fail: (String) -> FeaturePlanError) throws -> LogicalType {
        switch aggregate.function {
        case .count, .countStar, .countDistinct:
            return .int64
        case .sum:
            guard let input, input.type == .int64 || input.type == .float64 || input.type == .bool else {
                throw fail("sum needs an integer or float column, \(aggregate.column ?? "?") is \(input?.type.name ?? "missing")")
            }
            return input.type == .float64 ? .float64 : .int64
        case .avg:
            guard let input, input.type == .int64 || input.type == .float64 || input.type == .bool else {
                throw fail("mean needs an integer or float column, \(aggregate.column ?? "?") is \(input?.type.name ?? "missing")")
            }
            return .float64
        case .min, .max:
            guard let input, input.type != .string && input.type != .entity else {
                throw fail("\(aggregate.function.featureName) needs a number or date column, \(aggregate.column ?? "?") is \(input?.type.name ?? "missing")")
            }
            return input.type
        }
    }
}
