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
}
