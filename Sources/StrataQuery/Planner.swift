import StrataFormat
import StrataStorage

/// A sort key of ORDER BY, bound in the scope of the projections.
struct SortKey {
    let expression: BoundExpression
    let descending: Bool
    let nullsFirst: Bool
}

/// Everything the executor needs, resolved and type-checked.
final class QueryPlan: @unchecked Sendable {
    let statement: SelectStatement
    let left: TableSource
    let right: TableSource?
    let isLeftJoin: Bool
    /// Entity-id slots the join matches on (left, right).
    let joinSlots: (Int, Int)?
    /// WHERE conjuncts evaluated after the join (all of WHERE without a join is in `left.filter`).
    let postJoinFilter: BoundExpression?
    let keys: [BoundExpression]
    let keyKinds: [Aggregator.KeyKind]
    let aggregates: [AggregateSpec]
    let isAggregate: Bool
    let having: BoundExpression?
    let projections: [BoundExpression]
    let names: [String]
    let sortKeys: [SortKey]
    let limit: Int?
    let offset: Int
    /// Rows a sort must keep to answer LIMIT and OFFSET (saturating: LIMIT may be as large as BIGINT).
    var keep: Int? { limit.map { $0 > Int.max - offset ? Int.max : $0 + offset } }

    init(statement: SelectStatement, left: TableSource, right: TableSource?, isLeftJoin: Bool, joinSlots: (Int, Int)?,
         postJoinFilter: BoundExpression?, keys: [BoundExpression], keyKinds: [Aggregator.KeyKind], aggregates: [AggregateSpec],
         isAggregate: Bool, having: BoundExpression?, projections: [BoundExpression], names: [String], sortKeys: [SortKey]) {
        self.statement = statement
        self.left = left
        self.right = right
        self.isLeftJoin = isLeftJoin
        self.joinSlots = joinSlots
        self.postJoinFilter = postJoinFilter
        self.keys = keys
        self.keyKinds = keyKinds
        self.aggregates = aggregates
        self.isAggregate = isAggregate
        self.having = having
        self.projections = projections
        self.names = names
        self.sortKeys = sortKeys
        limit = statement.limit
        offset = statement.offset ?? 0
    }
}

/// Builds a `QueryPlan` from a parsed statement: resolves tables and columns, binds and checks every
/// expression, splits WHERE into per-table filters and pruning ranges.
enum Planner {
    /// - Parameter entityID: the id of an msno, to prune chunks by `msno = '…'` (nil: no such msno).
    static func plan(_ statement: SelectStatement, store: Store, entityID: (String) throws -> Int64?) throws -> QueryPlan {
        let leftManifest = try table(statement.from, store: store)
        var tables = [(reference: statement.from, manifest: leftManifest)]
        var usingColumn: String?
        if let join = statement.join {
            tables.append((join.table, try table(join.table, store: store)))
            let aliases = tables.map { $0.reference.alias ?? $0.reference.name }
            if aliases[0] == aliases[1] {
                throw QueryError("both sides of the JOIN are called '\(aliases[0])'", at: join.table.position, hint: "give one an alias")
            }
            guard join.usingColumns.count == 1, let column = join.usingColumns.first else {
                throw QueryError("JOIN ... USING takes exactly one column (msno)", at: join.table.position)
            }
            for (reference, manifest) in tables {
                guard let schema = manifest.columns.first(where: { $0.name.lowercased() == column.name.lowercased() }) else {
                    throw QueryError("JOIN column '\(column.name)' is not in \(reference.name)", at: column.position,
                                     hint: "columns of \(reference.name): \(manifest.columns.map(\.name).joined(separator: ", "))")
                }
                guard schema.type == .entity else {
                    throw QueryError("JOIN ... USING needs the entity column (msno); '\(column.name)' is \(SQLType(schema.type).rawValue)", at: column.position)
                }
            }
            usingColumn = leftManifest.columns.first { $0.name.lowercased() == column.name.lowercased() }?.name
        }
        let scope = InputScope(tables: tables, usingColumn: usingColumn)
        let binder = Binder(scope: scope)
        var joinSlots: (Int, Int)?
        if let usingColumn {
            let leftColumn = scope.columns.firstIndex { $0.side == 0 && $0.name == usingColumn }!
            let rightColumn = scope.columns.firstIndex { $0.side == 1 && $0.name == usingColumn }!
            joinSlots = (scope.slot(forColumn: leftColumn), scope.slot(forColumn: rightColumn))
        }

        // WHERE, split into conjuncts: those on one table filter its scan, the rest run after the join.
        var conjunctsBySide: [[BoundExpression]] = [[], []]
        var postJoin: [BoundExpression] = []
        var ranges: [[Int: ValueRange]] = [[:], [:]]
        if let filter = statement.filter {
            if containsAggregate(filter) {
                throw QueryError("aggregate functions are not allowed in WHERE", at: filter.position, hint: "filter groups with HAVING")
            }
            let bound = try binder.bind(filter)
            guard bound.type == .boolean || bound.type == .null else {
                throw QueryError("WHERE needs a BOOLEAN condition, not \(bound.type.rawValue)", at: filter.position)
            }
            for conjunct in Self.conjuncts(bound) {
                let sides = Set(conjunct.slots.map { scope.column(ofSlot: $0).side })
                if let range = try Self.range(conjunct, scope: scope, entityID: entityID) {
                    let column = scope.column(ofSlot: range.slot)
                    ranges[column.side][column.storageIndex] = ranges[column.side][column.storageIndex]?.intersection(range.range) ?? range.range
                }
                if sides.count <= 1 && (sides.first ?? 0) == 0 {
                    conjunctsBySide[0].append(conjunct)
                } else if sides == [1] && statement.join?.isLeft == false {
                    conjunctsBySide[1].append(conjunct)
                } else {
                    postJoin.append(conjunct)
                }
            }
        }

        // SELECT, GROUP BY, HAVING, ORDER BY.
        let aggregateQuery = !statement.groupBy.isEmpty || statement.groupByAll || statement.having != nil
            || statement.items.contains { if case .expression(let e, _) = $0 { containsAggregate(e) } else { false } }
            || statement.orderBy.contains { containsAggregate($0.expression) }
        var itemExpressions: [(expression: Expression, name: String)] = []
        var explicitAliases: [(name: String, index: Int)] = []
        for item in statement.items {
            switch item {
            case .star(let position):
                if aggregateQuery { throw QueryError("SELECT * cannot be used with GROUP BY or aggregates", at: position) }
                for column in scope.starColumns {
                    let source = scope.columns[column]
                    let qualifier: String? = tables.count > 1 ? source.qualifier : nil
                    itemExpressions.append((Expression(kind: .column(table: qualifier, name: source.name), position: position), source.name))
                }
            case .expression(let expression, let alias):
                if let alias { explicitAliases.append((alias.lowercased(), itemExpressions.count)) }
                itemExpressions.append((expression, alias ?? expression.defaultName))
            }
        }
        // A name given twice means the last explicit alias, as in DuckDB; an implicit name (a bare column)
        // only where no alias claims it.
        var aliases = Dictionary(itemExpressions.enumerated().map { ($0.element.name.lowercased(), $0.offset) }, uniquingKeysWith: { first, _ in first })
        for (name, index) in explicitAliases { aliases[name] = index }
        let isInputColumn = { (name: String) in scope.columns.contains { $0.name.lowercased() == name.lowercased() } }
        /// A select alias used inside HAVING or ORDER BY stands for its expression. In HAVING an explicit
        /// alias wins over an input column of the same name unless that column is a GROUP BY key; in ORDER
        /// BY expressions the column wins (both as DuckDB).
        var groupedColumns = Set<String>()
        func substitutingAliases(_ expression: Expression, aliasFirst: Bool) -> Expression {
            expression.replacingColumns { name in
                let lowered = name.lowercased()
                let explicit = explicitAliases.last { $0.name == lowered }
                if aliasFirst, let explicit, !groupedColumns.contains(lowered) { return itemExpressions[explicit.index].expression }
                return isInputColumn(name) ? nil : aliases[lowered].map { itemExpressions[$0].expression }
            }
        }
        var groupBy = statement.groupBy
        if statement.groupByAll {
            // GROUP BY ALL: every select item that is neither an aggregate nor a constant.
            groupBy = itemExpressions.map(\.expression).filter { !containsAggregate($0) && $0.containsColumn }
        }

        var keys: [BoundExpression] = []
        var keyKinds: [Aggregator.KeyKind] = []
        var projectionBinder = binder
        var aggregationScope: AggregationScope?
        if aggregateQuery {
            var keySQL: [String] = []
            for item in groupBy {
                var expression = item
                if case .integer(let ordinal) = item.kind {
                    guard ordinal >= 1 && ordinal <= itemExpressions.count else {
                        throw QueryError("GROUP BY position \(ordinal) is not in the select list (1...\(itemExpressions.count))", at: item.position)
                    }
                    expression = itemExpressions[Int(ordinal) - 1].expression
                } else if case .column(nil, let name) = item.kind, !isInputColumn(name), let index = aliases[name.lowercased()] {
                    expression = itemExpressions[index].expression
                }
                if containsAggregate(expression) {
                    throw QueryError("GROUP BY cannot contain an aggregate", at: item.position)
                }
                if case .column(_, let name) = expression.kind { groupedColumns.insert(name.lowercased()) }
                let bound = try binder.bind(expression)
                keys.append(bound)
                keySQL.append(expression.sql)
                keyKinds.append(Self.keyKind(bound, scope: scope))
            }
            let aggregation = AggregationScope(keys: keys, keySQL: keySQL, inputBinder: binder)
            aggregationScope = aggregation
            projectionBinder = Binder(scope: scope, aggregation: aggregation)
        }
        let projections = try itemExpressions.map { try projectionBinder.bind($0.expression) }
        var having: BoundExpression?
        if let clause = statement.having {
            let bound = try projectionBinder.bind(substitutingAliases(clause, aliasFirst: true))
            guard bound.type == .boolean || bound.type == .null else {
                throw QueryError("HAVING needs a BOOLEAN condition, not \(bound.type.rawValue)", at: clause.position)
            }
            having = bound
        }
        var sortKeys: [SortKey] = []
        if let allOrder = statement.orderByAll {
            // ORDER BY ALL: every output column, left to right.
            sortKeys = projections.map { SortKey(expression: $0, descending: allOrder.descending, nullsFirst: allOrder.nullsFirst ?? false) }
        }
        for item in statement.orderBy {
            let bound: BoundExpression
            if case .integer(let ordinal) = item.expression.kind {
                guard ordinal >= 1 && ordinal <= projections.count else {
                    throw QueryError("ORDER BY position \(ordinal) is not in the select list (1...\(projections.count))", at: item.expression.position)
                }
                bound = projections[Int(ordinal) - 1]
            } else if case .column(nil, let name) = item.expression.kind, let index = aliases[name.lowercased()] {
                bound = projections[index]
            } else {
                switch item.expression.kind {
                case .decimal, .string, .date, .null, .boolean:
                    throw QueryError("ORDER BY takes a column position (a positive integer) or an expression, not a constant",
                                     at: item.expression.position)
                default:
                    bound = try projectionBinder.bind(substitutingAliases(item.expression, aliasFirst: false))
                }
            }
            sortKeys.append(SortKey(expression: bound, descending: item.descending, nullsFirst: item.nullsFirst ?? false))
        }

        let sources = (0..<tables.count).map { side -> TableSource in
            let columns = (0..<scope.slotCount).compactMap { slot -> TableSource.Column? in
                let column = scope.column(ofSlot: slot)
                guard column.side == side else { return nil }
                return TableSource.Column(storageIndex: column.storageIndex, slot: slot, logicalType: column.logicalType)
            }
            let filter = conjunctsBySide[side].reduce(nil as BoundExpression?) { acc, next in
                acc.map { BoundExpression(.and($0, next), type: .boolean, position: next.position) } ?? next
            }
            return TableSource(name: tables[side].reference.name, manifest: tables[side].manifest, columns: columns, filter: filter,
                               ranges: ranges[side], slotCount: scope.slotCount)
        }
        let postJoinFilter = postJoin.reduce(nil as BoundExpression?) { acc, next in
            acc.map { BoundExpression(.and($0, next), type: .boolean, position: next.position) } ?? next
        }
        return QueryPlan(statement: statement, left: sources[0], right: sources.count > 1 ? sources[1] : nil,
                         isLeftJoin: statement.join?.isLeft ?? false, joinSlots: joinSlots, postJoinFilter: postJoinFilter,
                         keys: keys, keyKinds: keyKinds, aggregates: aggregationScope?.aggregates ?? [], isAggregate: aggregateQuery,
                         having: having, projections: projections, names: Self.distinctNames(itemExpressions.map(\.name)), sortKeys: sortKeys)
    }

    /// Output names made unique as DuckDB does (`city`, `city_1`), so JSON keys never collide.
    static func distinctNames(_ names: [String]) -> [String] {
        var used = Set<String>()
        return names.map { name in
            var candidate = name
            var suffix = 1
            while used.contains(candidate) {
                candidate = "\(name)_\(suffix)"
                suffix += 1
            }
            used.insert(candidate)
            return candidate
        }
    }

    private static func table(_ reference: TableReference, store: Store) throws -> TableManifest {
        guard let name = store.tableNames.first(where: { $0.lowercased() == reference.name.lowercased() }) else {
            throw QueryError("unknown table '\(reference.name)'", at: reference.position,
                             hint: store.tableNames.isEmpty ? "the store has no tables yet: strata ingest loads some" : "tables: \(store.tableNames.joined(separator: ", "))")
        }
        return try store.table(name)
    }

    static func containsAggregate(_ expression: Expression) -> Bool {
        switch expression.kind {
        case .function(let name, let arguments, _, _):
            return AggregationScope.aggregateNames.contains(name) || arguments.contains(where: containsAggregate)
        case .column, .integer, .decimal, .string, .date, .null, .boolean: return false
        case .unary(_, let operand), .isNull(let operand, _), .cast(let operand, _): return containsAggregate(operand)
        case .binary(_, let left, let right): return containsAggregate(left) || containsAggregate(right)
        case .between(let operand, let low, let high, _): return [operand, low, high].contains(where: containsAggregate)
        case .inList(let operand, let list, _): return ([operand] + list).contains(where: containsAggregate)
        case .caseWhen(let operand, let branches, let otherwise):
            return (operand.map(containsAggregate) ?? false) || (otherwise.map(containsAggregate) ?? false)
                || branches.contains { containsAggregate($0.when) || containsAggregate($0.then) }
        }
    }

    private static func keyKind(_ key: BoundExpression, scope: InputScope) -> Aggregator.KeyKind {
        if case .slot(let slot) = key.kind, scope.column(ofSlot: slot).logicalType == .entity { return .entity }
        switch key.type {
        case .double: return .double
        case .varchar: return .string
        default: return .integer
        }
    }

    static func conjuncts(_ expression: BoundExpression) -> [BoundExpression] {
        if case .and(let left, let right) = expression.kind { return conjuncts(left) + conjuncts(right) }
        return [expression]
    }

    /// The values a conjunct `column op constant` allows for an integer-like or entity column.
    private static func range(_ conjunct: BoundExpression, scope: InputScope, entityID: (String) throws -> Int64?) throws -> (slot: Int, range: ValueRange)? {
        guard case .compare(var op, let left, let right) = conjunct.kind else { return nil }
        var column = left, constant = right
        if case .constant = left.kind {
            column = right
            constant = left
            switch op {
            case .less: op = .greater
            case .lessOrEqual: op = .greaterOrEqual
            case .greater: op = .less
            case .greaterOrEqual: op = .lessOrEqual
            default: break
            }
        }
        guard case .slot(let slot) = column.kind else { return nil }
        let logical = scope.column(ofSlot: slot).logicalType
        if logical == .entity, op == .equal, case .constant(.string(let text)) = constant.kind {
            // msno is stored as its entity id: the zone maps of msno skip every chunk whose id range
            // excludes it, and an msno the store has never seen matches no row (nothing is read).
            return try entityID(text).map { (slot, ValueRange(low: $0, high: $0)) } ?? (slot, .empty)
        }
        guard case .constant(.integer(let value)) = constant.kind else { return nil }
        guard logical == .int64 || logical == .date else { return nil }
        switch op {
        case .equal: return (slot, ValueRange(low: value, high: value))
        case .less: return value == .min ? (slot, .empty) : (slot, ValueRange(low: .min, high: value - 1))
        case .lessOrEqual: return (slot, ValueRange(low: .min, high: value))
        case .greater: return value == .max ? (slot, .empty) : (slot, ValueRange(low: value + 1, high: .max))
        case .greaterOrEqual: return (slot, ValueRange(low: value, high: .max))
        default: return nil
        }
    }
}

/// Inclusive bounds on a column's values that WHERE implies; empty when low > high.
struct ValueRange: Equatable {
    var low: Int64
    var high: Int64

    static let empty = ValueRange(low: 1, high: 0)

    var isEmpty: Bool { low > high }

    func intersection(_ other: ValueRange) -> ValueRange {
        ValueRange(low: max(low, other.low), high: min(high, other.high))
    }
}
