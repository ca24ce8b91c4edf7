import Foundation
import StrataFormat
import StrataStorage

/// A training set read from the store into memory for learning: features as float64 columns (NaN for
/// NULL), the label, the cutoff of each row, and the entity ids.
public struct Dataset: Sendable {
    public var featureNames: [String]
    /// Column-major: `features[f][row]`.
    public var features: [[Double]]
    /// Whether each feature is categorical (values are category codes).
    public var categorical: [Bool]
    /// For string features: the text of each code.
    public var categoryNames: [[String]]
    public var labels: [Double]
    public var cutoffs: [Int64]
    public var entities: [Int64]
    public var rowCount: Int { labels.count }

    /// Columns that are never features.
    public static let keyColumns = ["msno", "cutoff_date"]
    /// KKBox columns that are categories although stored as integers.
    public static let defaultCategorical: Set<String> = ["city", "gender", "registered_via", "last_payment_method_id", "payment_method_id"]

    /// Reads `table`: every column but the keys and `label` is a feature. Rows with a NULL label are skipped.
    public static func load(store: Store, table: String, label: String = "is_churn", categorical: Set<String> = defaultCategorical,
                            requireLabel: Bool = true, categoryEncoding: [String: [String]] = [:]) throws -> Dataset {
        let manifest = try store.table(table)
        let names = manifest.columns.map(\.name)
        let labelIndex = names.firstIndex(of: label) ?? -1
        guard labelIndex >= 0 || !requireLabel else {
            throw TrainError("training set \(table) has no label column '\(label)' (columns: \(names.joined(separator: ", ")))")
        }
        guard let entityIndex = names.firstIndex(of: "msno"), let cutoffIndex = names.firstIndex(of: "cutoff_date") else {
            throw TrainError("table \(table) is not a training set: it needs msno and cutoff_date columns")
        }
        let featureIndexes = names.indices.filter { $0 != labelIndex && !keyColumns.contains(names[$0]) }
        guard !featureIndexes.isEmpty else { throw TrainError("training set \(table) has no feature columns") }
        var columns = Array(repeating: [Double](), count: names.count)
        var strings = Array(repeating: [String?](), count: names.count)
        let scan = try TableScan(store: store, table: table)
        var integersByColumn = Array(repeating: [Int64](), count: names.count)
        while let batch = try scan.next() {
            for (index, column) in batch.columns.enumerated() {
                switch column.values {
                case .integers(let values):
                    if index == entityIndex || index == cutoffIndex {
                        integersByColumn[index].append(contentsOf: values)
                    } else {
                        for row in 0..<column.count { columns[index].append(column.isNull(row) ? .nan : Double(values[row])) }
                    }
                case .floats(let values):
                    for row in 0..<column.count { columns[index].append(column.isNull(row) ? .nan : values[row]) }
                case .strings(let values):
                    for row in 0..<column.count { strings[index].append(column.isNull(row) ? nil : values.string(at: row)) }
                }
            }
        }
        var dataset = Dataset(featureNames: [], features: [], categorical: [], categoryNames: [], labels: [], cutoffs: [], entities: [])
        let rowCount = integersByColumn[entityIndex].count
        let labelValues = labelIndex >= 0 ? columns[labelIndex] : [Double](repeating: .nan, count: rowCount)
        let keep = requireLabel ? labelValues.indices.filter { !labelValues[$0].isNaN } : Array(0..<rowCount)
        for index in featureIndexes {
            let column = manifest.columns[index]
            var values: [Double]
            var names: [String] = []
            if column.type == .string {
                // Strings become category codes in order of first appearance (or of a model's own encoding,
                // where unknown strings get a code no bin holds); NULL stays NaN.
                var codes: [String: Double] = [:]
                if let fixed = categoryEncoding[column.name] {
                    for (code, text) in fixed.enumerated() { codes[text] = Double(code) }
                    names = fixed
                }
                let frozen = categoryEncoding[column.name] != nil
                values = strings[index].map { text in
                    guard let text else { return .nan }
                    if let code = codes[text] { return code }
                    if frozen { return -1 }
                    let code = Double(codes.count)
                    codes[text] = code
                    names.append(text)
                    return code
                }
            } else {
                values = columns[index]
            }
            dataset.featureNames.append(column.name)
            dataset.features.append(keep.map { values[$0] })
            dataset.categorical.append(column.type == .string || categorical.contains(column.name))
            dataset.categoryNames.append(names)
        }
        dataset.labels = keep.map { labelValues[$0] }
        dataset.cutoffs = keep.map { integersByColumn[cutoffIndex][$0] }
        dataset.entities = keep.map { integersByColumn[entityIndex][$0] }
        for label in dataset.labels where requireLabel && label != 0 && label != 1 {
            throw TrainError("label \(label) is not 0 or 1: binary churn labels are expected")
        }
        return dataset
    }

    /// The same rows with features in `names` order (the order a model was trained with).
    public func aligned(to names: [String], categoryNames modelNames: [[String]]) throws -> Dataset {
        var result = self
        result.features = []
        result.categorical = []
        result.categoryNames = []
        for (index, name) in names.enumerated() {
            guard let source = featureNames.firstIndex(of: name) else {
                throw TrainError("the model needs feature \(name), which this table does not have (columns: \(featureNames.joined(separator: ", ")))")
            }
            result.features.append(features[source])
            result.categorical.append(categorical[source])
            result.categoryNames.append(modelNames.indices.contains(index) ? modelNames[index] : categoryNames[source])
        }
        result.featureNames = names
        return result
    }

    /// The rows at `rows`, in that order.
    public func selecting(_ rows: [Int]) -> Dataset {
        var result = self
        result.features = features.map { column in rows.map { column[$0] } }
        result.labels = rows.map { labels[$0] }
        result.cutoffs = rows.map { cutoffs[$0] }
        result.entities = rows.map { entities[$0] }
        return result
    }

    /// Rows whose cutoff is before `validFrom` train; the others validate.
    public func split(validFrom: Int64) -> (train: [Int], valid: [Int]) {
        var train: [Int] = []
        var valid: [Int] = []
        for row in 0..<rowCount { if cutoffs[row] < validFrom { train.append(row) } else { valid.append(row) } }
        return (train, valid)
    }
}

/// A problem with training input or options, said plainly.
public struct TrainError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
