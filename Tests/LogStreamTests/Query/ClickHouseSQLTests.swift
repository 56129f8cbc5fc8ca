import Testing
@testable import LogStream

@Suite("The query language as ClickHouse SQL")
struct ClickHouseSQLTests {
    func sql(_ q: String) throws -> String {
        let expression = try #require(try QueryParser.parse(q))
        return ClickHouseSQL.condition(expression)
    }

    @Test("terms translate to the SQL that means the same", arguments: [
        ("error", #"positionCaseInsensitive(msg, 'error') > 0 AND match(msg, '(?i:(?:^|[^0-9A-Za-z_\\x{80}-\\x{10FFFF}])error(?:[^0-9A-Za-z_\\x{80}-\\x{10FFFF}]|$))')"#),
        ("time*", #"positionCaseInsensitive(msg, 'time') > 0 AND match(msg, '(?i:(?:^|[^0-9A-Za-z_\\x{80}-\\x{10FFFF}])time)')"#),
        ("*meo*", "positionCaseInsensitive(msg, 'meo') > 0"),
        (#""a.b""#, #"positionCaseInsensitive(msg, 'a.b') > 0 AND match(msg, '(?i:(?:^|[^0-9A-Za-z_\\x{80}-\\x{10FFFF}])a\\x{2e}b(?:[^0-9A-Za-z_\\x{80}-\\x{10FFFF}]|$))')"#),
        ("level:>=warn", "level IN ('WARN', 'ERROR', 'FATAL')"),
        ("level:error", "level IN ('ERROR')"),
        ("level:<trace", "0"),
        ("service:pay*", "lower(service) LIKE 'pay%'"),
        ("service:unk*", "lower(service) LIKE 'unk%' OR service = ''"),
        ("service:a_b", #"lower(service) LIKE 'a\\_b'"#),
        ("host:web-?", "lower(host) LIKE 'web-?'"),
        ("field.user:Alice", "has(field_keys, 'user') AND lower(field_values[indexOf(field_keys, 'user')]) LIKE 'alice'"),
        ("/fail(ed)?/", "match(msg, 'fail(ed)?')"),
        ("/fail(ed)?/i", "match(msg, '(?i:fail(ed)?)')"),
        ("NOT level:debug", "NOT (level IN ('DEBUG'))"),
        ("level:error OR host:a", "(level IN ('ERROR')) OR (lower(host) LIKE 'a')"),
    ])
    func terms(_ q: String, _ expected: String) throws {
        #expect(try sql(q) == expected)
    }

    @Test("hostile text stays inside its literals", arguments: [
        #""O'Brien""#, #""'; DROP TABLE logs; --""#, #""back\\slash""#, "field.x:a'b", "service:\\'", #"/a'b/"#,
    ])
    func hostile(_ q: String) throws {
        let condition = try sql(q)
        // Outside literals, the condition has only our own words: every quote that opens a literal closes it.
        var outside = "", inLiteral = false, escaped = false
        for character in condition {
            if inLiteral {
                if escaped { escaped = false } else if character == "\\" { escaped = true } else if character == "'" { inLiteral = false }
            } else if character == "'" {
                inLiteral = true
            } else {
                outside.append(character)
            }
        }
        #expect(!inLiteral)
        #expect(!outside.contains("DROP") && !outside.contains("--") && !outside.contains(";"))
    }

    @Test("the original filters and the window", .timeLimit(.minutes(1)))
    func filterAndWindow() {
        let filter = RecordFilter(query: "Card", level: "warn", service: "unknown", fields: ["user": "u1"])
        let window = ClusterWindow(since: 1_796_378_400_500, until: 1_796_378_460_000, before: ClusterCursor("1796378450000:42:node-a"))
        let condition = ClickHouseSQL.condition(filter, window)
        #expect(condition == "(ts >= toDateTime(1796378400, 'UTC') AND ts_ms >= 1796378400500) AND (ts <= toDateTime(1796378460, 'UTC') AND ts_ms <= 1796378460000) "
            + "AND (ts <= toDateTime(1796378450, 'UTC') AND (ts_ms < 1796378450000 OR (ts_ms = 1796378450000 AND (node < 'node-a' OR (node = 'node-a' AND id < 42))))) "
            + "AND (level = 'WARN') AND (service = '') AND (has(field_keys, 'user') AND field_values[indexOf(field_keys, 'user')] = 'u1') "
            + "AND (positionCaseInsensitive(msg, 'card') > 0)")
        #expect(ClickHouseSQL.condition(.everything, ClusterWindow()) == "1")
        #expect(ClickHouseSQL.condition(RecordFilter(level: "nonsense"), ClusterWindow()) == "(0)")
        #expect(ClickHouseSQL.condition(.everything, ClusterWindow(node: "n'1", afterID: 5, beforeID: 9)) == #"(node = 'n\'1') AND (id > 5) AND (id < 9)"#)
    }

    @Test("cursors read back what entries write; bad ones are refused", arguments: ["", "1:2", "a:1:n", "1:b:n", "-1:2:n", "1:2:"])
    func badCursor(_ text: String) {
        #expect(ClusterCursor(text) == nil)
    }

    @Test("a cursor's node may hold colons")
    func cursor() {
        #expect(ClusterCursor("17:42:host:9001") == ClusterCursor(time: 17, id: 42, node: "host:9001"))
        #expect(ClusterCursor(time: 17, id: 42, node: "a:b").text == "17:42:a:b")
    }
}
