import Testing
@testable import LogStream

@Suite("Aggregations: level histogram and facets")
struct AggregationTests {
    /// 12 records, one a second from t = 1 s: levels cycle info, error, warn; services auth, pay, (none).
    func ring() -> LogRing {
        let ring = LogRing(capacity: 100, arenaBytes: 1 << 16)
        let levels: [LogLevel] = [.info, .error, .warn]
        for index in 0..<12 {
            let service = ["auth", "pay", ""][index % 3]
            let line = service.isEmpty ? "plain \(index)" : "[\(service)] line \(index)"
            withBytes(line) { line in
                withBytes(index < 6 ? "web-1" : "web-2") { host in
                    _ = ring.append(NewRecord(line: line, host: host, level: levels[index % 3], service: service.isEmpty ? nil : 1..<(1 + service.count),
                                              ingestProtocol: .udp, isTruncated: false, receivedAtMilliseconds: Int64(index + 1) * 1000))
                }
            }
        }
        return ring
    }

    @Test("the histogram counts levels per bucket over the window, oldest bucket first")
    func histogram() {
        let histogram = LevelHistogram(ring: ring(), filter: .everything, since: 1000, until: 12_999, buckets: 4)
        #expect(histogram.bucketMilliseconds == 3000)
        let (info, warn, error) = (Int(LogLevel.info.rawValue), Int(LogLevel.warn.rawValue), Int(LogLevel.error.rawValue))
        #expect(histogram.counts.map { [$0[info], $0[warn], $0[error]] } == [[1, 1, 1], [1, 1, 1], [1, 1, 1], [1, 1, 1]])
        #expect(histogram.counts.joined().reduce(0, +) == 12)
        let errorsOnly = LevelHistogram(ring: ring(), filter: RecordFilter(level: "error"), since: 7000, until: 12_999, buckets: 2)
        #expect(errorsOnly.counts.map { $0[error] } == [1, 1])
    }

    @Test("facets give the top values with counts, the rest as others")
    func facets() throws {
        let byService = Facets(ring: ring(), filter: .everything, window: RecordWindow(), attribute: .service, limit: 2)
        #expect(byService.top.map { "\($0.value)=\($0.count)" } == ["auth=4", "pay=4"])
        #expect((byService.others, byService.total) == (4, 12))
        let hosts = Facets(ring: ring(), filter: RecordFilter(expression: try QueryParser.parse("level:>=warn")),
                           window: RecordWindow(since: 4000), attribute: .host, limit: 10)
        #expect(hosts.top.map { "\($0.value)=\($0.count)" } == ["web-2=4", "web-1=2"])
        #expect(Facets.Attribute("field.user") == .field(Array("user".utf8)) && Facets.Attribute("nonsense") == nil)
    }
}
