import StrataFormat

/// Text forms SQL uses for dates (`YYYY-MM-DD`) and the type names CAST accepts.
enum SQLDates {
    /// The day number of `YYYY-MM-DD`, or nil when the text is not a valid date.
    static func parse(_ text: String) -> Int64? {
        let parts = text.trimmingWhitespace().split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, (1...2).contains(parts[1].count), (1...2).contains(parts[2].count),
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
              let number = Dates.dayNumber(year: year, month: month, day: day) else { return nil }
        return Int64(number)
    }

    static func format(_ dayNumber: Int64) -> String { ValueText.date(dayNumber, style: .iso) }

    static func castTarget(_ name: String) -> SQLType? {
        switch name.lowercased() {
        case "bigint", "int8", "int64", "long", "int", "integer", "int4", "int32": .bigint
        case "double", "float8", "float64": .double
        case "varchar", "text", "string": .varchar
        case "date": .date
        case "boolean", "bool": .boolean
        default: nil
        }
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" || first == "\n" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" || last == "\n" { scalars.removeLast() }
        return String(scalars)
    }
}
