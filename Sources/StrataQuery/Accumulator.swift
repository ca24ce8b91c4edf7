/// The running state of one aggregate for every group, in arrays indexed by group.
final class Accumulator {
    let spec: AggregateSpec
    private var counts: [Int64] = []
    private var integerSums: [Int64] = []
    /// High words of integer sums: a sum is carries[g] · 2^64 + integerSums[g], so sums and averages of
    /// BIGINT never overflow along the way (as DuckDB's HUGEINT); only a final sum outside BIGINT fails.
    private var carries: [Int64] = []
    private var doubleSums: [Double] = []
    /// For min/max and sum: whether the group has seen a non-NULL value.
    private var seen: [Bool] = []
    private var strings: [String] = []
    private var distinct: DistinctSet?

    init(spec: AggregateSpec, entityCount: Int) {
        self.spec = spec
        if spec.function == .countDistinct { distinct = DistinctSet(entityCount: entityCount) }
    }

    private var integerLane: Bool { spec.argument.map { $0.type != .double } ?? true }

    var sizeBytes: Int {
        counts.capacity * 8 + integerSums.capacity * 8 + doubleSums.capacity * 8 + seen.capacity + strings.count * 32 + (distinct?.sizeBytes ?? 0)
    }

    func grow(to groupCount: Int) {
        let missing = groupCount - seen.count
        guard missing > 0 else { return }
        seen.append(contentsOf: repeatElement(false, count: missing))
        switch spec.function {
        case .countStar, .count, .countDistinct:
            counts.append(contentsOf: repeatElement(0, count: missing))
        case .sum, .avg:
            counts.append(contentsOf: repeatElement(0, count: missing))
            if integerLane {
                integerSums.append(contentsOf: repeatElement(0, count: missing))
                carries.append(contentsOf: repeatElement(0, count: missing))
            } else {
                doubleSums.append(contentsOf: repeatElement(0, count: missing))
            }
        case .min, .max:
            switch spec.type {
            case .double: doubleSums.append(contentsOf: repeatElement(0, count: missing))
            case .varchar: strings.append(contentsOf: repeatElement("", count: missing))
            default: integerSums.append(contentsOf: repeatElement(0, count: missing))
            }
        }
    }

    /// Adds the rows of a batch: `groups[row]` is the row's group, `value` the evaluated argument.
    func update(groups: [Int32], uniformGroup: Int32?, value: Vector?, context: ExecutionContext?) throws {
        let rowCount = groups.count
        if let uniformGroup, try updateUniform(Int(uniformGroup), rowCount: rowCount, value: value) { return }
        switch spec.function {
        case .countStar:
            counts.withUnsafeMutableBufferPointer { counts in
                groups.withUnsafeBufferPointer { groups in for g in groups { counts[Int(g)] &+= 1 } }
            }
        case .count:
            let value = value!
            if value.isConstant && value.isNull(0) { return }
            let nulls = value.isConstant ? nil : value.nulls
            counts.withUnsafeMutableBufferPointer { counts in
                for row in 0..<rowCount where !(nulls?[row] ?? false) { counts[Int(groups[row])] &+= 1 }
            }
        case .countDistinct:
            let value = value!
            try distinct!.insert(groups: groups, value: value, context: context)
        case .sum, .avg:
            try sum(groups: groups, value: value!)
        case .min, .max:
            var value = value!
            if spec.type == .varchar, let context { value = try context.resolveStrings(value) }
            extreme(groups: groups, value: value, isMin: spec.function == .min)
        }
    }

    /// Adds a batch whose rows all belong to `group`; false when this aggregate has no such shortcut.
    private func updateUniform(_ group: Int, rowCount: Int, value: Vector?) throws -> Bool {
        switch spec.function {
        case .countStar:
            counts[group] += Int64(rowCount)
        case .count:
            let value = value!
            counts[group] += Int64(value.isConstant ? (value.isNull(0) ? 0 : rowCount) : rowCount - (value.nulls?.count { $0 } ?? 0))
        case .sum, .avg:
            guard let value, !value.isConstant else { return false }
            let nulls = value.nulls
            if integerLane {
                let values = value.integerValues
                var low = integerSums[group], high = carries[group]
                var counted = 0
                values.withUnsafeBufferPointer { values in
                    for row in 0..<rowCount where !(nulls?[row] ?? false) {
                        addWide(&low, &high, values[row])
                        counted += 1
                    }
                }
                integerSums[group] = low
                carries[group] = high
                counts[group] += Int64(counted)
            } else {
                let values = value.doubleValues
                var total = 0.0
                var counted = 0
                values.withUnsafeBufferPointer { values in
                    if let nulls {
                        nulls.withUnsafeBufferPointer { nulls in
                            for row in 0..<rowCount where !nulls[row] {
                                total += values[row]
                                counted += 1
                            }
                        }
                    } else {
                        for row in 0..<rowCount { total += values[row] }
                        counted = rowCount
                    }
                }
                doubleSums[group] += total
                counts[group] += Int64(counted)
            }
        default:
            return false
        }
        return true
    }

    @inline(__always) private func addWide(_ low: inout Int64, _ high: inout Int64, _ value: Int64) {
        AggregateMath.addWide(&low, &high, value)
    }

    private func sum(groups: [Int32], value: Vector) throws {
        let rowCount = groups.count
        if value.isConstant {
            guard !value.isNull(0) else { return }
            for g in groups {
                let group = Int(g)
                counts[group] += 1
                if integerLane {
                    addWide(&integerSums[group], &carries[group], value.integerValue(0))
                } else {
                    doubleSums[group] += value.doubleValue(0)
                }
            }
        } else if integerLane {
            let values = value.integerValues
            let nulls = value.nulls
            integerSums.withUnsafeMutableBufferPointer { sums in
                carries.withUnsafeMutableBufferPointer { carries in
                    counts.withUnsafeMutableBufferPointer { counts in
                        for row in 0..<rowCount where !(nulls?[row] ?? false) {
                            let group = Int(groups[row])
                            addWide(&sums[group], &carries[group], values[row])
                            counts[group] &+= 1
                        }
                    }
                }
            }
        } else {
            let values = value.doubleValues
            doubleSums.withUnsafeMutableBufferPointer { sums in
                counts.withUnsafeMutableBufferPointer { counts in
                    values.withUnsafeBufferPointer { values in
                        groups.withUnsafeBufferPointer { groups in
                            if let nulls = value.nulls {
                                for row in 0..<rowCount where !nulls[row] {
                                    sums[Int(groups[row])] += values[row]
                                    counts[Int(groups[row])] &+= 1
                                }
                            } else {
                                for row in 0..<rowCount {
                                    sums[Int(groups[row])] += values[row]
                                    counts[Int(groups[row])] &+= 1
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    private func extreme(groups: [Int32], value: Vector, isMin: Bool) {
        let value = value.materialized()
        let nulls = value.nulls
        switch value.values {
        case .doubles(let values):
            for row in 0..<groups.count where !(nulls?[row] ?? false) {
                let group = Int(groups[row])
                let v = values[row]
                if !seen[group] || Self.replaces(v, doubleSums[group], isMin: isMin) { doubleSums[group] = v }
                seen[group] = true
            }
        case .strings(let values):
            for row in 0..<groups.count where !(nulls?[row] ?? false) {
                let group = Int(groups[row])
                let v = values[row]
                if !seen[group] || Self.replaces(v, strings[group], isMin: isMin) { strings[group] = v }
                seen[group] = true
            }
        default:
            let values = value.integerValues
            integerSums.withUnsafeMutableBufferPointer { extremes in
                seen.withUnsafeMutableBufferPointer { seen in
                    values.withUnsafeBufferPointer { values in
                        for row in 0..<groups.count where !(nulls?[row] ?? false) {
                            let group = Int(groups[row])
                            let v = values[row]
                            if !seen[group] || Self.replaces(v, extremes[group], isMin: isMin) { extremes[group] = v }
                            seen[group] = true
                        }
                    }
                }
            }
        }
    }

    /// Whether `candidate` replaces `current` as the min (or max): DuckDB's orders (NaN largest, bytes).
    @inline(__always) private static func replaces(_ candidate: Double, _ current: Double, isMin: Bool) -> Bool {
        AggregateMath.replaces(candidate, current, isMin: isMin)
    }

    @inline(__always) private static func replaces(_ candidate: Int64, _ current: Int64, isMin: Bool) -> Bool {
        AggregateMath.replaces(candidate, current, isMin: isMin)
    }

    private static func replaces(_ candidate: String, _ current: String, isMin: Bool) -> Bool {
        Comparison.compareStrings(isMin ? .less : .greater, candidate, current)
    }

    /// Folds `other` (another worker's state) in; `mapping[g]` is other's group g in this accumulator.
    func merge(_ other: Accumulator, mapping: [Int32]) throws {
        for (from, to) in mapping.enumerated() {
            let g = Int(to)
            switch spec.function {
            case .countStar, .count, .countDistinct:
                counts[g] += other.counts[from]
            case .sum, .avg:
                counts[g] += other.counts[from]
                if integerLane {
                    addWide(&integerSums[g], &carries[g], other.integerSums[from])
                    carries[g] &+= other.carries[from]
                } else {
                    doubleSums[g] += other.doubleSums[from]
                }
            case .min, .max:
                guard other.seen[from] else { continue }
                let isMin = spec.function == .min
                switch spec.type {
                case .double:
                    if !seen[g] || Self.replaces(other.doubleSums[from], doubleSums[g], isMin: isMin) { doubleSums[g] = other.doubleSums[from] }
                case .varchar:
                    if !seen[g] || Self.replaces(other.strings[from], strings[g], isMin: isMin) { strings[g] = other.strings[from] }
                default:
                    if !seen[g] || Self.replaces(other.integerSums[from], integerSums[g], isMin: isMin) { integerSums[g] = other.integerSums[from] }
                }
                seen[g] = true
            }
        }
        if spec.function == .countDistinct { distinct!.merge(other.distinct!, mapping: mapping) }
    }

    /// The aggregate's value for every group: count → 0 on no rows, the others → NULL.
    func result(groupCount: Int) throws -> Vector {
        grow(to: groupCount)
        switch spec.function {
        case .countStar, .count:
            return Vector(type: .bigint, values: .integers(Array(counts.prefix(groupCount))), nulls: nil, count: groupCount)
        case .countDistinct:
            return Vector(type: .bigint, values: .integers(distinct!.counts(groupCount: groupCount)), nulls: nil, count: groupCount)
        case .sum:
            let nulls = counts.prefix(groupCount).map { $0 == 0 }
            if integerLane && spec.type == .bigint {
                if carries.prefix(groupCount).contains(where: { $0 != 0 }) {
                    throw QueryError("\(spec.sql) is outside BIGINT", hint: "sum a CAST(x AS DOUBLE) instead")
                }
                return Vector(type: .bigint, values: .integers(Array(integerSums.prefix(groupCount))), nulls: nulls, count: groupCount)
            }
            return Vector(type: .double, values: .doubles(Array(doubleSums.prefix(groupCount))), nulls: nulls, count: groupCount)
        case .avg:
            let nulls = counts.prefix(groupCount).map { $0 == 0 }
            let means = (0..<groupCount).map { g -> Double in
                guard counts[g] > 0 else { return 0 }
                let total = integerLane ? AggregateMath.wideValue(integerSums[g], carries[g]) : doubleSums[g]
                return total / Double(counts[g])
            }
            return Vector(type: .double, values: .doubles(means), nulls: nulls, count: groupCount)
        case .min, .max:
            let nulls = seen.prefix(groupCount).map { !$0 }
            switch spec.type {
            case .double: return Vector(type: .double, values: .doubles(Array(doubleSums.prefix(groupCount))), nulls: nulls, count: groupCount)
            case .varchar: return Vector(type: .varchar, values: .strings(Array(strings.prefix(groupCount))), nulls: nulls, count: groupCount)
            default: return Vector(type: spec.type, values: .integers(Array(integerSums.prefix(groupCount))), nulls: nulls, count: groupCount)
            }
        }
    }
}

/// The distinct (group, value) pairs of a count(DISTINCT x). msno values go to one bitmap per group
/// (a bit per entity: cheap while groups × entities is small, as in "distinct users per month"); other
/// values, or too many groups, to a hash set of pairs.
final class DistinctSet {
    private let entityCount: Int
    private let wordsPerGroup: Int
    /// Group g's bitmap is words g * wordsPerGroup ..< (g + 1) * wordsPerGroup.
    private var bits: [UInt64] = []
    private var bitmapGroups = 0
    private var pairs: GroupTable?
    private var strings: [String: Int64] = [:]
    /// Bitmap bits (groups × entities) above which bitmaps give way to the pair set.
    private static let bitmapBitsMax = 1 << 31

    init(entityCount: Int) {
        self.entityCount = entityCount
        wordsPerGroup = (entityCount + 63) / 64
    }

    var sizeBytes: Int { bits.count * 8 + (pairs?.sizeBytes ?? 0) + strings.count * 48 }

    func insert(groups: [Int32], value: Vector, context: ExecutionContext?) throws {
        if value.isEntity && pairs == nil && entityCount > 0 {
            let groupCount = max(Int(groups.max() ?? -1) + 1, bitmapGroups)
            // An id beyond the dictionary (a damaged manifest) must not be dropped: the pair set takes any id.
            let ids = value.isConstant ? [value.integerValue(0)] : value.entityValues
            let idsFit = ids.allSatisfy { $0 >= 0 && $0 < Int64(entityCount) }
            if idsFit && groupCount * entityCount <= Self.bitmapBitsMax {
                growBitmaps(to: groupCount)
                insertBits(groups: groups, value: value)
                return
            }
        }
        if pairs == nil { convertToPairs() }
        // Entity ids stay ids here too: one dictionary gives one id to one text.
        for row in 0..<groups.count where !value.isNull(row) {
            let key = [Int64(groups[row]), code(value, row: value.isConstant ? 0 : row)]
            _ = key.withUnsafeBufferPointer { pairs!.group($0) }
        }
    }

    private func growBitmaps(to groupCount: Int) {
        guard groupCount > bitmapGroups else { return }
        bits.append(contentsOf: repeatElement(0, count: (groupCount - bitmapGroups) * wordsPerGroup))
        bitmapGroups = groupCount
    }

    private func insertBits(groups: [Int32], value: Vector) {
        let entityCount = self.entityCount, wordsPerGroup = self.wordsPerGroup
        if value.isConstant {
            guard !value.isNull(0) else { return }
            let id = Int(value.integerValue(0))
            guard id >= 0 && id < entityCount else { return }
            for group in groups { bits[Int(group) * wordsPerGroup + id >> 6] |= 1 << UInt64(id & 63) }
            return
        }
        let ids = value.entityValues
        let nulls = value.nulls
        bits.withUnsafeMutableBufferPointer { bits in
            ids.withUnsafeBufferPointer { ids in
                groups.withUnsafeBufferPointer { groups in
                    for row in 0..<groups.count where !(nulls?[row] ?? false) {
                        let id = Int(ids[row])
                        guard id >= 0 && id < entityCount else { continue }
                        bits[Int(groups[row]) * wordsPerGroup + id >> 6] |= 1 << UInt64(id & 63)
                    }
                }
            }
        }
    }

    private func code(_ value: Vector, row: Int) -> Int64 {
        switch value.values {
        case .doubles(let values): return Aggregator.doubleCode(values[row])
        case .constant(.double(let v)): return Aggregator.doubleCode(v)
        case .strings(let values): return intern(values[row])
        case .constant(.string(let v)): return intern(v)
        default: return value.integerValue(row)
        }
    }

    private func intern(_ text: String) -> Int64 {
        if let code = strings[text] { return code }
        let code = Int64(strings.count)
        strings[text] = code
        return code
    }

    private func convertToPairs() {
        var table = GroupTable(width: 2)
        for group in 0..<bitmapGroups {
            for wordIndex in 0..<wordsPerGroup {
                let word = bits[group * wordsPerGroup + wordIndex]
                guard word != 0 else { continue }
                for bit in 0..<64 where word & (1 << UInt64(bit)) != 0 {
                    let key = [Int64(group), Int64(wordIndex * 64 + bit)]
                    _ = key.withUnsafeBufferPointer { table.group($0) }
                }
            }
        }
        bits = []
        bitmapGroups = 0
        pairs = table
    }

    func merge(_ other: DistinctSet, mapping: [Int32]) {
        if pairs == nil && other.pairs == nil {
            growBitmaps(to: Int(mapping.max() ?? -1) + 1)
            for from in 0..<other.bitmapGroups {
                let to = Int(mapping[from])
                for index in 0..<wordsPerGroup { bits[to * wordsPerGroup + index] |= other.bits[from * wordsPerGroup + index] }
            }
            return
        }
        if pairs == nil { convertToPairs() }
        if other.pairs == nil { other.convertToPairs() }
        let decode = Dictionary(uniqueKeysWithValues: other.strings.map { ($0.value, $0.key) })
        let keys = other.pairs!.keys
        for index in 0..<other.pairs!.count {
            var code = keys[index * 2 + 1]
            if let text = decode[code] { code = intern(text) }
            let key = [Int64(mapping[Int(keys[index * 2])]), code]
            _ = key.withUnsafeBufferPointer { pairs!.group($0) }
        }
    }

    func counts(groupCount: Int) -> [Int64] {
        var counts = [Int64](repeating: 0, count: groupCount)
        if let pairs {
            for index in 0..<pairs.count { counts[Int(pairs.keys[index * 2])] += 1 }
        } else {
            for group in 0..<min(bitmapGroups, groupCount) {
                var total = 0
                for index in 0..<wordsPerGroup { total += bits[group * wordsPerGroup + index].nonzeroBitCount }
                counts[group] = Int64(total)
            }
        }
        return counts
    }
}
