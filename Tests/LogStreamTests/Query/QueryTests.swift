import Testing
@testable import LogStream

@Suite("Query language")
struct QueryTests {
    func parse(_ text: String) throws -> Query? { try QueryParser.parse(text) }

    func error(_ text: String) -> QueryError? {
        do { _ = try QueryParser.parse(text); return nil } catch { return error }
    }

    /// Whether `query` matches a record with these parts, stored in a real ring.
    func matches(_ query: String, line: String, level: LogLevel = .info, service: String = "", host: String = "10.0.0.1",
                 fields: [(String, String)] = []) throws -> Bool {
        let parsed = try QueryParser.parse(query)
        let ring = LogRing(capacity: 4, arenaBytes: 4096)
        var builder = FieldsBuilder()
        for (name, value) in fields { withBytes(name) { name in withBytes(value) { builder.append(name: name, value: $0) } } }
        let text = service.isEmpty ? line : "[\(service)] \(line)"
        let id = withBytes(text) { line in
            withBytes(host) { host in
                builder.bytes.withUnsafeBytes { blob in
                    ring.append(NewRecord(line: line, host: host, level: level, service: slice(line, service.isEmpty ? nil : 1..<(1 + service.utf8.count)),
                                          ingestProtocol: .tcp, isTruncated: false, receivedAtMilliseconds: 0, fields: blob))
                }
            }
        }
        return ring.read(id) { parsed?.matches($0) ?? true }!
    }

    @Test("words and phrases match whole words; a * at either end leaves that end open")
    func wholeWords() throws {
        #expect(try matches("time", line: "request time 12ms"))
        #expect(try !matches("time", line: "timeout after 5s"))
        #expect(try matches("time*", line: "timeout after 5s") && matches("*out", line: "timeout after 5s") && matches("*meo*", line: "timeout"))
        #expect(try !matches("*out", line: "outage") && !matches("time*", line: "overtime"))
        #expect(try matches("TIMEOUT", line: "db Timeout!") && matches("timeout", line: "(timeout)"))
        #expect(try matches("\"line 2\"", line: "line 2 of 9") && !matches("\"line 2\"", line: "line 20"))
        #expect(try matches("\"/api/orders\"", line: "GET /api/orders/42") && matches("\"/api\"", line: "x/api/y"))
        #expect(try matches("10.0.0.1", line: "from 10.0.0.1:80") && !matches("10.0.0.1", line: "from 10.0.0.12"))
        #expect(try matches("ünï", line: "a ünï b") && !matches("ün", line: "a ünï b"))
        #expect(try matches("*", line: "a * b") && !matches("*", line: "a b"), "a lone * is a byte")
        #expect(try parse("time*") == .partialText(Array("time".utf8), wordStart: true, wordEnd: false))
        #expect(try parse("\"time*\"") == .text(Array("time*".utf8)), "inside quotes, * is a byte")
    }

    @Test("the whole words a match must hold, for the disk's word filters")
    func requiredWords() throws {
        func words(_ text: String) throws -> Set<UInt64> { Set(try parse(text)?.requiredWords ?? []) }
        func hashes(_ words: String...) -> Set<UInt64> { Set(words.map { Tokens.hash(Array($0.utf8)) }) }
        #expect(try words("Timeout") == hashes("timeout"))
        #expect(try words("\"disk full\" level:error") == hashes("disk", "full"))
        #expect(try words("time*") == [] && words("*rror* db") == hashes("db"))
        #expect(try words("\"a.b*\"") == hashes("a", "b"), "quoted: the * is a byte, not a word")
        #expect(try words("*x-y-z*") == hashes("y"))
        #expect(try words("a OR b") == [] && words("-a") == [] && words("/a+/") == [] && words("field.x:y") == [])
    }

    @Test("words, phrases and keys parse into the expected tree")
    func trees() throws {
        #expect(try parse("") == nil)
        #expect(try parse("   ") == nil)
        #expect(try parse("Timeout") == .text(Array("timeout".utf8)))
        #expect(try parse("\"disk full\"") == .text(Array("disk full".utf8)))
        #expect(try parse("a b") == .and([.text([97]), .text([98])]))
        #expect(try parse("a AND b OR c") == .or([.and([.text([97]), .text([98])]), .text([99])]))
        #expect(try parse("a (b OR c)") == .and([.text([97]), .or([.text([98]), .text([99])])]))
        #expect(try parse("-a NOT b") == .and([.not(.text([97])), .not(.text([98]))]))
        #expect(try parse("-(a b)") == .not(.and([.text([97]), .text([98])])))
        #expect(try parse("level:>=warn") == .level(.atLeast, .warn))
        #expect(try parse("level:ERROR") == .level(.equal, .error))
        #expect(try parse("service:pay*") == .service(Pattern(Array("pay*".utf8))))
        #expect(try parse("field.user:\"alice smith\"") == .field(name: Array("user".utf8), Pattern(Array("alice smith".utf8))))
        // Lower-case keywords and unknown keys are plain words.
        #expect(try parse("a or b") == .and([.text([97]), .text(Array("or".utf8)), .text([98])]))
        #expect(try parse("error:timeout") == .text(Array("error:timeout".utf8)))
        #expect(try parse("user-db -") == .and([.text(Array("user-db".utf8)), .text([45])]))
    }

    @Test("what is wrong, and where", arguments: [
        ("\"unclosed", "unclosed quote", 0), ("(a b", "unbalanced '('", 0), ("a b)", "unbalanced ')'", 3),
        ("()", "empty parentheses", 0), ("a OR", "a term is missing", 4), ("OR a", "a term is missing before OR", 0),
        ("level:loud", "unknown level 'loud' (trace, debug, info, warn, error, fatal)", 0), ("a service:", "'service:' needs a value", 2),
        ("NOT", "a term is missing", 3), ("a \"\" b", "empty phrase", 2),
    ])
    func errors(text: String, message: String, position: Int) {
        #expect(error(text) == QueryError(message: message, position: position))
    }

    @Test("hostile input is refused, not recursed into or looped over")
    func hostile() {
        #expect(error(String(repeating: "(", count: 100_000) + "a")?.message == "the query is longer than 4096 bytes")
        #expect(error(String(repeating: "(", count: 40) + "a" + String(repeating: ")", count: 40))?.message == "the query nests deeper than 32 levels")
        #expect(error(String(repeating: "-", count: 40) + "a")?.message == "the query nests deeper than 32 levels")
        #expect(error(Array(repeating: "a", count: 600).joined(separator: " "))?.message == "the query has too many terms")
        #expect(error(String(repeating: "(", count: 31) + "a" + String(repeating: ")", count: 31)) == nil)
    }

    @Test("evaluation: text, levels, services, hosts, fields, negation and alternatives")
    func evaluation() throws {
        #expect(try matches("TIMEOUT", line: "db timeout after 5s"))
        #expect(try !matches("\"timeout before\"", line: "db timeout after 5s"))
        #expect(try matches("level:>=warn", line: "x", level: .error))
        #expect(try !matches("level:>=warn", line: "x", level: .info))
        #expect(try matches("level:<info", line: "x", level: .debug))
        #expect(try matches("service:pay*", line: "x", service: "Payment-Gateway"))
        #expect(try !matches("service:pay*", line: "x", service: "auth"))
        #expect(try matches("service:unknown", line: "no service here"))
        #expect(try matches("host:10.0.*", line: "x"))
        #expect(try matches("field.user:ali*", line: "x", fields: [("user", "alice")]))
        #expect(try !matches("field.user:bob", line: "x", fields: [("user", "alice")]))
        #expect(try !matches("field.missing:x", line: "x"))
        #expect(try matches("error -health", line: "error in payment"))
        #expect(try !matches("error -health", line: "error: health check"))
        #expect(try matches("(level:fatal OR service:auth) login", line: "login ok", service: "auth"))
        #expect(try !matches("(level:fatal OR service:auth) login", line: "login ok", service: "pay"))
    }

    @Test("wildcard patterns", arguments: [
        ("pay*", "payment", true), ("*-db", "user-db", true), ("a*b*c", "aXXbYYc", true), ("a*b*c", "aXXbYY", false),
        ("*", "", true), ("", "", true), ("", "x", false), ("AUTH", "auth", true), ("a**", "abc", true), ("*a*a*a*b", String(repeating: "a", count: 200), false),
    ])
    func patterns(pattern: String, value: String, expected: Bool) {
        #expect(withBytes(value) { Pattern(Array(pattern.utf8)).matches($0) } == expected)
    }

    @Test("case-insensitive substring search agrees with a plain scan on random text")
    func substringSearch() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("aAbB-x ".utf8)
        for _ in 0..<3000 {
            let haystack = (0..<Int.random(in: 0...40, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
            let needle = (0..<Int.random(in: 1...4, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
                .map(ASCII.lowercased)
            let lowered = haystack.map(ASCII.lowercased)
            let expected = lowered.count >= needle.count && (0...(lowered.count - needle.count)).contains { Array(lowered[$0..<($0 + needle.count)]) == needle }
            #expect(haystack.withUnsafeBytes { ASCII.contains($0, lowercasedNeedle: needle) } == expected,
                    "\(String(decoding: haystack, as: UTF8.self)) / \(String(decoding: needle, as: UTF8.self))")
        }
        #expect(withBytes("x") { ASCII.contains($0, lowercasedNeedle: []) })
    }
}

@Suite("Query text every match needs")
struct QueryRequiredTextTests {
    @Test("the longest text an AND needs; none under OR or NOT", arguments: [
        ("zq7x level:error", "zq7x"), ("\"long phrase\" word", "long phrase"), ("a OR b", nil), ("-foo", nil),
        ("service:x", nil), ("/Health check fail(ed|ure)/ level:error", "health check fail"), ("(a OR b) needle", "needle"),
    ])
    func required(q: String, expected: String?) throws {
        #expect(try QueryParser.parse(q)?.requiredText == expected.map { Array($0.utf8) })
    }
}
