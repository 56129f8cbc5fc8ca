import Testing
@testable import LogStream

@Suite("SQL literals for ClickHouse")
struct SQLTextTests {
    @Test("backslash first, then the quote: hostile text stays inside its literal", arguments: [
        ("O'Brien", #"'O\'Brien'"#),
        (#"back\slash"#, #"'back\\slash'"#),
        (#"end\"#, #"'end\\'"#),
        (#"\'; DROP TABLE x; --"#, #"'\\\'; DROP TABLE x; --'"#),
        ("'' ''", #"'\'\' \'\''"#),
        ("a\u{0}b\tc\nd", "'a\u{0}b\tc\nd'"),
        ("ünïcødé ✓ /* */ {p:String} ?", "'ünïcødé ✓ /* */ {p:String} ?'"),
    ])
    func literal(_ text: String, _ expected: String) {
        #expect(SQLText.literal(text) == expected)
    }

    @Test("a literal never ends early: an unescaped quote only closes it")
    func closedOnce() {
        for text in [#"'"#, #"\'"#, #"\\'"#, #"'\"#, #"x\"#, "'; SELECT 1; '"] {
            let literal = Array(SQLText.literal(text).utf8)
            var index = 1, closedAt: Int?
            while index < literal.count {
                if literal[index] == UInt8(ascii: "\\") { index += 2; continue }
                if literal[index] == UInt8(ascii: "'") { closedAt = index; break }
                index += 1
            }
            #expect(closedAt == literal.count - 1, "\(text)")
        }
    }

    @Test("LIKE patterns escape their wildcards before the literal escaping")
    func like() {
        #expect(SQLText.likeContaining("100% a_b") == #"'%100\\% a\\_b%'"#)
        #expect(SQLText.likeContaining(#"c:\d"#) == #"'%c:\\\\d%'"#)
    }

    @Test("identifiers are backquoted with backquotes escaped")
    func identifier() {
        #expect(SQLText.identifier("logs") == "`logs`")
        #expect(SQLText.identifier("a`b\\c") == #"`a\`b\\c`"#)
    }
}
