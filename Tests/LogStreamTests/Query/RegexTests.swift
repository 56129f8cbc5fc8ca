import Foundation
import Testing
@testable import LogStream

@Suite("Regular expressions (Pike VM)")
struct RegexTests {
    func matches(_ pattern: String, _ text: String, ignoringCase: Bool = false) throws -> Bool {
        let regex = try Regex(pattern, ignoringCase: ignoringCase)
        return withBytes(text) { regex.matches($0) }
    }

    func error(_ pattern: String) -> String? {
        do { _ = try Regex(pattern, ignoringCase: false); return nil } catch { return error.message }
    }

    @Test("matches like a textbook regex engine", arguments: [
        ("abc", "xxabcxx", true), ("abc", "ab c", false), ("^abc", "abcd", true), ("^abc", "xabc", false),
        ("abc$", "xxabc", true), ("abc$", "abcx", false), ("a.c", "a-c", true), ("a.c", "ac", false),
        ("colou?r", "color", true), ("colou?r", "colour", true), ("ab*c", "ac", true), ("ab+c", "ac", false),
        ("ab+c", "abbbc", true), ("(cat|dog)s", "hotdogs", true), ("(cat|dog)s", "cows", false),
        ("[0-9]{3}-[0-9]{4}", "call 555-1234 now", true), ("[0-9]{3}-[0-9]{4}", "call 55-1234", false),
        ("x{2,}", "axxb", true), ("x{2,}", "axb", false), ("x{1,2}y", "xxxy", true), ("^x{1,2}y", "xxxy", false),
        ("[^a-z]", "abc", false), ("[^a-z]", "abC", true), ("\\d+ms", "took 23ms", true), ("\\D", "123", false),
        ("\\w+@\\w+\\.com", "mail bob@example.com", true), ("\\s", "nospace", false), ("a\\.b", "axb", false),
        ("a\\.b", "a.b", true), ("[\\]x]", "]", true), ("[a\\-z]", "-", true), ("(?:ab)+$", "xabab", true),
        ("", "anything", true), ("()", "", true), ("a|", "b", true), ("(a*)*b", "aaab", true),
        ("status=5\\d\\d", "GET / status=503 in 2ms", true), ("\\/api\\/v1", "/api/v1/orders", true),
    ])
    func textbook(pattern: String, text: String, expected: Bool) throws {
        #expect(try matches(pattern, text) == expected)
    }

    @Test("the i flag folds ASCII case in literals and classes")
    func ignoringCase() throws {
        #expect(try matches("timeout", "Read TIMEOUT", ignoringCase: true))
        #expect(try !matches("timeout", "Read TIMEOUT"))
        #expect(try matches("[a-c]x", "BX", ignoringCase: true))
        #expect(try matches("[^a-c]", "B", ignoringCase: true) == false)
    }

    @Test("bad patterns say what is wrong", arguments: [
        ("(ab", "has an unbalanced '('"), ("ab)", "has an unbalanced ')'"), ("*a", "has nothing to repeat before '*'"),
        ("a**", "has nothing to repeat before '*'"), ("[abc", "has an unclosed '['"), ("a{2", "has an unclosed '{'"),
        ("a{3,2}", "repeats {3,2}: the maximum is below the minimum"), ("a{5000}", "repeats more than 1000 times"),
        ("\\b", "uses '\\b', which is not supported"), ("a\\", "ends with a lone '\\'"), ("[z-a]", "has a backwards range"),
        ("(a{1000}){1000}", "is too large once its repeats are written out"),
        (String(repeating: "(", count: 40) + String(repeating: ")", count: 40), "nests deeper than 32 groups"),
    ])
    func errors(pattern: String, message: String) {
        #expect(error(pattern) == message)
    }

    @Test("patterns that make backtracking engines take exponential time stay linear")
    func noCatastrophicBacktracking() throws {
        let line = String(repeating: "a", count: 20_000) + "!"
        let started = Date()
        #expect(try !matches("(a*)*b", line))
        #expect(try !matches("(a|a)*b", line))
        #expect(try !matches("(a|aa)+$x", line))
        #expect(try !matches("^(\\w+\\s?)*$", line))
        // Each is one pass over 20,000 bytes with a handful of threads: well under a second even in debug builds.
        #expect(Date().timeIntervalSince(started) < 5)
    }

    @Test("in the query language: /regex/, /regex/i, negation, and positioned errors")
    func inQueries() throws {
        #expect(try QueryParser.parse("/time(out|d out)/i level:>=warn") ==
                .and([.regex(try Regex("time(out|d out)", ignoringCase: true)), .level(.atLeast, .warn)]))
        #expect(try QueryParser.parse("-/^GET /") == .not(.regex(try Regex("^GET ", ignoringCase: false))))
        func failure(_ text: String) -> QueryError? {
            do { _ = try QueryParser.parse(text); return nil } catch { return error }
        }
        #expect(failure("a /unclosed") == QueryError(message: "unclosed regular expression", position: 2))
        #expect(failure("/(a/") == QueryError(message: "the regular expression has an unbalanced '('", position: 0))
        #expect(failure("/a/x") == QueryError(message: "unexpected text after a regular expression", position: 3))
        #expect(failure("//") == QueryError(message: "empty regular expression", position: 0))
    }
}

@Suite("Regex literals: what every match must contain")
struct RegexLiteralTests {
    @Test("the longest literal run every match needs, lower-cased", arguments: [
        ("Health check fail(ed|ure)", false, "health check fail"), ("(a|b)*x+yz", false, "yz"), ("a|b", false, ""),
        ("[Aa]bc", false, "abc"), ("\\d+ms", false, "ms"), ("(timeout){2}", false, "timeout"), ("x?y", false, "y"),
        ("ERROR", true, "error"), ("[ab]c", false, "c"), ("(ab)*", false, ""), ("^GET /api", false, "get /api"),
    ])
    func literal(pattern: String, ignoringCase: Bool, expected: String) throws {
        #expect(try Regex(pattern, ignoringCase: ignoringCase).requiredLiteral == Array(expected.utf8))
    }

    @Test("the literal only rules lines out: case still counts for a pattern without i")
    func prefilterKeepsMeaning() throws {
        let regex = try Regex("Timeout", ignoringCase: false)
        #expect(withBytes("a Timeout here") { regex.matches($0) })
        #expect(!withBytes("a timeout here") { regex.matches($0) })
        #expect(!withBytes("nothing") { regex.matches($0) })
    }
}
