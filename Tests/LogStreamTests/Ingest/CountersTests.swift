import Testing
@testable import LogStream

@Suite("Ingest counters")
struct CountersTests {
    @Test("service counts are kept per name, with unknown for none and a cap on distinct names")
    func serviceCounts() {
        let counts = ServiceCounts()
        for name in ["auth", "pay", "auth", ""] { withBytes(name) { counts.increment($0) } }
        let table = Dictionary(uniqueKeysWithValues: counts.all.map { ($0.name, $0.count) })
        #expect(table == ["auth": 2, "pay": 1, "unknown": 1])

        for index in 0..<(ServiceCounts.maxDistinct + 10) { withBytes("svc\(index)") { counts.increment($0) } }
        let capped = Dictionary(uniqueKeysWithValues: counts.all.map { ($0.name, $0.count) })
        #expect(capped.count == ServiceCounts.maxDistinct + 2)  // the cap, plus "unknown" and "(other)"
        #expect(capped[ServiceCounts.other] == 12)
    }

    @Test("ingest stats count levels, protocols and truncation, and give a rate over the last seconds")
    func ingestStats() {
        let stats = IngestStats()
        stats.sampleRate()
        for _ in 0..<30 { withBytes("a") { stats.count(level: .error, protocol: .udp, service: $0, isTruncated: false) } }
        withBytes("") { stats.count(level: .info, protocol: .tcp, service: $0, isTruncated: true) }
        stats.sampleRate()
        #expect(stats.received == 31 && stats.truncated == 1)
        #expect(stats.byLevel[Int(LogLevel.error.rawValue)] == 30)
        #expect(stats.byProtocol == [30, 1])
        #expect(stats.rate == 31)
    }
}
