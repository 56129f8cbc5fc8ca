// Formats milliseconds since the Unix epoch as ISO 8601 UTC ("2026-11-28T18:00:00.123Z") without Foundation:
// it runs for every record written to JSON.

public enum Timestamp {
    public static func appendISO8601(milliseconds: Int64, to output: inout [UInt8]) {
        let (days, msOfDay) = milliseconds.quotientAndRemainder(dividingBy: 86_400_000)
        let dayCount = msOfDay < 0 ? days - 1 : days
        let ms = msOfDay < 0 ? msOfDay + 86_400_000 : msOfDay
        let (year, month, day) = civilDate(daysSinceEpoch: dayCount)
        appendDigits(year, width: 4, to: &output)
        output.append(UInt8(ascii: "-"))
        appendDigits(month, width: 2, to: &output)
        output.append(UInt8(ascii: "-"))
        appendDigits(day, width: 2, to: &output)
        output.append(UInt8(ascii: "T"))
        appendDigits(ms / 3_600_000, width: 2, to: &output)
        output.append(UInt8(ascii: ":"))
        appendDigits(ms / 60_000 % 60, width: 2, to: &output)
        output.append(UInt8(ascii: ":"))
        appendDigits(ms / 1000 % 60, width: 2, to: &output)
        output.append(UInt8(ascii: "."))
        appendDigits(ms % 1000, width: 3, to: &output)
        output.append(UInt8(ascii: "Z"))
    }

    public static func iso8601(milliseconds: Int64) -> String {
        var output: [UInt8] = []
        appendISO8601(milliseconds: milliseconds, to: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian calendar).
    static func civilDate(daysSinceEpoch: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func appendDigits(_ value: Int64, width: Int, to output: inout [UInt8]) {
        var divisor: Int64 = 1
        for _ in 1..<width { divisor *= 10 }
        var remaining = value
        while divisor > 0 {
            output.append(UInt8(ascii: "0") + UInt8(remaining / divisor % 10))
            remaining %= divisor
            divisor /= 10
        }
    }
}

extension Timestamp {
    /// Days since 1970-01-01 of a proleptic Gregorian date in years 1–9999: whole years, their leap days, and
    /// the days before the month from a table (unsigned operands keep the divisions cheap multiplies).
    @inline(__always) static func daysSinceEpoch(year: Int64, month: Int64, day: Int64) -> Int64 {
        let daysBeforeMonth: (Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64) =
            (0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334)
        let before = withUnsafeBytes(of: daysBeforeMonth) { $0.load(fromByteOffset: Int(month - 1) * 8, as: Int64.self) }
        let unsignedYear = UInt64(year)
        let previous = unsignedYear - 1
        let leapDaysBefore = Int64(previous / 4 - previous / 100 + previous / 400) - 477  // 477 up to 1970
        let isLeap = unsignedYear % 4 == 0 && (unsignedYear % 100 != 0 || unsignedYear % 400 == 0)
        return (year - 1970) * 365 + leapDaysBefore + before + (isLeap && month > 2 ? 1 : 0) + day - 1
    }

    /// An RFC 3164 `Mmm dd hh:mm:ss` (no year, no zone: read as UTC) in the year of `reference`, or the year
    /// before when that would put it more than a day after `reference` (a December line read in January).
    public static func milliseconds(bsd text: UnsafeRawBufferPointer, near reference: Int64) -> Int64? {
        guard text.count == 15, let monthIndex = SyslogParser.months.firstIndex(where: { $0.elementsEqual(text[0..<3]) }) else {
            return nil
        }
        func number(_ at: Int, _ count: Int) -> Int64 {
            text[at..<(at + count)].reduce(0) { $0 * 10 + Int64($1 == 0x20 ? 0 : $1 - 0x30) }
        }
        let (day, hour, minute, second) = (number(4, 2), number(7, 2), number(10, 2), number(13, 2))
        guard (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        let year = civilDate(daysSinceEpoch: reference >= 0 ? reference / 86_400_000 : (reference + 1) / 86_400_000 - 1).year
        func at(_ year: Int64) -> Int64 {
            let days = daysSinceEpoch(year: year, month: Int64(monthIndex + 1), day: day)
            return ((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000
        }
        let sameYear = at(year)
        return sameYear > reference + 86_400_000 ? at(year - 1) : sameYear
    }

    /// Epoch seconds or milliseconds written as a JSON number (`1732816800`, `1732816800.5`, `1732816800123`):
    /// values from 10^11 up are read as milliseconds.
    public static func milliseconds(epoch text: UnsafeRawBufferPointer) -> Int64? {
        var whole: Int64 = 0
        var index = 0
        while index < text.count, text[index] &- 0x30 < 10 {
            guard whole < 1_000_000_000_000_000 else { return nil }
            whole = whole * 10 + Int64(text[index] - 0x30)
            index += 1
        }
        guard index > 0 else { return nil }
        var fraction: Int64 = 0
        if index < text.count, text[index] == UInt8(ascii: ".") {
            var scale: Int64 = 100
            index += 1
            while index < text.count, text[index] &- 0x30 < 10 {
                fraction += Int64(text[index] - 0x30) * scale
                scale /= 10
                index += 1
            }
        }
        guard index == text.count else { return nil }
        return whole >= 100_000_000_000 ? whole : whole * 1000 + fraction
    }
}
