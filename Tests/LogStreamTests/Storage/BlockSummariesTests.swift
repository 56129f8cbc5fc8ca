import Testing
@testable import LogStream

@Suite("Block summaries: levels and services per block of ids")
struct BlockSummariesTests {
    @Test("a block holds the levels and services noted in it, and starts afresh when its entry is reused")
    func noteAndAsk() {
        let summaries = BlockSummaries(recordCapacity: 128)  // four entries
        let payment = BlockSummaries.serviceBit(Array("Payment".utf8))
        #expect(payment == BlockSummaries.serviceBit(Array("pAYMENT".utf8)), "case is folded")
        summaries.note(id: 1, level: .error, serviceBit: payment)
        summaries.note(id: 2, level: .info, serviceBit: BlockSummaries.serviceBit(Array("auth".utf8)))
        let errorsOfPayment = BlockKey(levels: 1 << UInt64(LogLevel.error.rawValue), services: payment)
        let warnings = BlockKey(levels: 1 << UInt64(LogLevel.warn.rawValue), services: ~0)
        #expect(summaries.mayHold(block: 0, errorsOfPayment))
        #expect(!summaries.mayHold(block: 0, warnings))
        for id in UInt64(64)..<UInt64(64 * 5) { summaries.note(id: id, level: .warn, serviceBit: payment) }
        #expect(summaries.mayHold(block: 4, warnings) && !summaries.mayHold(block: 4, errorsOfPayment))
        #expect(!summaries.mayHold(block: 0, errorsOfPayment), "block 4 reused block 0's entry")
    }

    @Test("filters give the levels and services a match can have", arguments: [
        ("level:error", LogLevel.allCases.filter { $0 == .error }, ["x"]),
        ("level:>=warn -level:fatal", [.warn, .error], ["x"]),
        ("service:pay level:error", [.error], ["pay"]),
        ("service:pay OR service:auth", LogLevel.allCases, ["pay", "auth"]),
        ("service:pay*", LogLevel.allCases, ["anything"]),
        ("(level:error service:a) OR level:debug", [.error, .debug], ["a", "b"]),
    ])
    func keys(q: String, levels: [LogLevel], services: [String]) throws {
        let key = RecordFilter(expression: try QueryParser.parse(q)).blockKey
        #expect(key.levels & 0x3F == levels.reduce(0) { $0 | 1 << UInt64($1.rawValue) })
        for service in services { #expect(key.services & BlockSummaries.serviceBit(Array(service.utf8)) != 0) }
    }

    @Test("a walk that skips blocks lists exactly what reading every record lists")
    func skippingWalkAgrees() throws {
        var generator = SystemRandomNumberGenerator()
        let ring = LogRing(capacity: 1000, arenaBytes: 1 << 20)
        let services = ["pay", "auth", "db", "search", ""]
        for index in 0..<5000 {
            // Runs of one service, as real traffic has, so that whole blocks can be skipped.
            let service = services[(index / 150) % services.count]
            let level = LogLevel.allCases[Int.random(in: 0..<(index % 500 < 100 ? 6 : 3), using: &generator)]
            let line = service.isEmpty ? "\(level.name) plain \(index)" : "\(level.name) [\(service)] line \(index)"
            let start = level.name.count + 2
            withBytes(line) { bytes in
                withBytes("h") { host in
                    _ = ring.append(NewRecord(line: bytes, host: host, level: level, service: slice(bytes, service.isEmpty ? nil : start..<(start + service.count)),
                                              ingestProtocol: .udp, isTruncated: false, receivedAtMilliseconds: Int64(index)))
                }
            }
        }
        let filters = [
            RecordFilter(level: "error", service: "pay"), RecordFilter(service: "unknown"), RecordFilter(level: "fatal"),
            RecordFilter(expression: try QueryParser.parse("level:>=error (service:db OR service:search)")),
            RecordFilter(expression: try QueryParser.parse("-level:info -level:debug -level:trace service:AUTH")),
        ]
        for filter in filters {
            #expect(!filter.blockKey.isAny)
            var walked: [UInt64] = []
            RecordWindow().walkNewestFirst(in: ring, matching: filter) { walked.append($0.id); return true }
            let everyRecord = ring.storedIDs.reversed().filter { id in ring.read(id) { filter.matches($0) } == true }
            #expect(walked == everyRecord)
            #expect(!walked.isEmpty)
        }
    }
}
