import Testing
@testable import LogStream

@Suite("A record's shape: services by value, the slot layout, ids from a given start")
struct RecordShapeTests {
    @discardableResult
    func append(_ ring: LogRing, _ line: String, service: String, host: String = "h", level: LogLevel = .info) -> UInt64 {
        withBytes(line) { line in
            withBytes(host) { host in
                withBytes(service) { service in
                    ring.append(NewRecord(line: line, host: host, level: level, service: service, ingestProtocol: .udp,
                                          isTruncated: false, receivedAtMilliseconds: 1))
                }
            }
        }
    }

    @Test("a service need not be in the line (a label, a resource attribute): it is stored by value, numbered once")
    func servicesByValue() {
        let ring = LogRing(capacity: 10, arenaBytes: 4096)
        let ids = [append(ring, "started", service: "checkout"), append(ring, "stopped", service: "checkout"),
                   append(ring, "no service", service: "")]
        #expect(ids.map { id in ring.read(id) { $0.service.text } } == ["checkout", "checkout", ""])
        #expect(ring.services.count == 1)
        #expect(ring.read(ids[0]) { $0.line.text } == "started")
    }

    @Test("past the service table's capacity, or past the longest numbered name, a service is stored with its record")
    func inlineServices() {
        let ring = LogRing(capacity: 10, arenaBytes: 1 << 16, hostCapacity: 1, serviceCapacity: 2)
        let long = String(repeating: "s", count: LogRing.maxNumberedServiceBytes + 1)
        let cases = [("a", "10.0.0.1"), ("b", "10.0.0.2"), ("c", "10.0.0.3"), (long, "10.0.0.1"), ("a", "10.0.0.4")]
        let ids = cases.map { append(ring, "line of \($0.0.prefix(3))", service: $0.0, host: $0.1) }
        #expect(ring.services.count == 2)
        for (id, (service, host)) in zip(ids, cases) {
            #expect(ring.read(id) { ($0.service.text, $0.host.text, $0.line.text) }! == (service, host, "line of \(service.prefix(3))"))
        }
    }

    @Test("a ring that continues a history hands out ids from the given one, and its block summaries still skip right")
    func firstID() throws {
        let ring = LogRing(capacity: 1000, arenaBytes: 1 << 20, firstID: 1_000_037)  // inside a block of 64
        var ids: [UInt64] = []
        for index in 0..<300 {
            let (service, level): (String, LogLevel) = index % 100 == 7 ? ("rare", .error) : ("common", .info)
            ids.append(append(ring, "\(level.name) line \(index)", service: service, level: level))
        }
        #expect(ids.first == 1_000_037 && ids.last == 1_000_336)
        #expect(ring.storedIDs == 1_000_037..<1_000_337)
        let filter = RecordFilter(level: "error", service: "rare")
        var found: [UInt64] = []
        RecordWindow().walkNewestFirst(in: ring, matching: filter) { found.append($0.id); return true }
        #expect(found == [1_000_244, 1_000_144, 1_000_044])
    }

    @Test("every field of the slot reads back at its widest", arguments: IngestProtocol.allCases)
    func slotWords(protocolCase: IngestProtocol) {
        for format in LogFormat.allCases {
            let words = SlotWords(offset: .max, lineBytes: SlotLayout.maxLineBytes, fieldsBytes: SlotLayout.maxFieldsBytes,
                                  receivedAtMilliseconds: Int64(SlotLayout.receivedMask), hostNumber: SlotLayout.maxNumbered,
                                  serviceNumber: SlotLayout.maxNumbered, inlineServiceBytes: SlotLayout.maxServiceBytes,
                                  inlineHostBytes: SlotLayout.maxHostBytes, level: .fatal, isTruncated: true,
                                  ingestProtocol: protocolCase, format: format, sourceTimeMilliseconds: -1)
            #expect(words.lineBytes == SlotLayout.maxLineBytes && words.fieldsBytes == SlotLayout.maxFieldsBytes)
            #expect(words.inlineServiceBytes == SlotLayout.maxServiceBytes && words.inlineHostBytes == SlotLayout.maxHostBytes)
            #expect(words.isTruncated && words.sourceTimeMilliseconds == -1)
            let summary = words.summary
            #expect(summary.receivedAtMilliseconds == Int64(SlotLayout.receivedMask) && summary.level == .fatal)
            #expect(summary.ingestProtocol == protocolCase && summary.format == format)
            #expect(summary.hostIndex == SlotLayout.maxNumbered - 1 && summary.serviceIndex == SlotLayout.maxNumbered - 1)
        }
        let empty = SlotWords(offset: 0, lineBytes: 0, fieldsBytes: 0, receivedAtMilliseconds: 0, hostNumber: 0, serviceNumber: 0,
                              inlineServiceBytes: 0, inlineHostBytes: 0, level: .trace, isTruncated: false, ingestProtocol: protocolCase,
                              format: .plain, sourceTimeMilliseconds: nil)
        #expect(empty.summary.hostIndex == nil && empty.summary.serviceIndex == nil && empty.inlineServiceBytes == 0)
        #expect(empty.sourceTimeMilliseconds == nil && !empty.isTruncated)
    }

    @Test("there is room in the slot for the codes to come: 16 protocols and 64 formats")
    func roomForCodes() {
        #expect(IngestProtocol.allCases.allSatisfy { Int($0.rawValue) < SlotLayout.protocolCodes })
        #expect(LogFormat.allCases.allSatisfy { Int($0.rawValue) < SlotLayout.formatCodes })
        #expect(SlotLayout.protocolCodes - IngestProtocol.allCases.count >= 3)  // HTTP, GELF, Forward
        #expect(SlotLayout.formatCodes - LogFormat.allCases.count >= 5)  // otlp, loki, elasticsearch, gelf, forward
        #expect(SlotLayout.version == 2)
    }
}
