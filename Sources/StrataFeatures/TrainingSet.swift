import Foundation
import StrataFormat
import StrataStorage

/// What `strata training-set` builds.
public struct TrainingSetRequest: Sendable {
    public var featuresFile: String
    public var labelsTable: String
    public var outputTable: String
    /// Feast's at-or-before semantics instead of strictly before.
    public var inclusive = false
    /// Read the inputs at this committed version (time travel); nil for the latest.
    public var inputVersion: Int?
    /// Replace an existing derived table of the same name.
    public var replace = false
    /// With `replace`, replace even an ingested source table.
    public var force = false
    public var cutoffColumn = "cutoff_date"
    /// Only the label rows whose cutoff lies in this range (day numbers); nil: every row.
    public var cutoffRange: ClosedRange<Int64>?

    public init(featuresFile: String, labelsTable: String, outputTable: String) {
        self.featuresFile = featuresFile
        self.labelsTable = labelsTable
        self.outputTable = outputTable
    }
}

public struct TrainingSetReport: Sendable {
    public var rowCount: Int
    public var columns: [ColumnSchema]
    public var committedVersion: Int
    public var lineage: Lineage
    public var featureViewIsNew: Bool
    public var seconds: Double
    /// Per window source: the most rows held in memory at once, and the table's rows.
    public var windowSources: [(source: String, peakRows: Int, tableRows: Int)]
}

/// Point-in-time training sets: one row per label row, every feature computed from events before that
/// row's cutoff only, stored as a table with its lineage.
public enum TrainingSetBuilder {
    public static func build(storePath: String, request: TrainingSetRequest, progress: ((String) -> Void)? = nil) throws -> TrainingSetReport {
        let started = Date()
        let view = try FeatureViewParser.parse(file: request.featuresFile)
        let text = try String(contentsOfFile: request.featuresFile, encoding: .utf8)
        let writer = try StoreWriter(path: storePath, create: false)
        do {
            let store = try Store(path: storePath, version: request.inputVersion ?? writer.base.version)
            try writer.checkOutputTable(request.outputTable, replace: request.replace, force: request.force)
            guard request.outputTable != request.labelsTable else {
                throw FeaturePlanError(message: "--out \(request.outputTable) is the label table the training set reads; choose another name")
            }
            let registration = try FeatureRegistry.register(view, sourceText: text, writer: writer)
            let plan = try FeaturePlan(view: view, store: store)
            let labels = try LabelTable(store: store, table: request.labelsTable, entity: view.entity, cutoff: request.cutoffColumn, range: request.cutoffRange)
            guard labels.rowCount > 0 || request.cutoffRange == nil else {
                throw FeaturePlanError(message: "label table \(request.labelsTable) has no row with a cutoff in the range asked for")
            }
            let clash = labels.schemas.map(\.name).filter { name in plan.outputs.contains { $0.name == name } }
            guard clash.isEmpty else { throw FeaturePlanError(message: "features and label columns share names: \(clash.joined(separator: ", "))") }

            var engine = PointInTimeEngine(plan: plan, store: store, inclusive: request.inclusive)
            engine.progress = progress
            let matrix = try engine.compute(labels.requests)
            progress?("sorting and writing \(request.outputTable)")
            let order = try labels.outputOrder(store: store)
            let columns = labels.columns.map { $0.selecting(order) } + matrix.vectors(order: order)
            let schemas = labels.schemas + plan.outputs

            progress?("encoding \(columns.count) columns")
            try writer.replaceOutputTable(request.outputTable, columns: schemas, replace: request.replace, force: request.force)
            try writer.writeSegment(table: request.outputTable, partition: 0, columns: columns, policy: .auto)
            let lineage = Lineage(
                kind: "training-set", storeVersion: store.version, featureView: view.name, featureViewVersion: registration.version.version,
                featureViewHash: registration.version.hash, labelsTable: request.labelsTable, labelsRowCount: labels.rowCount,
                semantics: request.inclusive ? "at-or-before" : "strictly-before")
            try writer.setLineage(lineage, of: request.outputTable)
            progress?("committing")
            let manifest = try writer.commit(operation: "training-set \(request.outputTable) from \(view.name) v\(registration.version.version) and \(request.labelsTable)")
            return TrainingSetReport(
                rowCount: labels.rowCount, columns: schemas, committedVersion: manifest.version, lineage: lineage,
                featureViewIsNew: registration.isNew, seconds: -started.timeIntervalSinceNow, windowSources: engine.stats.windowSources)
        } catch {
            writer.abort()
            throw error
        }
    }
}

/// A label table read in full: its entity and cutoff columns drive the requests; every column is
/// carried into the training set.
struct LabelTable {
    let schemas: [ColumnSchema]
    let columns: [ColumnVector]
    let requests: FeatureRequests
    var rowCount: Int { requests.count }

    init(store: Store, table: String, entity: String, cutoff: String, range: ClosedRange<Int64>? = nil) throws {
        let manifest = try store.table(table)
        let names = manifest.columns.map(\.name)
        guard let entityIndex = names.firstIndex(of: entity), manifest.columns[entityIndex].type == .entity else {
            throw FeaturePlanError(message: "label table \(table) has no entity column '\(entity)' (columns: \(names.joined(separator: ", ")))")
        }
        guard let cutoffIndex = names.firstIndex(of: cutoff), manifest.columns[cutoffIndex].type == .date else {
            throw FeaturePlanError(message: "label table \(table) has no date column '\(cutoff)' (columns: \(names.joined(separator: ", ")))")
        }
        let loaded = try LoadedTable.load(store: store, table: table, columns: names, dayRange: nil)
        // Keys first: entity, cutoff, then the other label columns in table order.
        let order = [entityIndex, cutoffIndex] + names.indices.filter { $0 != entityIndex && $0 != cutoffIndex }
        schemas = order.map { manifest.columns[$0] }
        var columns = order.map { loaded.columns[$0] }
        if columns[1].nullCount > 0 { throw FeaturePlanError(message: "label table \(table) has rows without a \(cutoff)") }
        if let range {
            let days = columns[1].integerValues
            let kept = days.indices.filter { range.contains(days[$0]) }
            columns = columns.map { $0.selecting(kept) }
        }
        self.columns = columns
        requests = FeatureRequests(entities: columns[0].integerValues, cutoffs: columns[1].integerValues)
    }

    /// Rows sorted by (cutoff, msno byte-wise), ties in label-table order.
    func outputOrder(store: Store) throws -> [Int] {
        let entities = try store.loadEntities(indexed: false)
        // Entity ids are dense (below the dictionary's count, checked when read): arrays indexed by id
        // instead of hashed sets and maps (SipHash per row was most of this function's time).
        let idCount = entities.count
        guard requests.entities.allWithin(0...Int64(idCount) - 1) else {
            throw FeaturePlanError(message: "the label table names users the store's entity dictionary does not have (run strata verify)")
        }
        var seen = [Bool](repeating: false, count: idCount)
        var distinct: [Int64] = []
        for entity in requests.entities where !seen[Int(entity)] {
            seen[Int(entity)] = true
            distinct.append(entity)
        }
        // Sort by the first 8 bytes as a big-endian integer (msno are random: ties are rare), then settle
        // ties by the whole byte string.
        let prefixes = distinct.map { id in
            entities.withBytes(of: Int(id)) { bytes -> UInt64 in
                var prefix: UInt64 = 0
                for index in 0..<8 { prefix = prefix << 8 | UInt64(index < bytes.count ? bytes[index] : 0) }
                return prefix
            }
        }
        var byName = Array(distinct.indices).sorted { prefixes[$0] != prefixes[$1] ? prefixes[$0] < prefixes[$1] : distinct[$0] < distinct[$1] }
        var start = 0
        while start < byName.count {
            var end = start + 1
            while end < byName.count && prefixes[byName[end]] == prefixes[byName[start]] { end += 1 }
            if end - start > 1 {
                byName[start..<end].sort { a, b in
                    entities.withBytes(of: Int(distinct[a])) { left in entities.withBytes(of: Int(distinct[b])) { right in left.lexicographicallyPrecedes(right) } }
                }
            }
            start = end
        }
        var rank = [Int32](repeating: 0, count: idCount)
        for (position, index) in byName.enumerated() { rank[Int(distinct[index])] = Int32(position) }
        // Two stable counting sorts (least significant key first): by msno rank, then by cutoff.
        var byRank = [Int](repeating: 0, count: rowCount)
        var starts = [Int](repeating: 0, count: byName.count + 1)
        for entity in requests.entities { starts[Int(rank[Int(entity)]) + 1] += 1 }
        for index in 0..<byName.count { starts[index + 1] += starts[index] }
        for row in 0..<rowCount {
            let key = Int(rank[Int(requests.entities[row])])
            byRank[starts[key]] = row
            starts[key] += 1
        }
        // A few dozen cutoffs: a row's is found by binary search in the sorted distinct ones.
        let cutoffs = Array(Set(requests.cutoffs)).sorted()
        func cutoffRank(_ cutoff: Int64) -> Int {
            var low = 0, high = cutoffs.count - 1
            while low < high {
                let middle = (low + high) >> 1
                if cutoffs[middle] < cutoff { low = middle + 1 } else { high = middle }
            }
            return low
        }
        let keyOfRow = requests.cutoffs.map(cutoffRank)
        var cutoffStarts = [Int](repeating: 0, count: cutoffs.count + 1)
        for key in keyOfRow { cutoffStarts[key + 1] += 1 }
        for index in 0..<cutoffs.count { cutoffStarts[index + 1] += cutoffStarts[index] }
        var order = [Int](repeating: 0, count: rowCount)
        for row in byRank {
            let key = keyOfRow[row]
            order[cutoffStarts[key]] = row
            cutoffStarts[key] += 1
        }
        return order
    }
}

/// The rows of a label table whose label is known: entity, cutoff and a 0/1 label (what the monitor
/// scores a production model against once outcomes arrive).
public struct LabelledRows: Sendable {
    public var entities: [Int64] = []
    public var cutoffs: [Int64] = []
    public var labels: [Double] = []

    public init(store: Store, table: String, entity: String = "msno", cutoff: String = "cutoff_date", label: String = "is_churn",
                range: ClosedRange<Int64>? = nil) throws {
        let labelTable = try LabelTable(store: store, table: table, entity: entity, cutoff: cutoff, range: range)
        guard let index = labelTable.schemas.firstIndex(where: { $0.name == label }), case .integers(let values) = labelTable.columns[index].values else {
            throw FeaturePlanError(message: "label table \(table) has no integer column '\(label)'")
        }
        let entityIds = labelTable.columns[0].integerValues, days = labelTable.columns[1].integerValues
        for row in 0..<labelTable.rowCount where !labelTable.columns[index].isNull(row) {
            guard values[row] == 0 || values[row] == 1 else { throw FeaturePlanError(message: "label table \(table): \(label) is \(values[row]), not 0 or 1") }
            entities.append(entityIds[row])
            cutoffs.append(days[row])
            labels.append(Double(values[row]))
        }
    }
}
