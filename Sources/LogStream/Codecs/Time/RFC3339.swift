// RFC 3339 timestamps (`2026-11-28T18:00:00.123456+01:00`), read for every plain line that starts with one and
// every RFC 5424 message: the fixed part is checked eight bytes at a time, and lines in time order reuse the
// minute of the line before.

extension Timestamp {
    /// Milliseconds since the epoch of an RFC 3339 timestamp (`2026-11-28T18:00:00.123456+01:00`); nil if it is
    /// not one. Fractions beyond milliseconds are dropped.
    public static func milliseconds(rfc3339 text: UnsafeRawBufferPointer) -> Int64? {
        guard let (milliseconds, length) = rfc3339Prefix(text), length == text.count else { return nil }
        return milliseconds
    }

    /// An RFC 3339 timestamp at the start of `text`: its time and length. It runs for every plain line that
    /// starts with a timestamp and every RFC 5424 message, so the fixed part is checked eight bytes at a time.
    static func rfc3339Prefix(_ text: UnsafeRawBufferPointer) -> (milliseconds: Int64, length: Int)? {
        var recent = RecentMinute()
        return rfc3339Prefix(text, recent: &recent)
    }

    /// The same, reusing the minute of the previous timestamp when this one shares it (`YYYY-MM-DDTHH:MM`).
    static func rfc3339Prefix(_ text: UnsafeRawBufferPointer, recent: inout RecentMinute) -> (milliseconds: Int64, length: Int)? {
        guard text.count >= 20 else { return nil }
        let dateWord = text.loadUnaligned(as: UInt64.self)
        let clockWord = text.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        guard text[16] == UInt8(ascii: ":"), text[17] &- 0x30 < 10, text[18] &- 0x30 < 10 else { return nil }
        let second = Int64(text[17] - 0x30) * 10 + Int64(text[18] - 0x30)
        guard second < 61 else { return nil }
        if !recent.isSet || dateWord != recent.dateWord || clockWord != recent.clockWord {
            guard let minute = minuteMilliseconds(dateWord, clockWord) else { return nil }
            recent = RecentMinute(dateWord: dateWord, clockWord: clockWord, milliseconds: minute)
        }
        var milliseconds = recent.milliseconds &+ second &* 1000
        var index = 19
        if text[index] == UInt8(ascii: ".") {
            index += 1
            let fractionStart = index
            while index < text.count, text[index] &- 0x30 < 10 { index += 1 }
            guard index > fractionStart, index - fractionStart <= 9 else { return nil }
            // Milliseconds are the first three digits, as many as there are.
            let digits = index - fractionStart
            milliseconds &+= Int64(text[fractionStart] &- 0x30) &* 100
            if digits > 1 { milliseconds &+= Int64(text[fractionStart + 1] &- 0x30) &* 10 }
            if digits > 2 { milliseconds &+= Int64(text[fractionStart + 2] &- 0x30) }
        }
        guard index < text.count else { return nil }
        if text[index] | 0x20 == UInt8(ascii: "z") { return (milliseconds, index + 1) }
        func twoDigits(_ at: Int) -> Int64? {
            let tens = text[at] &- 0x30, ones = text[at + 1] &- 0x30
            return tens < 10 && ones < 10 ? Int64(tens) * 10 + Int64(ones) : nil
        }
        guard text[index] == UInt8(ascii: "+") || text[index] == UInt8(ascii: "-"), index + 6 <= text.count,
              let offsetHours = twoDigits(index + 1), text[index + 3] == UInt8(ascii: ":"),
              let offsetMinutes = twoDigits(index + 4), offsetHours < 24, offsetMinutes < 60 else { return nil }
        let offset = (offsetHours * 60 + offsetMinutes) * 60_000
        return (text[index] == UInt8(ascii: "+") ? milliseconds - offset : milliseconds + offset, index + 6)
    }

    /// `YYYY-MM-` and `DDTHH:MM` (as read, little-endian) checked and turned into the minute's milliseconds.
    private static func minuteMilliseconds(_ dateWord: UInt64, _ clockWord: UInt64) -> Int64? {
        // Less "0" in every byte: digits become 0...9.
        let date = dateWord ^ 0x3030_3030_3030_3030
        let clock = clockWord ^ 0x3030_3030_3030_3030
        guard SWAR.allDigits(date, at: 0x00FF_FF00_FFFF_FFFF), SWAR.allDigits(clock, at: 0xFFFF_00FF_FF00_FFFF),
              date & 0xFF00_00FF_0000_0000 == 0x1D00_001D_0000_0000,  // "-" at 4 and 7, less "0"
              clock & 0x0000_FF00_00DF_0000 == 0x0000_0A00_0044_0000  // ":" at 13; "T" or "t" at 10
        else { return nil }
        let year = SWAR.pair(date, 0) * 100 + SWAR.pair(date, 2), month = SWAR.pair(date, 5), day = SWAR.pair(clock, 0)
        let hour = SWAR.pair(clock, 3), minute = SWAR.pair(clock, 6)
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, year > 0 else { return nil }
        // Every operand is range-checked above, so the arithmetic cannot overflow: wrapping operators skip the checks.
        return ((daysSinceEpoch(year: year, month: month, day: day) &* 24 &+ hour) &* 60 &+ minute) &* 60_000
    }
}

/// The first 16 bytes of the last RFC 3339 timestamp read (`YYYY-MM-DDTHH:MM`) and that minute in milliseconds:
/// lines arrive in time order, so most share the minute of the line before, and skip its checks and date
/// arithmetic.
public struct RecentMinute {
    var isSet = false
    var dateWord: UInt64 = 0
    var clockWord: UInt64 = 0
    var milliseconds: Int64 = 0

    public init() {}

    init(dateWord: UInt64, clockWord: UInt64, milliseconds: Int64) {
        isSet = true
        self.dateWord = dateWord
        self.clockWord = clockWord
        self.milliseconds = milliseconds
    }
}

/// Eight bytes at once in a little-endian word (byte `i` in bits `8i..<8i+8`), each already less "0".
enum SWAR {
    /// Whether every byte selected by `mask` is 0...9: its high nibble is clear, and stays clear after adding 6.
    @inline(__always) static func allDigits(_ word: UInt64, at mask: UInt64) -> Bool {
        let selected = word & mask
        return selected & 0xF0F0_F0F0_F0F0_F0F0 == 0 && (selected &+ 0x0606_0606_0606_0606) & mask & 0xF0F0_F0F0_F0F0_F0F0 == 0
    }

    /// The two-digit number in bytes `position` and `position + 1`.
    @inline(__always) static func pair(_ word: UInt64, _ position: Int) -> Int64 {
        Int64(word >> (8 * UInt64(position)) & 0xFF) * 10 + Int64(word >> (8 * UInt64(position + 1)) & 0xFF)
    }
}
