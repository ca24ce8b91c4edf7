/// Calendar dates as day numbers: days since 1970-01-01 in the proleptic Gregorian calendar, the
/// storage form of every date column (format-spec §1). Pure integer arithmetic, no Foundation.
public enum Dates {
    /// Years accepted from input: wide enough for every real KKBox quirk (1970 expiries, 2026 plans).
    public static let yearRange = 1900...2199

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
