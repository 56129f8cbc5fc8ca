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
}
