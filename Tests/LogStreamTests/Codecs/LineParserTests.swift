import Testing
@testable import LogStream

@Suite("Level and service parsing")
struct LineParserTests {
    func parse(_ line: String) -> (level: LogLevel, service: String?)? {
        withBytes(line) { bytes in
            LineParser.parse(bytes).map { parsed in
                (parsed.level, parsed.service.map { UnsafeRawBufferPointer(rebasing: bytes[$0]).text })
            }
        }
    }

    @Test("level words are found as whole tokens, case-insensitively", arguments: [
        ("TRACE entering loop", LogLevel.trace),
        ("debug cache miss", .debug),
        ("Info started", .info),
        ("WARN disk 91%", .warn),
        ("warning: low memory", .warn),
        ("ERROR failed", .error),
        ("err: bad thing", .error),
        ("FATAL out of memory", .fatal),
        ("CRITICAL overheating", .fatal),
        ("crit: x", .fatal),
        ("PANIC now", .fatal),
        ("EMERG system unusable", .fatal),
        ("ALERT act now", .fatal),
        ("[ERROR] bracketed", .error),
        ("level=warn msg=hi", .warn),
    ])
    func levels(line: String, expected: LogLevel) {
        #expect(parse(line)?.level == expected)
    }

    @Test("the first level word wins: 'INFO no errors found' is INFO")
    func firstWins() {
        #expect(parse("INFO no errors found")?.level == .info)
        #expect(parse("DEBUG ... terrorist")?.level == .debug)
    }

    @Test("a level after a timestamp is found")
    func afterTimestamp() {
        #expect(parse("2026-11-28T18:00:00.123Z ERROR [db] timeout")?.level == .error)
        #expect(parse("2026-11-28 18:00:00,123 - WARN - retrying")?.level == .warn)
    }

    @Test("substrings of other words are not levels")
    func substrings() {
        #expect(parse("terrorist information debugger")?.level == .info)
        #expect(parse("[error-handler] started")?.level == .info)
    }

    @Test("a level word deep in the message is not the line's level")
    func deepWord() {
        #expect(parse("user alice opened the page and saw an error")?.level == .info)
    }

    @Test("no level word means INFO")
    func defaultLevel() {
        #expect(parse("hello world")?.level == .info)
    }

    @Test("service is the first standalone [name]", arguments: [
        ("INFO [auth] ok", "auth"),
        ("ERROR [payment-gateway] failed", "payment-gateway"),
        ("[auth.service] dotted names count", "auth.service"),
        ("[my_svc] underscore", "my_svc"),
        ("[2024-01-01] [worker] dates are not services", "worker"),
        ("sshd[1234]: [api] a tag's pid is not a service", "api"),
    ])
    func services(line: String, expected: String) {
        #expect(parse(line)?.service == expected)
    }

    @Test("lines without a service give nil", arguments: [
        "no brackets", "sshd[1234]: accepted", "[2024-01-01] only a date", "[has space] x", "[] empty", "[unclosed",
    ])
    func noService(line: String) {
        #expect(parse(line)?.service == nil)
    }

    @Test("whitespace is trimmed and blank lines are rejected")
    func trimming() {
        #expect(withBytes("  \tINFO x \r") { LineParser.parse($0)?.content } == 3..<9)
        #expect(withBytes("   \r") { LineParser.parse($0) } == nil)
        #expect(withBytes("") { LineParser.parse($0) } == nil)
    }

    @Test("level names parse with synonyms for filters")
    func levelNames() {
        #expect(LogLevel(name: "warning") == .warn)
        #expect(LogLevel(name: "Error") == .error)
        #expect(LogLevel(name: "bogus") == nil)
    }
}
