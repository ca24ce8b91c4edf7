import Foundation

/// Hash aggregation of one worker: group keys → dense group ids → one `Accumulator` per aggregate.
/// Keys are reduced to Int64 words: integers and dates as themselves, doubles by bit pattern, msno by
/// entity id (no string is touched), other strings by a per-worker intern table. Workers' tables are
/// merged at the end.
final class Aggregator {
    enum KeyKind {
        case integer, double, entity, string
    }

    let keyKinds: [KeyKind]
    let keyTypes: [SQLType]
    let keys: [BoundExpression]
    let accumulators: [Accumulator]
    private var table: GroupTable
    /// Without keys: one group. With one key: the group of NULL, kept outside the table's words.
    private var nullGroup: Int32 = -1
    private var strings: [String] = []
    private var stringCodes: [String: Int64] = [:]
    private let context: ExecutionContext
    /// GROUP BY msno alone: the group of each entity id, found by indexing instead of hashing (ids are
    /// dense). -1: no group yet.
    private var entityGroups: [Int32]?
    /// Entities above which the direct index is not worth its memory (4 bytes per entity per worker).
    private static let entityIndexCountMax = 1 << 25

    init(keys: [BoundExpression], keyKinds: [KeyKind], specs: [AggregateSpec], entityCount: Int, context: ExecutionContext) {
        self.keys = keys
        self.keyKinds = keyKinds
        keyTypes = keys.map(\.type)
        accumulators = specs.map { Accumulator(spec: $0, entityCount: entityCount) }
        table = GroupTable(width: keys.count <= 1 ? 1 : keys.count + 1)
        self.context = context
        if keyKinds == [.entity], entityCount > 0, entityCount <= Self.entityIndexCountMax {
            entityGroups = [Int32](repeating: -1, count: entityCount)
        }
        if keys.isEmpty {
            _ = table.group(0)
            for accumulator in accumulators { accumulator.grow(to: 1) }
        }
    }

    var groupCount: Int { table.count }

    var sizeBytes: Int { table.sizeBytes + accumulators.reduce(0) { $0 + $1.sizeBytes } + strings.count * 48 }

    func add(_ batch: Batch, evaluator: Evaluator) throws {
        let groups = try groupIndexes(batch, evaluator: evaluator)
        for accumulator in accumulators { accumulator.grow(to: table.count) }
        // One group for the whole batch (no GROUP BY, or a key constant over the batch, such as the
        // month of a monthly partition): aggregates reduce the batch without per-row group lookups.
        let first = groups.first ?? 0
        let uniformGroup: Int32? = groups.allSatisfy { $0 == first } ? first : nil
        for accumulator in accumulators {
            let value = try accumulator.spec.argument.map { try evaluator.evaluate($0, batch) }
            try accumulator.update(groups: groups, uniformGroup: uniformGroup, value: value, context: context)
        }
    }

    private func groupIndexes(_ batch: Batch, evaluator: Evaluator) throws -> [Int32] {
        let count = batch.count
        if keys.isEmpty { return [Int32](repeating: 0, count: count) }
        let vectors = try keys.indices.map { index -> Vector in
            let vector = try evaluator.evaluate(keys[index], batch)
            return keyKinds[index] == .string ? try context.resolveStrings(vector) : vector
        }
        var groups = [Int32](repeating: 0, count: count)
        if keys.count == 1 {
            let vector = vectors[0]
            let codes = self.codes(vector, kind: keyKinds[0])
            var lastCode = Int64.min, lastGroup: Int32 = -1
            let nulls = vector.nulls
            let constant = vector.isConstant
            if constant && vector.isNull(0) {
                let group = nullKeyGroup()
                return [Int32](repeating: group, count: count)
            }
            if entityGroups != nil, !constant {
                groupEntities(codes, nulls: nulls, into: &groups)
                return groups
            }
            codes.withUnsafeBufferPointer { codes in
                groups.withUnsafeMutableBufferPointer { groups in
                    for row in 0..<count {
                        if let nulls, nulls[row] {
                            groups[row] = nullKeyGroup()
                            continue
                        }
                        let code = codes[constant ? 0 : row]
                        // Runs of one key (a sorted or clustered column) skip the hash probe.
                        if code != lastCode || lastGroup < 0 {
                            lastGroup = table.group(code)
                            lastCode = code
                        }
                        groups[row] = lastGroup
                    }
                }
            }
            return groups
        }
        // Keys laid out row-major, one word per key plus a NULL mask, filled a column at a time.
        let width = keys.count + 1
        var words = [Int64](repeating: 0, count: count * width)
        words.withUnsafeMutableBufferPointer { words in
            for index in keys.indices {
                let vector = vectors[index]
                let codes = self.codes(vector, kind: keyKinds[index])
                let bit = Int64(1) << Int64(index)
                if vector.isConstant {
                    let isNull = vector.isNull(0)
                    for row in 0..<count {
                        if isNull { words[row * width + keys.count] |= bit } else { words[row * width + index] = codes[0] }
                    }
                    continue
                }
                codes.withUnsafeBufferPointer { codes in
                    if let nulls = vector.nulls {
                        for row in 0..<count {
                            if nulls[row] { words[row * width + keys.count] |= bit } else { words[row * width + index] = codes[row] }
                        }
                    } else {
                        for row in 0..<count { words[row * width + index] = codes[row] }
                    }
                }
            }
            var previous = -1
            for row in 0..<count {
                let key = UnsafeBufferPointer(rebasing: words[(row * width)..<((row + 1) * width)])
                // Runs of one key skip the hash probe.
                if previous >= 0, memcmp(key.baseAddress!, words.baseAddress! + previous * width, width * 8) == 0 {
                    groups[row] = groups[previous]
                } else {
                    groups[row] = table.group(key)
                }
                previous = row
            }
        }
        return groups
    }

    private func groupEntities(_ ids: [Int64], nulls: [Bool]?, into groups: inout [Int32]) {
        let entityCount = entityGroups!.count
        entityGroups!.withUnsafeMutableBufferPointer { index in
            ids.withUnsafeBufferPointer { ids in
                groups.withUnsafeMutableBufferPointer { groups in
                    for row in 0..<ids.count {
                        if let nulls, nulls[row] {
                            groups[row] = nullKeyGroup()
                            continue
                        }
                        let id = Int(ids[row])
                        guard id >= 0 && id < entityCount else {
                            groups[row] = table.group(ids[row])
                            continue
                        }
                        var group = index[id]
                        if group < 0 {
                            group = table.group(ids[row])
                            index[id] = group
                        }
                        groups[row] = group
                    }
                }
            }
        }
    }

    private func nullKeyGroup() -> Int32 {
        if nullGroup < 0 {
            // A word no real key produces cannot exist for int64, so the NULL group is a reserved slot
            // entry whose key word is never compared (it is found through `nullGroup`).
            nullGroup = table.reserveGroup()
        }
        return nullGroup
    }

    private func codes(_ vector: Vector, kind: KeyKind) -> [Int64] {
        switch vector.values {
        case .integers(let values), .entities(let values): return values
        case .doubles(let values): return values.map(Self.doubleCode)
        case .strings(let values): return values.map(intern)
        case .constant(let scalar):
            switch scalar {
            case .null: return [0]
            case .integer(let v), .entity(let v): return [v]
            case .double(let v): return [Self.doubleCode(v)]
            case .string(let v): return [intern(v)]
            }
        }
    }

    /// -0.0 groups with 0.0 and every NaN with every other, as SQL equality does.
    static func doubleCode(_ value: Double) -> Int64 {
        if value.isNaN { return Int64(bitPattern: Double.nan.bitPattern) }
        return Int64(bitPattern: (value == 0 ? 0.0 : value).bitPattern)
    }

    private func intern(_ text: String) -> Int64 {
        if let code = stringCodes[text] { return code }
        let code = Int64(strings.count)
        strings.append(text)
        stringCodes[text] = code
        return code
    }

    /// The key values of group `group` as scalars (strings decoded through this worker's intern table).
    func keyScalars(_ group: Int) -> [Scalar] {
        if keys.count == 1 {
            if Int32(group) == nullGroup { return [.null] }
            return [scalar(table.keys[group], kind: keyKinds[0])]
        }
        let width = keys.count + 1
        let nullMask = table.keys[group * width + keys.count]
        return keys.indices.map { index in
            nullMask & (1 << Int64(index)) != 0 ? .null : scalar(table.keys[group * width + index], kind: keyKinds[index])
        }
    }

    private func scalar(_ word: Int64, kind: KeyKind) -> Scalar {
        switch kind {
        case .integer: return .integer(word)
        case .double: return .double(Double(bitPattern: UInt64(bitPattern: word)))
        case .entity: return .entity(word)
        case .string: return .string(strings[Int(word)])
        }
    }

    /// The group of a key given as scalars, inserted when new (merging another worker's groups).
    private func group(of scalars: [Scalar]) -> Int32 {
        func code(_ scalar: Scalar) -> Int64 {
            switch scalar {
            case .null: return 0
            case .integer(let v), .entity(let v): return v
            case .double(let v): return Self.doubleCode(v)
            case .string(let v): return intern(v)
            }
        }
        if keys.isEmpty { return 0 }
        if keys.count == 1 {
            return scalars[0] == .null ? nullKeyGroup() : table.group(code(scalars[0]))
        }
        var key = scalars.map(code)
        var nullMask: Int64 = 0
        for (index, scalar) in scalars.enumerated() where scalar == .null { nullMask |= 1 << Int64(index) }
        key.append(nullMask)
        return key.withUnsafeBufferPointer { table.group($0) }
    }

    /// Folds another worker's groups and states into this one.
    func merge(_ other: Aggregator) throws {
        let mapping: [Int32]
        if keys.isEmpty {
            mapping = Array(repeating: 0, count: other.groupCount)
        } else if keys.count == 1 && keyKinds[0] != .string {
            // One key word per group: map the words directly, without building scalars.
            mapping = (0..<other.groupCount).map { group in
                if Int32(group) == other.nullGroup { return nullKeyGroup() }
                let word = other.table.keys[group]
                let mine = table.group(word)
                if let count = entityGroups?.count, word >= 0 && word < Int64(count) { entityGroups![Int(word)] = mine }
                return mine
            }
        } else if !keyKinds.contains(.string) {
            // Fixed-width words, no intern table to translate: insert them as they are.
            let width = keys.count + 1
            mapping = other.table.keys.withUnsafeBufferPointer { keys in
                (0..<other.groupCount).map { group in table.group(UnsafeBufferPointer(rebasing: keys[(group * width)..<((group + 1) * width)])) }
            }
        } else {
            mapping = (0..<other.groupCount).map { group(of: other.keyScalars($0)) }
        }
        for accumulator in accumulators { accumulator.grow(to: table.count) }
        for (mine, theirs) in zip(accumulators, other.accumulators) { try mine.merge(theirs, mapping: mapping) }
    }

    /// Keys then aggregates, one row per group: the input of HAVING, ORDER BY and the projections.
    func result() throws -> Batch {
        let count = groupCount
        var columns: [Vector] = []
        let width = keys.count <= 1 ? 1 : keys.count + 1
        for index in keys.indices {
            // Key words read straight from the table (strings through the intern table).
            var words = [Int64](repeating: 0, count: count)
            var nulls = [Bool](repeating: false, count: count)
            table.keys.withUnsafeBufferPointer { keys in
                for group in 0..<count {
                    words[group] = keys[group * width + index]
                    nulls[group] = width == 1 ? Int32(group) == nullGroup : keys[group * width + width - 1] & (1 << Int64(index)) != 0
                }
            }
            let values: VectorValues
            switch keyKinds[index] {
            case .integer: values = .integers(words)
            case .entity: values = .entities(words)
            case .double: values = .doubles(words.map { Double(bitPattern: UInt64(bitPattern: $0)) })
            case .string: values = .strings(words.enumerated().map { nulls[$0.offset] ? "" : strings[Int($0.element)] })
            }
            columns.append(Vector(type: keyTypes[index], values: values, nulls: nulls, count: count))
        }
        for accumulator in accumulators { columns.append(try accumulator.result(groupCount: count)) }
        return Batch(columns: columns, count: count)
    }
}

extension GroupTable {
    /// A new group with no key in the table (the NULL group of a one-word key).
    mutating func reserveGroup() -> Int32 {
        let group = Int32(count)
        appendUnindexed(Array(repeating: 0, count: width))
        return group
    }
}
