import Testing
@testable import LogStream

/// Inputs the fuzzers (Fuzz/) found crashing, kept so that they never crash again.
@Suite("Inputs found by fuzzing")
struct FuzzFoundTests {
    @Test("a logfmt-looking line with a bad quoted value and a stray level word")
    func logfmtWithBadQuotes() {
        let line: [UInt8] = Array("time=20ice=db nsg=\"".utf8) + [0x91, 0x91, 0x91, 0x91, 0x91] + Array("123Z".utf8)
            + [UInt8](repeating: 0x91, count: 43) + Array(" ERROR \t[pad declined".utf8) + [0x91, 0x91, 0x91, 0x91]
            + Array("qu".utf8) + [0xBD] + Array("ry \\\"slow\\u\" \"ser=a tooklice=3s".utf8)
        var fields = FieldsBuilder()
        let parsed = line.withUnsafeBytes { RecordParser.parse($0, receivedAt: 1_795_946_400_000, fields: &fields) }
        #expect(parsed != nil)
    }

    @Test("a \\u escape cut short by the end of a quoted logfmt value", arguments: ["\\u", "\\u1", "\\u12", "\\u123", "\\uZZZZ", "ab\\u"])
    func shortUnicodeEscape(value: String) throws {
        let line = "level=info service=x note=\"\(value)\""
        var fields = FieldsBuilder()
        let parsed = withBytes(line) { RecordParser.parse($0, receivedAt: 0, fields: &fields) }
        #expect(parsed?.format == .logfmt)
        let stored = fields.bytes.withUnsafeBytes { RecordFields(blob: $0).value(named: Array("note".utf8)).map { Array($0) } }
        let expected = value.replacingOccurrences(of: "\\u", with: "\u{FFFD}")
        #expect(stored == Array(expected.utf8))
    }
}
