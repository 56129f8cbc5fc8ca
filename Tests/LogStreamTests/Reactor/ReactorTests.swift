import Glibc
import Testing
@testable import LogStream

/// Reads everything offered on one end of a socket pair and stops the reactor after `expected` bytes.
private final class Collector: ReactorHandler {
    let fd: FileDescriptor
    let reactor: Reactor
    let expected: Int
    var received: [UInt8] = []

    init(fd: FileDescriptor, reactor: Reactor, expected: Int) {
        self.fd = fd
        self.reactor = reactor
        self.expected = expected
    }

    func readable() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let result = try? buffer.withUnsafeMutableBytes { raw in Result { () throws(SystemError) in try fd.read(into: raw) } }.get()
        if case .bytes(let count) = result { received += buffer[..<count] }
        if received.count >= expected || result == .endOfFile { reactor.stop() }
    }
}

private func socketPair() -> (FileDescriptor, FileDescriptor) {
    var fds: [Int32] = [0, 0]
    precondition(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0, &fds) == 0)
    return (FileDescriptor(rawValue: fds[0]), FileDescriptor(rawValue: fds[1]))
}

/// What one read from `fd` returns (nothing when it would block).
private func readSome(from fd: FileDescriptor, into buffer: inout [UInt8]) throws -> ArraySlice<UInt8> {
    let result = try buffer.withUnsafeMutableBytes { raw in Result { () throws(SystemError) in try fd.read(into: raw) } }.get()
    if case .bytes(let count) = result { return buffer[..<count] }
    return []
}

@Suite("Reactor and outbound queue")
struct ReactorTests {
    @Test("a registered descriptor's handler hears that it is readable")
    func readiness() throws {
        let reactor = try Reactor()
        let (left, right) = socketPair()
        defer { left.close(); right.close() }
        let collector = Collector(fd: left, reactor: reactor, expected: 5)
        try reactor.register(left, interest: .readable, handler: collector)
        _ = try Array("hello".utf8).withUnsafeBytes { try right.write($0) }
        reactor.run()
        #expect(String(decoding: collector.received, as: UTF8.self) == "hello")
    }

    @Test("timers fire on the loop thread and iteration-end actions run after each batch")
    func timers() throws {
        let reactor = try Reactor()
        var ticks = 0
        var iterations = 0
        try reactor.addTimer(everyMilliseconds: 5) {
            ticks += 1
            if ticks == 3 { reactor.stop() }
        }
        reactor.afterEachIteration { iterations += 1 }
        reactor.run()
        #expect(ticks == 3)
        #expect(iterations >= 3)
    }

    @Test("the outbound queue writes what fits, keeps the rest in order, and reports its bound")
    func outboundQueue() throws {
        let (left, right) = socketPair()
        defer { left.close(); right.close() }
        var queue = OutboundQueue(limit: 8 << 20)
        let payload = (0..<(4 << 20)).map { UInt8(truncatingIfNeeded: $0 % 251) }
        queue.append(Array(payload[..<(1 << 20)]))
        queue.append(Array(payload[(1 << 20)...]))
        #expect(!queue.hasRoom(for: 5 << 20))
        #expect(try queue.flush(to: left) == false)  // a socket pair holds far less than 4 MiB
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while received.count < payload.count {
            let result = try buffer.withUnsafeMutableBytes { raw in Result { () throws(SystemError) in try right.read(into: raw) } }.get()
            if case .bytes(let count) = result { received += buffer[..<count] }
            _ = try queue.flush(to: left)
        }
        #expect(received == payload)
        #expect(queue.isEmpty)
    }

    @Test("small and large messages mixed, appended while earlier ones are half written, arrive whole and in order")
    func outboundQueueMixedSizes() throws {
        let (left, right) = socketPair()
        defer { left.close(); right.close() }
        var queue = OutboundQueue(limit: 64 << 20)
        var generator = SystemRandomNumberGenerator()
        var sent: [UInt8] = []
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        for round in 0..<2_000 {
            // Mostly frames of a few hundred bytes, some over the copy threshold, a few of several blocks.
            let size = round % 97 == 0 ? Int.random(in: 70_000...300_000, using: &generator)
                : round % 13 == 0 ? Int.random(in: 8_000...20_000, using: &generator) : Int.random(in: 1...600, using: &generator)
            let message = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ round) }
            queue.append(message)
            sent += message
            #expect(queue.pendingBytes <= sent.count - received.count)  // the rest sits in the socket
            _ = try queue.flush(to: left)
            if round % 3 == 0 { received += try readSome(from: right, into: &buffer) }
        }
        while received.count < sent.count {
            _ = try queue.flush(to: left)
            received += try readSome(from: right, into: &buffer)
        }
        #expect(received == sent)
        #expect(queue.isEmpty)
    }

    @Test("the queue's memory stays near what it has to send: small and large messages alternating, chunks written")
    func outboundQueueMemory() throws {
        var queue = OutboundQueue(limit: 1 << 20)
        var index = 0
        while queue.hasRoom(for: 10_000) {
            // Batches of a slow reader: small and large, alternating.
            queue.append([UInt8](repeating: UInt8(index % 256), count: index % 2 == 0 ? 1_500 : 9_000))
            index += 1
        }
        #expect(queue.heldBytes <= 2 * queue.pendingBytes + OutboundQueue.blockBytes)
        // Once written, a chunk no longer holds memory, though the array drops written chunks in batches.
        let (left, right) = socketPair()
        defer { left.close(); right.close() }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var received = 0
        while !queue.isEmpty && queue.pendingBytes > 100_000 {
            _ = try queue.flush(to: left)
            received += try readSome(from: right, into: &buffer).count
        }
        #expect(queue.heldBytes <= 2 * queue.pendingBytes + OutboundQueue.blockBytes)
    }

    @Test("writing to a peer that has gone is an error, not a crash")
    func brokenPipe() throws {
        let (left, right) = socketPair()
        right.close()
        defer { left.close() }
        var queue = OutboundQueue(limit: 1024)
        queue.append([1, 2, 3])
        #expect(throws: SystemError.self) { try queue.flush(to: left) }
    }

    @Test("a connection limit admits up to its maximum in a batch of accepts, then counts refusals")
    func connectionLimit() {
        var limit = ConnectionLimit(maximum: 3)
        var open = 1  // already open before this batch
        let admitted = (0..<5).map { _ in limit.admit(open: &open) }
        #expect(admitted == [true, true, false, false, false])
        #expect(open == 3)
        #expect(limit.refusedCount == 3)
        var none = ConnectionLimit(maximum: 0)
        var zero = 0
        #expect(!none.admit(open: &zero) && none.refusedCount == 1 && zero == 0)
    }
}
