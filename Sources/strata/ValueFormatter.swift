import StrataFormat
import StrataStorage

/// Text forms of stored values, shared by every output format. CSV output must match the independent
/// reader `tools/strata_read.py` byte for byte: dates as YYYYMMDD, floats as Python's `repr`.
enum ValueFormatter {
    /// Python's `repr` of a double (format-spec §10).
    static func float(_ value: Double) -> String { FloatText.python(value) }

    /// Value at `row` of `column` as text; nil for NULL.
    static func text(_ column: ColumnVector, row: Int, entities: EntityDictionary?) -> String? {
        if column.isNull(row) { return nil }
        switch column.values {
        case .integers(let values):
            let value = values[row]
            switch column.type {
            case .date: return String(Dates.yyyymmdd(dayNumber: Int(value)))
            case .entity:
                guard let entities, Int(value) < entities.count else { return "#\(value)" }
                return entities.string(Int(value))
            default: return String(value)
            }
        case .floats(let values): return float(values[row])
        case .strings(let values): return values.string(at: row)
        }
    }
}
