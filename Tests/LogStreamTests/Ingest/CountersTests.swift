import Testing
@testable import LogStream

@Suite("Ingest counters")
struct CountersTests {
    /// Counts a record of service `name` as the destination does: by its number in the service table.
    func count(_ name: String, in counts: ServiceCounts, numberedBy table: InternTable) {
        withBytes(name) { counts.increment(number: name.isEmpty ? nil : table.index(of: $0), nameBytes: $0.count) }
    }

    @Test("service counts are kept per name, with unknown for none and a cap on distinct names")
    func serviceCounts() {
        let table = InternTable(capacity: 65_535, maxNameBytes: 255)
        let counts = ServiceCounts(names: table)
        for name in ["auth", "pay", "auth", ""] { count(name, in: counts, numberedBy: table) }
        let named = Dictionary(uniqueKeysWithValues: counts.all.map { ($0.name, $0.count) })
        #expect(named == ["auth": 2, "pay": 1, "unknown": 1])

        for index in 0..<(ServiceCounts.maxDistinct + 10) { count("svc\(index)", in: counts, numberedBy: table) }
        let capped = Dictionary(uniqueKeysWithValues: counts.all.map { ($0.name, $0.count) })
        #expect(capped.count == ServiceCounts.maxDistinct + 2)  // the cap, plus "unknown" and "(other)"
        #expect(capped[ServiceCounts.other] == 12)
        count(String(repeating: "n", count: ServiceCounts.maxNameBytes + 1), in: counts, numberedBy: table)
        #expect(counts.all.last?.count == 13)  // too long a name counts as "(other)" too
    }

    @Test("ingest stats count levels, protocols and truncation, and give a rate over the last seconds")
    func ingestStats() {
        let stats = IngestStats(serviceNames: InternTable(capacity: 16, maxNameBytes: 16))
        stats.sampleRate()
        for _ in 0..<30 { stats.count(level: .error, protocol: .udp, serviceNumber: 0, serviceBytes: 1, isTruncated: false) }
        stats.count(level: .info, protocol: .tcp, serviceNumber: nil, serviceBytes: 0, isTruncated: true)
        stats.sampleRate()
        #expect(stats.received == 31 && stats.truncated == 1)
        #expect(stats.byLevel[Int(LogLevel.error.rawValue)] == 30)
        #expect(stats.byProtocol == [30, 1, 0, 0])
        #expect(stats.rate == 31)
    }
}
