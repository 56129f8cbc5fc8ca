import Glibc
import Testing
@testable import LogStream

/// A store that keeps what it is given and can be told it is full, as the disk log will be while it waits.
final class RecordingStore: RecordStore {
    var hasRoom = true
    var stored: [(id: UInt64, line: String, service: String)] = []

    func append(_ record: NewRecord, id: UInt64) {
        stored.append((id, record.line.text, record.service.text))
    }
}

@Suite("Record destination and line ingest")
struct RecordDestinationTests {
    @Test("a line becomes a record in the ring and in every store, with the same id, its service numbered once")
    func linesToRecords() {
        let destination = RecordDestination(ring: LogRing(capacity: 100, arenaBytes: 1 << 16))
        let store = RecordingStore()
        destination.add(store)
        let ingest = LineIngest(destination: destination)
        for text in ["ERROR [pay] card declined", "  ", "{\"level\":\"warn\",\"service\":\"pay\",\"msg\":\"slow\",\"ms\":812}", "plain"] {
            withBytes(text) { ingest.ingest(FramedLine(bytes: $0, isTruncated: false), host: $0, protocol: .tcp, receivedAtMilliseconds: 5) }
        }
        #expect(store.stored.map(\.id) == [1, 2, 3])  // the blank line is no record
        #expect(store.stored.map(\.service) == ["pay", "pay", ""])
        let ring = destination.ring
        #expect(ring.read(2) { ($0.level, $0.service.text, $0.fields.value(named: Array("ms".utf8))?.text) }! == (.warn, "pay", "812"))
        #expect(ring.services.count == 1)
        #expect(destination.stats.received == 3)
        #expect(Dictionary(uniqueKeysWithValues: destination.stats.byService.all.map { ($0.name, $0.count) }) == ["pay": 2, "unknown": 1])
    }

    @Test("with a store full, the destination has no room; held-back senders resume once it has caught up")
    func backPressure() {
        let destination = RecordDestination(ring: LogRing(capacity: 10, arenaBytes: 4096))
        #expect(destination.hasRoom)  // the ring alone never runs out: it evicts
        let store = RecordingStore()
        destination.add(store)
        store.hasRoom = false
        #expect(!destination.hasRoom)
        var resumed = 0
        destination.whenRoom { resumed += 1 }
        destination.whenRoom { resumed += 1 }
        destination.resumeWaitingSenders()
        #expect(resumed == 0 && destination.waitingCount == 2)
        store.hasRoom = true
        destination.resumeWaitingSenders()
        destination.resumeWaitingSenders()
        #expect(resumed == 2 && destination.waitingCount == 0)
    }

    @Test("a TCP sender is not read while the destination has no room, and loses nothing when it has room again")
    func tcpSenderHeldBack() throws {
        let reactor = try Reactor()
        let destination = RecordDestination(ring: LogRing(capacity: 100_000, arenaBytes: 16 << 20))
        let store = RecordingStore()
        store.hasRoom = false
        destination.add(store)
        let listenerFD = try Socket.listenTCP(on: SocketAddress(host: "127.0.0.1", port: 0)!)
        let listener = TCPLineListener(fd: listenerFD, reactor: reactor, ingest: LineIngest(destination: destination), maxLineBytes: 1024)
        try reactor.register(listenerFD, interest: .readable, handler: listener)
        reactor.afterEachIteration { destination.resumeWaitingSenders() }
        let port = try #require(Socket.localAddress(of: listenerFD)).port

        let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { Glibc.close(client) }
        let connected = SocketAddress(host: "127.0.0.1", port: port)!.withSockaddr { connect(client, $0, $1) }
        #expect(connected == 0)
        let lines = (0..<1000).map { "INFO [held] line \($0)\n" }.joined()
        _ = Array(lines.utf8).withUnsafeBytes { Glibc.send(client, $0.baseAddress, $0.count, 0) }

        var storedWhileFull = -1
        reactor.schedule(afterMilliseconds: 100) {
            storedWhileFull = destination.ring.storedCount
            store.hasRoom = true  // the disk caught up
        }
        reactor.addTimer(everyMilliseconds: 10) { if destination.ring.storedCount == 1000 { reactor.stop() } }
        reactor.schedule(afterMilliseconds: 5000) { reactor.stop() }
        reactor.run()
        #expect(listener.connectionCount == 1 && listener.pausedCount == 1)
        #expect(storedWhileFull == 0)
        #expect(destination.ring.storedCount == 1000)
        #expect(store.stored.last?.line == "INFO [held] line 999")
    }
}
