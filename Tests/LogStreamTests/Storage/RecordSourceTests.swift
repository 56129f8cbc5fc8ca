import Testing
@testable import LogStream

@Suite("Record sources: the ring's walks and summaries, and a merged history stitched by id")
struct RecordSourceTests {
    /// Record `id`'s line: its id, a level word and a service, so filters can pick some out.
    static func line(_ id: UInt64) -> String { id % 10 == 3 ? "ERROR [pay] declined \(id)" : "INFO [web] served \(id)" }

    /// Appends the records `ids` (the ring's next ids must be these).
    static func fill(_ ring: LogRing, _ ids: ClosedRange<UInt64>, host: String = "10.0.0.1") {
        for id in ids {
            let text = line(id)
            let service = id % 10 == 3 ? "pay" : "web"
            let appended = withBytes(text) { line in
                withBytes(host) { host in
                    withBytes(service) { service in
                        ring.append(NewRecord(line: line, host: host, level: id % 10 == 3 ? .error : .info, service: service,
                                              ingestProtocol: .tcp, isTruncated: false, receivedAtMilliseconds: Int64(id) * 10))
                    }
                }
            }
            precondition(appended == id)
        }
    }

    func walk(_ source: any RecordSource, _ ids: Range<UInt64>, hints: ScanHints = .none,
              while keepGoing: (UInt64) -> Bool = { _ in true }) -> ([UInt64], WalkEnd) {
        var seen: [UInt64] = []
        let end = source.walkNewestFirst(ids, hints: hints, { record in
            seen.append(record.id)
            return keepGoing(record.id)
        }, discardTorn: { seen.removeLast() })
        return (seen, end)
    }

    @Test("the ring's walk says whether it looked at everything, was stopped, or found older ids gone")
    func ringWalkEnds() {
        let ring = LogRing(capacity: 100, arenaBytes: 1 << 20)
        Self.fill(ring, 1...250)  // holds 151...250
        #expect(walk(ring, 200..<251).1 == .exhausted)
        #expect(walk(ring, 200..<251).0 == Array((200...250).reversed()))
        #expect(walk(ring, 1..<251, while: { $0 > 240 }).1 == .stopped(at: 240))
        let (seen, end) = walk(ring, 1..<251)
        #expect(seen.count == 100 && end == .gone(below: 151))
        #expect(walk(ring, 1..<100).1 == .gone(below: 100))  // nothing of it is held
        for hints in [ScanHints(requiredText: Array("declined".utf8)), ScanHints(blockKey: RecordFilter(level: "error").blockKey)] {
            let (found, end) = walk(ring, 1..<1000, hints: hints)
            #expect(found.filter { $0 % 10 == 3 } == Array(stride(from: 243, through: 153, by: -10)))
            #expect(end == .gone(below: 151))
        }
    }

    @Test("summaries carry each record's host and service by name, numbered or stored inline")
    func summaries() {
        let ring = LogRing(capacity: 10, arenaBytes: 1 << 16, hostCapacity: 1, serviceCapacity: 1)
        Self.fill(ring, 1...3, host: "web-1")
        Self.fill(ring, 4...4, host: "web-2")  // the host table is full: stored inline
        var seen: [(String, String, LogLevel)] = []
        let end = ring.forEachSummary(newestFirstIn: 1..<5) { summary in
            seen.append((summary.host.text, summary.service.text, summary.level))
            return true
        }
        #expect(end == .exhausted)
        #expect(seen.map(\.0) == ["web-2", "web-1", "web-1", "web-1"])
        #expect(seen.map(\.1) == ["web", "pay", "web", "web"])  // "pay" is inline: the service table holds "web"
        #expect(seen.map(\.2) == [.info, .error, .info, .info])
    }

    @Test("a merged source reads the newest tier first and older tiers for what it no longer holds, each id once")
    func mergedWalk() throws {
        let history = LogRing(capacity: 10_000, arenaBytes: 1 << 20)  // as the disk will: everything
        Self.fill(history, 1...400)
        let recent = LogRing(capacity: 100, arenaBytes: 1 << 20, firstID: 201)
        Self.fill(recent, 201...400)  // holds 301...400
        let merged = MergedSource(newestFirst: [recent, history])
        #expect(merged.storedIDs == 1..<401)
        let (all, end) = walk(merged, 1..<401)
        #expect(all == Array((1...400).reversed()) && end == .exhausted)
        #expect(merged.read(42) { $0.line.text } == Self.line(42) && merged.read(350) { $0.line.text } == Self.line(350))
        let (errors, _) = walk(merged, 1..<401, hints: ScanHints(requiredText: Array("declined".utf8)))
        #expect(errors.filter { $0 % 10 == 3 } == Array(stride(from: 393, through: 3, by: -10)))
        #expect(walk(merged, 1..<401, while: { $0 > 250 }).1 == .stopped(at: 250))
        #expect(merged.firstID(receivedSince: 3500, among: 1..<401) == 350)
        #expect(merged.firstID(receivedSince: 1000, among: 1..<401) == 100)
        var levels: [LogLevel: Int] = [:]
        _ = merged.forEachSummary(newestFirstIn: 1..<401) { levels[$0.level, default: 0] += 1; return true }
        #expect(levels == [.error: 40, .info: 360])
        // Histograms are counted where the records are, across the tiers: records 1...400 at 10 ms apart,
        // in buckets of a second from 0.5 s.
        var counts = [UInt64](repeating: 0, count: 4 * 6)
        let counted = counts.withUnsafeMutableBufferPointer { counts in
            merged.countLevels(newestFirstIn: 1..<401, in: TimeBuckets(since: 500, until: 3_999, width: 1000, count: 4),
                               levels: ~0, into: counts)
        }
        #expect(counted == .exhausted)
        let info = Int(LogLevel.info.rawValue), error = Int(LogLevel.error.rawValue)
        #expect((0..<4).map { counts[$0 * 6 + info] + counts[$0 * 6 + error] } == [100, 100, 100, 50])  // 50...149, ..., 350...399
        #expect((0..<4).map { counts[$0 * 6 + error] } == [10, 10, 10, 5])
    }

    @Test("when the newest tier evicts records mid-walk, the walk goes on in the older tier from exactly there")
    func mergedWalkAcrossEviction() {
        let history = LogRing(capacity: 10_000, arenaBytes: 1 << 20)
        Self.fill(history, 1...450)
        let recent = LogRing(capacity: 100, arenaBytes: 1 << 20, firstID: 301)
        Self.fill(recent, 301...400)
        let merged = MergedSource(newestFirst: [recent, history])
        var appended = false
        let (seen, end) = walk(merged, 1..<401) { id in
            if id == 390, !appended {
                appended = true
                Self.fill(recent, 401...450)  // evicts 301...350 of the recent tier while the walk is at 390
            }
            return true
        }
        #expect(end == .exhausted)
        #expect(seen == Array((1...400).reversed()))
    }
}
