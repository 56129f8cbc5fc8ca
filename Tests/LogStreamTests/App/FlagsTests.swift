import Testing
@testable import LogStream

@Suite("Flags")
struct FlagsTests {
    @Test("byte counts accept K, M and G suffixes", arguments: [
        ("512", 512), ("64K", 65536), ("64k", 65536), ("256M", 256 << 20), ("1G", 1 << 30), ("2MB", 2 << 20),
    ])
    func byteCounts(text: String, expected: Int) {
        #expect(ByteCount(argument: text)?.value == expected)
    }

    @Test("malformed byte counts are rejected", arguments: ["", "K", "-1", "1.5M", "12Q", "99999999999G"])
    func badByteCounts(text: String) {
        #expect(ByteCount(argument: text) == nil)
    }

    @Test("durations take ms, s, m, h and d, and a bare number is seconds", arguments: [
        ("0", Int64(0)), ("1s", 1000), ("250ms", 250), ("90s", 90_000), ("12h", 43_200_000), ("7D", 604_800_000), ("30", 30_000),
    ])
    func durations(text: String, expected: Int64) {
        #expect(TimeSpan(argument: text)?.milliseconds == expected)
    }

    @Test("malformed durations are rejected", arguments: ["", "s", "-1s", "1.5h", "soon", "3w"])
    func badDurations(text: String) {
        #expect(TimeSpan(argument: text) == nil)
    }

    @Test("byte counts take T too")
    func terabytes() {
        #expect(ByteCount(argument: "1T")?.value == 1 << 40)
    }
}
