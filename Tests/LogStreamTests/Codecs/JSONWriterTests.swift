import Testing
@testable import LogStream

@Suite("JSON writer and timestamps")
struct JSONWriterTests {
    func encoded(_ bytes: [UInt8]) -> String {
        var json = JSONWriter()
        bytes.withUnsafeBytes { json.string($0) }
        return String(decoding: json.bytes, as: UTF8.self)
    }

    @Test("quotes, backslashes and control bytes are escaped")
    func escapes() {
        #expect(encoded(Array("a\"b\\c\n\r\t".utf8)) == #""a\"b\\c\n\r\t""#)
        #expect(encoded([0x01, 0x1F, 0x7F]) == "\"\\u0001\\u001f\u{7F}\"")
    }

    @Test("valid multi-byte UTF-8 passes through")
    func utf8() {
        #expect(encoded(Array("café ☕ 𝄞".utf8)) == "\"café ☕ 𝄞\"")
    }

    @Test("invalid UTF-8 becomes U+FFFD", arguments: [
        ([0x63, 0x61, 0x66, 0xE9] as [UInt8], "\"caf\u{FFFD}\""),
        ([0xC0, 0xAF], "\"\u{FFFD}\u{FFFD}\""),            // overlong
        ([0xED, 0xA0, 0x80], "\"\u{FFFD}\u{FFFD}\u{FFFD}\""),  // surrogate
        ([0xF4, 0x90, 0x80, 0x80], "\"\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}\""),  // above U+10FFFF
        ([0xE2, 0x98], "\"\u{FFFD}\u{FFFD}\""),              // cut short
        ([0xFF], "\"\u{FFFD}\""),
    ])
    func invalidUTF8(bytes: [UInt8], expected: String) {
        #expect(encoded(bytes) == expected)
    }

    @Test("any bytes give JSON that a strict parser accepts")
    func anyBytesParse() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let bytes = (0..<64).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let text = encoded(bytes)
            #expect(text.unicodeScalars.first == "\"" && text.unicodeScalars.last == "\"")
            #expect(!text.unicodeScalars.contains { $0.value < 0x20 })
        }
    }

    @Test("timestamps are ISO 8601 UTC with milliseconds", arguments: [
        (Int64(0), "1970-01-01T00:00:00.000Z"),
        (1_764_352_800_123, "2025-11-28T18:00:00.123Z"),
        (951_782_400_000, "2000-02-29T00:00:00.000Z"),
        (-1, "1969-12-31T23:59:59.999Z"),
        (4_102_444_799_999, "2099-12-31T23:59:59.999Z"),
    ])
    func timestamps(milliseconds: Int64, expected: String) {
        #expect(Timestamp.iso8601(milliseconds: milliseconds) == expected)
    }

    @Test("dates and day numbers agree both ways from year 1 to 9999")
    func daysSinceEpochInvertsCivilDate() {
        // Every day of 1899-2101 (leap rules of 1900, 2000, 2100), then every 97th day across the whole range.
        let first = Timestamp.daysSinceEpoch(year: 1, month: 1, day: 1)
        let last = Timestamp.daysSinceEpoch(year: 9999, month: 12, day: 31)
        let dense = Timestamp.daysSinceEpoch(year: 1899, month: 1, day: 1)...Timestamp.daysSinceEpoch(year: 2101, month: 12, day: 31)
        var mismatches = 0
        for days in Array(dense) + Array(stride(from: first, through: last, by: 97)) {
            let date = Timestamp.civilDate(daysSinceEpoch: days)
            if Timestamp.daysSinceEpoch(year: date.year, month: date.month, day: date.day) != days { mismatches += 1 }
        }
        #expect(mismatches == 0)
        #expect(Timestamp.daysSinceEpoch(year: 1970, month: 1, day: 1) == 0)
        #expect(Timestamp.daysSinceEpoch(year: 2000, month: 3, day: 1) == 11_017)
    }

    @Test("RFC 3339 times read back what ISO 8601 formatting wrote, for random instants of years 1 to 9999")
    func rfc3339RoundTrip() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let milliseconds = Int64.random(in: -62_135_596_800_000...253_402_300_799_999, using: &generator)
            let text = Timestamp.iso8601(milliseconds: milliseconds)
            #expect(withBytes(text) { Timestamp.milliseconds(rfc3339: $0) } == milliseconds, "\(text)")
        }
    }

    @Test("RFC 3339 shapes: offsets, fractions, lower case, and every byte of the fixed part checked")
    func rfc3339Shapes() {
        func parsed(_ text: String) -> Int64? { withBytes(text) { Timestamp.milliseconds(rfc3339: $0) } }
        #expect(parsed("2026-11-29T10:00:00Z") == 1_795_946_400_000)
        #expect(parsed("2026-11-29t10:00:00.5z") == 1_795_946_400_500)
        #expect(parsed("2026-11-29T11:30:00.123456+01:30") == 1_795_946_400_123)
        #expect(parsed("2026-11-29T08:00:00-02:00") == 1_795_946_400_000)
        let valid = Array("2026-11-29T10:00:00Z".utf8)
        for position in 0..<19 {
            for replacement in [UInt8(ascii: "a"), UInt8(ascii: "/"), UInt8(ascii: ":"), 0x3A, 0x40, 0xB0, 0] where replacement != valid[position] {
                var broken = valid
                broken[position] = replacement
                let accepted = withBytes(broken) { Timestamp.milliseconds(rfc3339: $0) }
                #expect(accepted == nil || (position == 10 && replacement | 0x20 == 0x74), "byte \(position) = \(replacement)")
            }
        }
        for bad in ["2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z", "2026-11-32T00:00:00Z", "2026-11-29T24:00:00Z",
                    "2026-11-29T10:60:00Z", "0000-11-29T10:00:00Z", "2026-11-29T10:00:00", "2026-11-29T10:00:00.Z",
                    "2026-11-29T10:00:00+0100", "2026-11-29 10:00:00Z"] {
            #expect(parsed(bad) == nil, "\(bad)")
        }
    }

    @Test("a shared recent minute gives the same answers as parsing each timestamp afresh")
    func recentMinuteCache() {
        let texts = ["2026-11-29T10:10:00.100Z x", "2026-11-29T10:10:59Z x", "2026-11-29T10:10:5xZ x", "2026-11-29T10:11:00Z x",
                     "2026-11-29t10:11:01Z x", "2026-11-29T10:11:02+01:00 x", "2026-11-29T10:11", "2026-11-29T10:11:03.9Z",
                     "2027-02-29T10:11:03Z x", "2026-11-29T10:11:03Z x", String(repeating: "\u{0}", count: 16) + ":00Z x"]
        var recent = RecentMinute()
        for text in texts + texts.reversed() {
            let shared = withBytes(text) { Timestamp.rfc3339Prefix($0, recent: &recent) }
            let fresh = withBytes(text) { Timestamp.rfc3339Prefix($0) }
            #expect(shared?.milliseconds == fresh?.milliseconds && shared?.length == fresh?.length, "\(text)")
        }
        #expect(withBytes(texts.last!) { Timestamp.rfc3339Prefix($0) } == nil)
    }
}
