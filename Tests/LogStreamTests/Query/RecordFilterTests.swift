import Testing
@testable import LogStream

@Suite("Record filter")
struct RecordFilterTests {
    func matches(_ filter: RecordFilter, line: String, level: LogLevel = .info, service: String = "") -> Bool {
        let ring = LogRing(capacity: 2, arenaBytes: 1024)
        let text = service.isEmpty ? line : "[\(service)] \(line)"
        let range = service.isEmpty ? nil : 1..<(1 + service.utf8.count)
        let id = withBytes(text) { line in
            withBytes("h") { host in
                ring.append(NewRecord(line: line, host: host, level: level, service: slice(line, range), ingestProtocol: .udp,
                                      isTruncated: false, receivedAtMilliseconds: 0))
            }
        }
        return ring.read(id) { filter.matches($0) } ?? false
    }

    @Test("query is a case-insensitive substring")
    func query() {
        #expect(matches(RecordFilter(query: "TIMEOUT"), line: "db timeout after 5s"))
        #expect(matches(RecordFilter(query: "out af"), line: "db timeout after 5s"))
        #expect(!matches(RecordFilter(query: "timeouts"), line: "db timeout"))
    }

    @Test("level and service are exact but case-insensitive")
    func levelAndService() {
        #expect(matches(RecordFilter(level: "error"), line: "x", level: .error))
        #expect(!matches(RecordFilter(level: "ERROR"), line: "x", level: .warn))
        #expect(matches(RecordFilter(service: "Auth"), line: "x", service: "auth"))
        #expect(!matches(RecordFilter(service: "auth"), line: "x", service: "authz"))
        #expect(matches(RecordFilter(service: "unknown"), line: "x"))
    }

    @Test("an unknown level matches nothing; empty filters match everything")
    func edges() {
        #expect(!matches(RecordFilter(level: "LOUD"), line: "x"))
        #expect(matches(RecordFilter(query: "", level: "", service: ""), line: "anything"))
    }
}
