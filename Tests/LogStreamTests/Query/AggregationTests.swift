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
                    _ = ring.append(NewRecord(line: line, host: host, level: levels[index % 3], service: slice(line, service.isEmpty ? nil : 1..<(1 + service.count)),
                                              ingestProtocol: .udp, isTruncated: false, receivedAtMilliseconds: Int64(index + 1) * 1000))
                }
            }
        }
        return ring
    }

    @Test("the histogram of everything (two slot words a record) counts what the record walk counts", arguments: [
        (RecordWindow(), Int64(1000), Int64(12_999)), (RecordWindow(), 4500, 9000), (RecordWindow(beforeID: 9, afterID: 2), 0, 20_000),
        (RecordWindow(), 13_000, 20_000),
    ])
    func histogramOfEverything(window: RecordWindow, since: Int64, until: Int64) {
        let ring = ring()
        // Matches every record, but is not `.everything`, so the histogram walks the records.
        let everythingSlowly = RecordFilter(expression: .not(.text(Array("absent from every line".utf8))))
        for buckets in [1, 3, 7] {
            let fast = LevelHistogram(source: ring, filter: .everything, window: window, since: since, until: until, buckets: buckets)
            let walked = LevelHistogram(source: ring, filter: everythingSlowly, window: window, since: since, until: until, buckets: buckets)
            #expect(fast == walked)
            // Level-only filters take the slot path too; the same filter with a text condition walks records.
            for q in ["level:error", "level:>=warn", "-level:info OR level:fatal", "NOT (level:warn OR level:error)"] {
                let levelsOnly = RecordFilter(expression: try! QueryParser.parse(q))
                let slowly = RecordFilter(expression: .and([try! QueryParser.parse(q)!, .not(.text(Array("absent".utf8)))]))
                #expect(levelsOnly.levelsWhenOnlyLevelCounts != nil && slowly.levelsWhenOnlyLevelCounts == nil)
                #expect(LevelHistogram(source: ring, filter: levelsOnly, window: window, since: since, until: until, buckets: buckets)
                        == LevelHistogram(source: ring, filter: slowly, window: window, since: since, until: until, buckets: buckets), "\(q)")
            }
            let original = RecordFilter(level: "warn")
            #expect(LevelHistogram(source: ring, filter: original, window: window, since: since, until: until, buckets: buckets)
                    == LevelHistogram(source: ring, filter: RecordFilter(level: "warn", expression: .not(.text(Array("absent".utf8)))), window: window,
                                      since: since, until: until, buckets: buckets))
        }
        #expect(RecordFilter(query: "", level: "", service: "", expression: try! QueryParser.parse("")) == .everything)
    }

    @Test("facets of slot values (levels, hosts, protocols, formats) count what the record walk counts", arguments: [
        RecordWindow(), RecordWindow(since: 4000, until: 9000), RecordWindow(beforeID: 11, afterID: 3),
    ])
    func slotFacets(window: RecordWindow) throws {
        let ring = ring()
        for q in ["", "level:>=warn", "-level:error"] {
            let fromSlots = RecordFilter(expression: try QueryParser.parse(q))
            let fromRecords = RecordFilter(expression: .and([try QueryParser.parse(q) ?? .not(.text([1])), .not(.text(Array("absent".utf8)))]))
            for attribute in [Facets.Attribute.level, .host, .protocolName, .format] {
                #expect(Facets(source: ring, filter: fromSlots, window: window, attribute: attribute, limit: 3)
                        == Facets(source: ring, filter: fromRecords, window: window, attribute: attribute, limit: 3), "\(q) \(attribute)")
            }
        }
    }

    @Test("the histogram counts levels per bucket over the window, oldest bucket first")
    func histogram() {
        let histogram = LevelHistogram(source: ring(), filter: .everything, since: 1000, until: 12_999, buckets: 4)
        #expect(histogram.bucketMilliseconds == 3000)
        let (info, warn, error) = (Int(LogLevel.info.rawValue), Int(LogLevel.warn.rawValue), Int(LogLevel.error.rawValue))
        #expect(histogram.counts.map { [$0[info], $0[warn], $0[error]] } == [[1, 1, 1], [1, 1, 1], [1, 1, 1], [1, 1, 1]])
        #expect(histogram.counts.joined().reduce(0, +) == 12)
        let errorsOnly = LevelHistogram(source: ring(), filter: RecordFilter(level: "error"), since: 7000, until: 12_999, buckets: 2)
        #expect(errorsOnly.counts.map { $0[error] } == [1, 1])
    }

    @Test("facets give the top values with counts, the rest as others")
    func facets() throws {
        let byService = Facets(source: ring(), filter: .everything, window: RecordWindow(), attribute: .service, limit: 2)
        #expect(byService.top.map { "\($0.value)=\($0.count)" } == ["auth=4", "pay=4"])
        #expect((byService.others, byService.total) == (4, 12))
        let hosts = Facets(source: ring(), filter: RecordFilter(expression: try QueryParser.parse("level:>=warn")),
                           window: RecordWindow(since: 4000), attribute: .host, limit: 10)
        #expect(hosts.top.map { "\($0.value)=\($0.count)" } == ["web-2=4", "web-1=2"])
        #expect(Facets.Attribute("field.user") == .field(Array("user".utf8)) && Facets.Attribute("nonsense") == nil)
    }
}
