import Testing
@testable import LogStream

@Suite("Listing windows: ids and times")
struct RecordWindowTests {
    let now: Int64 = 1_795_946_400_000  // 2026-11-29T10:00:00Z

    @Test("times are RFC 3339 or durations back from now", arguments: [
        ("2026-11-29T09:00:00Z", Int64(1_795_942_800_000)), ("90s", 1_795_946_310_000), ("15m", 1_795_945_500_000),
        ("2h", 1_795_939_200_000), ("7d", 1_795_341_600_000), ("500ms", 1_795_946_399_500),
    ])
    func times(text: String, expected: Int64) {
        #expect(RecordWindow.time(text, now: now) == expected)
    }

    @Test("bad windows are refused with the parameter's name", arguments: [
        (["since": "yesterday"], "since must be an RFC 3339 time or a duration such as 15m, 2h or 7d"),
        (["until": "15"], "until must be an RFC 3339 time or a duration such as 15m, 2h or 7d"),
        (["since": "999999999999d"], "since must be an RFC 3339 time or a duration such as 15m, 2h or 7d"),
        (["before": "-1"], "before must be a record id"), (["after": "x"], "after must be a record id"),
    ])
    func refused(parameters: [String: String], message: String) {
        #expect(throws: QueryError(message: message, position: 0)) { try RecordWindow(parameters: parameters, now: now) }
    }

    @Test("a listing honours before, after, since and until, and stops at the first record older than since")
    func listing() throws {
        let ring = LogRing(capacity: 100, arenaBytes: 1 << 16)
        for index in 1...10 {
            withBytes("line \(index)") { line in
                withBytes("h") { host in
                    _ = ring.append(NewRecord(line: line, host: host, level: .info, ingestProtocol: .tcp,
                                              isTruncated: false, receivedAtMilliseconds: Int64(index) * 1000))
                }
            }
        }
        func lines(_ window: RecordWindow, limit: Int = 100) -> [Int] {
            var json = JSONWriter()
            LogEntryJSON.appendNewest(from: ring, matching: .everything, limit: limit, window: window, to: &json)
            let text = String(decoding: json.bytes, as: UTF8.self)
            return text.split(separator: "\"raw\":\"line ").map { Int($0.prefix { $0.isNumber }) ?? 0 }.dropFirst().map { $0 }
        }
        #expect(lines(RecordWindow()) == Array((1...10).reversed()))
        #expect(lines(RecordWindow(beforeID: 4)) == [3, 2, 1])
        #expect(lines(RecordWindow(afterID: 7)) == [10, 9, 8])
        #expect(lines(RecordWindow(afterID: .max)) == [])
        #expect(lines(RecordWindow(since: 8000)) == [10, 9, 8])
        #expect(lines(RecordWindow(until: 3000)) == [3, 2, 1])
        #expect(lines(RecordWindow(beforeID: 9, afterID: 2, since: 4000, until: 7000), limit: 2) == [7, 6])
    }
}
