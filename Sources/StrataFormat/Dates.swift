/// Calendar dates as day numbers: days since 1970-01-01 in the proleptic Gregorian calendar, the
/// storage form of every date column (format-spec §1). Pure integer arithmetic, no Foundation.
public enum Dates {
    /// Years accepted from input (CSV, flags, SQL): four digits, as YYYYMMDD can write them.
    public static let yearRange = 1...9999
    /// Day numbers of 0001-01-01 ... 9999-12-31: every date a store holds lies in it.
    public static let dayRange = daysFromCivil(year: 1, month: 1, day: 1)...daysFromCivil(year: 9999, month: 12, day: 31)

    /// The first day of the month containing `dayNumber` (any day number, valid or not as input).
    public static func firstDayOfMonth(dayNumber: Int) -> Int {
        let (year, month, _) = civil(dayNumber: dayNumber)
        return daysFromCivil(year: year, month: month, day: 1)
    }

    /// The day numbers of the month containing `dayNumber`, its first day through its last.
    public static func month(containing dayNumber: Int) -> ClosedRange<Int> {
        let (year, month, _) = civil(dayNumber: dayNumber)
        let first = daysFromCivil(year: year, month: month, day: 1)
        return first...(first + daysInMonth(year: year, month: month) - 1)
    }

    /// A day given as text: `YYYYMMDD` or `YYYY-MM-DD`, a valid calendar date in `yearRange`; nil otherwise.
    public static func parse(_ text: String) -> Int? {
        let bytes = Array(text.utf8)
        func digits(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                guard bytes[index] >= 48 && bytes[index] <= 57 else { return nil }
                value = value * 10 + Int(bytes[index] - 48)
            }
            return value
        }
        switch bytes.count {
        case 8:
            guard let year = digits(0..<4), let month = digits(4..<6), let day = digits(6..<8) else { return nil }
            return dayNumber(year: year, month: month, day: day)
        case 10 where bytes[4] == UInt8(ascii: "-") && bytes[7] == UInt8(ascii: "-"):
            guard let year = digits(0..<4), let month = digits(5..<7), let day = digits(8..<10) else { return nil }
            return dayNumber(year: year, month: month, day: day)
        default:
            return nil
        }
    }

    /// Day number of a valid calendar date, or nil.
    @inline(__always) public static func dayNumber(year: Int, month: Int, day: Int) -> Int? {
        guard yearRange.contains(year), (1...12).contains(month), day >= 1, day <= daysInMonth(year: year, month: month) else { return nil }
        return daysFromCivil(year: year, month: month, day: day)
    }

    /// Day number of a YYYYMMDD integer, or nil when it is not a valid date.
    public static func dayNumber(yyyymmdd value: Int) -> Int? {
        dayNumber(year: value / 10_000, month: value / 100 % 100, day: value % 100)
    }

    /// YYYYMMDD integer of a day number.
    public static func yyyymmdd(dayNumber: Int) -> Int {
        let (year, month, day) = civil(dayNumber: dayNumber)
        return year * 10_000 + month * 100 + day
    }

    /// YYYYMM key of the month containing the day: the partition key of monthly tables.
    public static func monthKey(dayNumber: Int) -> Int {
        yyyymmdd(dayNumber: dayNumber) / 100
    }

    public static func isLeap(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    public static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Howard Hinnant's days_from_civil algorithm (public domain), in eras of 400 years.
    @inline(__always) public static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The inverse of `daysFromCivil`. Inlinable: the query engine calls it per row.
    @inlinable public static func civil(dayNumber: Int) -> (year: Int, month: Int, day: Int) {
        let z = dayNumber + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
