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
        reactor.addTimer(everyMilliseconds: 5) {
            ticks += 1
            if ticks == 3 { reactor.stop() }
        }
        reactor.afterEachIteration { iterations += 1 }
        reactor.run()
        #expect(ticks == 3)
        #expect(iterations >= 3)
    }

    @Test("a one-shot timer runs once; one cancelled before its time, even by another timer, never runs")
    func oneShotTimers() throws {
        let reactor = try Reactor()
        var ran: [String] = []
        let cancelled = reactor.schedule(afterMilliseconds: 20) { ran.append("cancelled") }
        reactor.schedule(afterMilliseconds: 1) { ran.append("once") }
        var victim: TimerID?
        reactor.schedule(afterMilliseconds: 5) {
            ran.append("canceller")
            if let victim { reactor.cancel(victim) }
        }
        victim = reactor.schedule(afterMilliseconds: 5) { ran.append("victim") }
        reactor.cancel(cancelled)
        reactor.schedule(afterMilliseconds: 40) { reactor.stop() }
        reactor.run()
        #expect(ran == ["once", "canceller"])
    }

    @Test("an event fetched for a descriptor closed and reused in the same batch never reaches the new owner")
    func staleEvents() throws {
        let reactor = try Reactor()
        let pairs = [socketPair(), socketPair()]
        final class Recorder: ReactorHandler {
            var onReadable: () -> Void = {}
            var calls = 0
            func readable() { calls += 1; onReadable() }
        }
        let handlers = [Recorder(), Recorder()]
        let newOwner = Recorder()
        var closed: FileDescriptor?
        var fresh: (FileDescriptor, FileDescriptor)?
        for index in 0..<2 {
            let other = pairs[1 - index].0
            handlers[index].onReadable = {
                guard closed == nil else { return }
                // Close the other descriptor, whose event is already fetched, and give its number to a socket
                // with nothing to read: only a stale event could make it readable now.
                reactor.close(other)
                closed = other
                fresh = socketPair()
                try? reactor.register(fresh!.0, interest: .readable, handler: newOwner)
            }
            try reactor.register(pairs[index].0, interest: .readable, handler: handlers[index])
            _ = try Array("x".utf8).withUnsafeBytes { try pairs[index].1.write($0) }  // both ready: one batch
        }
        reactor.schedule(afterMilliseconds: 30) { reactor.stop() }
        reactor.run()
        let first = try #require(handlers.firstIndex { $0.calls > 0 })
        #expect(closed == pairs[1 - first].0)
        #expect(fresh?.0 == closed)  // the number was reused
        #expect(handlers[1 - first].calls == 0 && newOwner.calls == 0)
        for fd in [pairs[first].0, pairs[0].1, pairs[1].1, fresh!.0, fresh!.1] { fd.close() }
    }

    @Test("changing the interest of a descriptor that is not registered is an error the caller sees")
    func interestOfUnregistered() throws {
        let reactor = try Reactor()
        let (left, right) = socketPair()
        defer { left.close(); right.close() }
        #expect(throws: SystemError.self) { try reactor.setInterest(.readable, for: left) }
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
