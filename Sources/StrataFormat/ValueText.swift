/// The text form of stored values (format-spec §10), the one implementation every output uses: `strata
/// scan`, `strata query`, `strata features get`, the tests and the independent reader's contract.
///
/// NULL is nil (the caller prints an empty CSV field or "NULL"); integers and bools in decimal; dates as
/// YYYYMMDD (`compact`, the stored form) or YYYY-MM-DD (`iso`, SQL's); floats as Python's `repr`;
/// entities as their msno.
public enum ValueText {
    public enum DateStyle: Sendable {
        case compact
        case iso
    }

    /// Python's `repr` of a double: the shortest digits that read back as the same double.
    public static func float(_ value: Double) -> String { FloatText.python(value) }

    public static func date(_ dayNumber: Int64, style: DateStyle) -> String {
        switch style {
        case .compact:
            return String(Dates.yyyymmdd(dayNumber: Int(dayNumber)))
        case .iso:
            let (year, month, day) = Dates.civil(dayNumber: Int(dayNumber))
            if (0...9999).contains(year) {
                // Every printed date goes through here (exports of millions of rows): ten bytes written in
                // place, a small string with no allocation, rather than interpolated and padded pieces.
                return String(unsafeUninitializedCapacity: 10) { buffer in
                    let zero = UInt8(ascii: "0")
                    buffer[0] = zero + UInt8(year / 1000)
                    buffer[1] = zero + UInt8(year / 100 % 10)
                    buffer[2] = zero + UInt8(year / 10 % 10)
                    buffer[3] = zero + UInt8(year % 10)
                    buffer[4] = UInt8(ascii: "-")
                    buffer[5] = zero + UInt8(month / 10)
                    buffer[6] = zero + UInt8(month % 10)
                    buffer[7] = UInt8(ascii: "-")
                    buffer[8] = zero + UInt8(day / 10)
                    buffer[9] = zero + UInt8(day % 10)
                    return 10
                }
            }
            func pad(_ value: Int, _ width: Int) -> String {
                let text = String(value)
                return String(repeating: "0", count: max(0, width - text.count)) + text
            }
            return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
        }
    }

    /// The cell at `row` of `column`; nil for NULL. `entity` names an entity id (its msno).
    public static func cell(_ column: ColumnVector, row: Int, dates: DateStyle = .iso, entity: (Int64) -> String) -> String? {
        if column.isNull(row) { return nil }
        switch column.values {
        case .integers(let values):
            let value = values[row]
            switch column.type {
            case .date: return date(value, style: dates)
            case .entity: return entity(value)
            default: return String(value)
            }
        case .floats(let values): return float(values[row])
        case .strings(let values): return values.string(at: row)
        }
    }

    /// An integer with thousands separators for people: 1234567 → "1,234,567".
    public static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var result = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { result.append(",") }
            result.append(character)
        }
        return (value < 0 ? "-" : "") + result
    }
}
