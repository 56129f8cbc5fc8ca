import Foundation
import Synchronization
import Testing
@testable import LogStream

@Suite("Lock-free ring")
struct LogRingTests {
    @discardableResult
    func append(_ ring: LogRing, _ line: String, host: String = "10.0.0.1", level: LogLevel = .info,
                service: Range<Int>? = nil, at time: Int64 = 1000) -> UInt64 {
        withBytes(line) { line in
            withBytes(host) { host in
                ring.append(NewRecord(line: line, host: host, level: level, service: slice(line, service), ingestProtocol: .tcp,
                                      isTruncated: false, receivedAtMilliseconds: time))
            }
        }
    }

    func line(_ ring: LogRing, _ id: UInt64) -> String? { ring.read(id) { $0.line.text } }

    @Test("records get increasing ids and read back whole")
    func appendAndRead() {
        let ring = LogRing(capacity: 10, arenaBytes: 1024)
        let first = append(ring, "INFO [auth] hello", level: .warn, service: 6..<10, at: 42)
        let second = append(ring, "second")
        #expect(second == first + 1)
        let fields = ring.read(first) { ($0.line.text, $0.host.text, $0.service.text, $0.level, $0.receivedAtMilliseconds, $0.ingestProtocol) }
        #expect(fields?.0 == "INFO [auth] hello")
        #expect(fields?.1 == "10.0.0.1")
        #expect(fields?.2 == "auth")
        #expect(fields?.3 == .warn)
        #expect(fields?.4 == 42)
        #expect(fields?.5 == .tcp)
        #expect(ring.storedIDs == first..<(second + 1))
    }

    @Test("hosts are numbered once; past the table's capacity they are stored with the line and still read back")
    func hostsAreInterned() {
        let ring = LogRing(capacity: 10, arenaBytes: 1024, hostCapacity: 2)
        let ids = ["10.0.0.1", "10.0.0.2", "10.0.0.1", "web-03", "10.0.0.2", String(repeating: "h", count: 300)].map {
            (append(ring, "line from \($0)", host: $0), $0)
        }
        #expect(ring.hosts.count == 2)
        for (id, host) in ids {
            #expect(ring.read(id) { $0.host.text } == String(host.prefix(LogRing.maxHostBytes)))
            #expect(ring.read(id) { $0.line.text } == "line from \(host)")
        }
    }

    @Test("times, service and flags survive the slot's packing")
    func slotPacking() {
        let ring = LogRing(capacity: 4, arenaBytes: 1 << 20)
        let line = String(repeating: "x", count: 70_000) + "[svc]"
        let id = withBytes(line) { line in
            withBytes("h") { host in
                ring.append(NewRecord(line: line, host: host, level: .fatal, service: slice(line, 70_001..<70_004), ingestProtocol: .udp,
                                      isTruncated: true, receivedAtMilliseconds: 253_402_300_799_999, format: .logfmt,
                                      sourceTimeMilliseconds: -62_135_596_800_000))
            }
        }
        let read = ring.read(id) { ($0.level, $0.ingestProtocol, $0.isTruncated, $0.receivedAtMilliseconds, $0.format,
                                    $0.sourceTimeMilliseconds, $0.service.text, $0.line.count) }
        #expect(read?.0 == .fatal && read?.1 == .udp && read?.2 == true && read?.3 == 253_402_300_799_999)
        #expect(read?.4 == .logfmt && read?.5 == -62_135_596_800_000 && read?.6 == "svc" && read?.7 == 70_005)
    }

    @Test("the record count bound evicts the oldest first and counts evictions")
    func countBound() {
        let ring = LogRing(capacity: 3, arenaBytes: 1024)
        for index in 1...5 { append(ring, "line \(index)") }
        #expect(ring.storedCount == 3)
        #expect(ring.evictedCount == 2)
        #expect(line(ring, 2) == nil)
        #expect(line(ring, 3) == "line 3")
        #expect(line(ring, 5) == "line 5")
    }

    @Test("the byte bound evicts the oldest records whose bytes are needed")
    func byteBound() {
        let ring = LogRing(capacity: 1000, arenaBytes: 100)
        for index in 0..<20 { append(ring, String(repeating: Character(String(index % 10)), count: 20), host: "") }
        #expect(ring.storedCount <= 5)
        #expect(ring.evictedCount == UInt64(20 - ring.storedCount))
        for id in ring.storedIDs { #expect(line(ring, id) == String(repeating: Character(String((id - 1) % 10)), count: 20)) }
    }

    @Test("a record that would straddle the arena's end starts at its beginning")
    func wrapAround() {
        let ring = LogRing(capacity: 100, arenaBytes: 64)
        append(ring, String(repeating: "a", count: 40), host: "")
        let id = append(ring, String(repeating: "b", count: 30), host: "")
        #expect(line(ring, id) == String(repeating: "b", count: 30))
        #expect(line(ring, id - 1) == nil)
    }

    @Test("a record larger than the arena is cut to fit")
    func oversized() {
        let ring = LogRing(capacity: 4, arenaBytes: 16)
        let id = append(ring, String(repeating: "x", count: 40), host: "")
        #expect(line(ring, id) == String(repeating: "x", count: 16))
    }

    @Test("newest-first iteration stops at evicted records")
    func newestFirst() {
        let ring = LogRing(capacity: 4, arenaBytes: 1024)
        for index in 1...6 { append(ring, "r\(index)") }
        var seen: [String] = []
        RecordWindow().walkNewestFirst(in: ring, matching: .everything) { seen.append($0.line.text); return true }
        #expect(seen == ["r6", "r5", "r4", "r3"])
    }

    @Test("readers on other threads never see a torn record while the writer wraps the ring")
    func concurrentReaders() {
        let ring = LogRing(capacity: 512, arenaBytes: 16 * 1024)
        let counters = StressCounters()
        let readerCount = 2
        // Real threads, not tasks: spinning readers would starve a writer task on a two-core cooperative pool.
        for _ in 0..<readerCount {
            Thread {
                while !counters.done.load(ordering: .relaxed) {
                    for id in ring.storedIDs.reversed().prefix(64) {
                        let result = ring.read(id) { record in
                            record.line.text == expectedLine(id) && record.host.text == "h\(id % 7)"
                                && record.receivedAtMilliseconds == Int64(id)
                        }
                        if result == false { counters.torn.add(1, ordering: .relaxed) }
                        if result != nil { counters.checked.add(1, ordering: .relaxed) }
                    }
                }
                counters.finishedReaders.add(1, ordering: .releasing)
            }.start()
        }
        for id in UInt64(1)...300_000 {
            let appended = withBytes(expectedLine(id)) { line in
                withBytes("h\(id % 7)") { host in
                    ring.append(NewRecord(line: line, host: host, level: .info, ingestProtocol: .udp,
                                          isTruncated: false, receivedAtMilliseconds: Int64(id)))
                }
            }
            #expect(appended == id)
        }
        counters.done.store(true, ordering: .relaxed)
        while counters.finishedReaders.load(ordering: .acquiring) < readerCount { usleep(1000) }
        #expect(counters.torn.load(ordering: .relaxed) == 0)
        #expect(counters.checked.load(ordering: .relaxed) > 1000)
        #expect(ring.evictedCount > 290_000)
    }
}

/// Each line repeats one digit, derived from its id, a number of times also derived from its id.
private func expectedLine(_ id: UInt64) -> String {
    String(repeating: Character(String(id % 10)), count: Int(id % 50) + 1)
}

private final class StressCounters: Sendable {
    let done = Atomic<Bool>(false)
    let torn = Atomic<Int>(0)
    let checked = Atomic<Int>(0)
    let finishedReaders = Atomic<Int>(0)
}
