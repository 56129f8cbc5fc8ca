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
