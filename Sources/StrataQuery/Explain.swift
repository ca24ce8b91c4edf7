import StrataFormat

extension Query {
    /// The plan as an indented tree, with what pruning removed before anything is decoded: partitions
    /// by their month key, chunks by their zone maps.
    public func explain() -> String {
        var lines: [String] = []
        var depth = 0
        func line(_ text: String) { lines.append(String(repeating: "  ", count: depth) + text) }
        let names = inputNames
        let input = { (e: BoundExpression) in Self.describe(e, names: names) }
        if let limit = plan.limit { line("Limit \(limit)" + (plan.offset > 0 ? " offset \(plan.offset)" : "")); depth += 1 }
        line("Project " + zip(plan.names, plan.projections).map { name, e in
            let text = plan.isAggregate ? describeAggregated(e) : input(e)
            return text == name ? name : "\(text) AS \(name)"
        }.joined(separator: ", "))
        depth += 1
        if !plan.sortKeys.isEmpty {
            line("Sort " + plan.sortKeys.map { key in
                (plan.isAggregate ? describeAggregated(key.expression) : input(key.expression)) + (key.descending ? " DESC" : " ASC")
                    + (key.nullsFirst ? " NULLS FIRST" : "")
            }.joined(separator: ", ") + (plan.keep.map { " (top \($0) kept)" } ?? ""))
            depth += 1
        }
        if let having = plan.having { line("Filter (HAVING) " + describeAggregated(having)); depth += 1 }
        if plan.isAggregate {
            let keys = plan.keys.map(input)
            line("Aggregate" + (keys.isEmpty ? "" : " by " + keys.joined(separator: ", ")) + ": "
                 + plan.aggregates.map(\.sql).joined(separator: ", ") + " (hash table per worker, merged)")
            depth += 1
        }
        if let filter = plan.postJoinFilter { line("Filter " + input(filter)); depth += 1 }
        if let right = plan.right {
            line((plan.isLeftJoin ? "Left join" : "Join") + " using msno (entity ids; \(right.name) indexed in memory)")
            depth += 1
            scan(plan.left, &lines, depth: depth, names: names)
            scan(right, &lines, depth: depth, names: names)
        } else {
            scan(plan.left, &lines, depth: depth, names: names)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func scan(_ source: TableSource, _ lines: inout [String], depth: Int, names: [Int: String]) {
        let indent = String(repeating: "  ", count: depth)
        lines.append(indent + "Scan \(source.name)")
        let inner = indent + "  "
        lines.append(inner + "columns: " + source.columns.map { source.manifest.columns[$0.storageIndex].name }.joined(separator: ", "))
        if let filter = source.filter { lines.append(inner + "filter: " + Self.describe(filter, names: names)) }
        let chunksInRead = source.readers.reduce(0) { $0 + $1.chunkCount }
        let partitioned = source.manifest.partitioning == .month
        lines.append(inner + "\(partitioned ? "partitions" : "segments"): \(source.segmentsRead) of \(source.segmentsTotal) read"
                     + " (\(source.segmentsTotal - source.segmentsRead) pruned\(partitioned ? " by \(source.manifest.partitionColumn ?? "")" : ""))")
        lines.append(inner + "chunks: \(source.chunksRead) of \(chunksInRead) read (\(source.chunksPrunedByZoneMap) pruned by zone maps)")
        if !source.ranges.isEmpty {
            let ranges = source.ranges.sorted { $0.key < $1.key }.map { index, range -> String in
                let column = source.manifest.columns[index]
                func text(_ value: Int64) -> String { column.type == .date ? SQLDates.format(value) : (column.type == .entity ? "#" : "") + String(value) }
                if range.isEmpty { return "\(column.name): none" }
                let low = range.low == .min ? "" : text(range.low)
                let high = range.high == .max ? "" : text(range.high)
                return "\(column.name) in [\(low), \(high)]"
            }
            lines.append(inner + "pruning ranges: " + ranges.joined(separator: "; "))
        }
    }

    /// Input slots by column name (qualified by table when there is a join).
    private var inputNames: [Int: String] {
        var names: [Int: String] = [:]
        for source in [plan.left] + (plan.right.map { [$0] } ?? []) {
            for column in source.columns {
                names[column.slot] = (plan.right == nil ? "" : source.name + ".") + source.manifest.columns[column.storageIndex].name
            }
        }
        return names
    }

    /// An expression over group keys and aggregates, spelled with the keys' and aggregates' own text.
    private func describeAggregated(_ expression: BoundExpression) -> String {
        let inputNames = self.inputNames
        var names: [Int: String] = [:]
        for (index, key) in plan.keys.enumerated() { names[index] = Self.describe(key, names: inputNames) }
        for (index, aggregate) in plan.aggregates.enumerated() { names[plan.keys.count + index] = aggregate.sql }
        return Self.describe(expression, names: names)
    }

    static func describe(_ expression: BoundExpression, names: [Int: String]) -> String {
        let d = { (e: BoundExpression) in describe(e, names: names) }
        switch expression.kind {
        case .slot(let slot): return names[slot] ?? "#\(slot)"
        case .constant(let value):
            switch value {
            case .null: return "NULL"
            case .integer(let v):
                if expression.type == .date { return "DATE '\(SQLDates.format(v))'" }
                if expression.type == .boolean { return v == 1 ? "TRUE" : "FALSE" }
                return String(v)
            case .double(let v): return ValueText.float(v)
            case .string(let v): return "'\(v)'"
            case .entity(let v): return "msno#\(v)"
            }
        case .negate(let operand): return "-\(d(operand))"
        case .arithmetic(let op, let l, let r), .compare(let op, let l, let r): return "(\(d(l)) \(op.rawValue) \(d(r)))"
        case .and(let l, let r): return "\(d(l)) AND \(d(r))"
        case .or(let l, let r): return "(\(d(l)) OR \(d(r)))"
        case .anyOf(let items): return "(" + items.map(d).joined(separator: " OR ") + ")"
        case .not(let operand): return "NOT \(d(operand))"
        case .isNull(let operand, let negated): return "\(d(operand)) IS \(negated ? "NOT " : "")NULL"
        case .caseWhen(let branches, let otherwise):
            return "CASE " + branches.map { "WHEN \(d($0.when)) THEN \(d($0.then))" }.joined(separator: " ")
                + (otherwise.map { " ELSE \(d($0))" } ?? "") + " END"
        case .cast(let operand): return "CAST(\(d(operand)) AS \(expression.type.rawValue))"
        case .function(let function, let arguments):
            var parts = arguments.map(d)
            switch function {
            case .dateTrunc(let part), .dateDiff(let part): parts.insert("'\(part.rawValue)'", at: 0)
            case .round(let places): parts.append(String(places))
            default: break
            }
            return "\(function.name)(\(parts.joined(separator: ", ")))"
        }
    }
}
