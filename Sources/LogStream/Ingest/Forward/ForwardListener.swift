// Fluent Forward over TCP (Fluent Bit, fluentd, Docker's fluentd driver, the fluent-logger libraries), with
// the UDP heartbeat on the same port. A connection buffers bytes until a whole message has arrived (at most
// `maxMessageBytes`), then stores its events, at most `eventsPerTurn` a reactor turn so that a large message
// cannot stall the loop; a gzip-compressed message is inflated on the ingest worker. While a message is being
// stored, or while the destination has no room, the connection is not read: the sender waits in TCP's
// buffers. A message asking for an ack (`chunk`) is answered once its records are durable. A malformed
// message closes its connection, with the reason logged and counted; what that connection sent before is kept.
import Glibc

public final class ForwardListener: ReactorHandler {
    public struct Configuration {
        public var maxMessageBytes: Int
        public var maxLineBytes: Int
        public var maxConnections = 1024
        /// 0: never.
        public var idleTimeoutSeconds = 300
        /// The shared key of the handshake, when one is required.
        public var sharedKey: String?
        /// The name PONG gives for this server.
        public var hostname = "logstream"
        public var joinsLines = false

        public init(maxMessageBytes: Int, maxLineBytes: Int) {
            (self.maxMessageBytes, self.maxLineBytes) = (maxMessageBytes, maxLineBytes)
        }
    }

    public let fd: FileDescriptor
    let configuration: Configuration
    /// Forward over TLS (Fluent Bit's `tls on`): each connection is a TLS session first.
    public let tls: TLSAcceptor?
    let reactor: Reactor
    let destination: RecordDestination
    let worker: WorkerThread
    private var limit: ConnectionLimit
    private var connections: [Int32: ForwardConnection] = [:]
    public private(set) var isAccepting = true
    /// Counted as they happen; read by /metrics.
    public private(set) var messages: UInt64 = 0
    public private(set) var acksSent: UInt64 = 0
    public private(set) var malformedClosed: UInt64 = 0
    public private(set) var handshakeFailures: UInt64 = 0
    public private(set) var idleClosed: UInt64 = 0
    private var reasonsLoggedThisSecond = (second: 0, count: 0)

    /// Events stored per reactor turn from one message (as HTTP ingestion stores a batch).
    static let eventsPerTurn = 8192
    /// A compressed message is inflated to at most this many times its size.
    static let inflationFactor = 8

    public init(fd: FileDescriptor, reactor: Reactor, destination: RecordDestination, worker: WorkerThread, configuration: Configuration,
                tls: TLSAcceptor? = nil) {
        self.fd = fd
        self.tls = tls
        self.reactor = reactor
        self.destination = destination
        self.worker = worker
        self.configuration = configuration
        limit = ConnectionLimit(maximum: configuration.maxConnections)
    }

    public var connectionCount: Int { connections.count }
    public var refusedCount: Int { limit.refusedCount }

    public func readable() {
        guard isAccepting else { return }
        var open = connections.count + (tls?.pendingCount ?? 0)
        if let tls {
            tls.accept(on: fd, admit: { limit.admit(open: &open) }) { [unowned self] transport, peer, verifiedName in
                let connection = ForwardConnection(transport: transport, peer: peer, verifiedName: verifiedName, listener: self)
                connections[connection.fd.rawValue] = connection
                connection.greet()
                return connection
            }
            return
        }
        let accepted = reactor.acceptConnections(on: fd) { connectionFD, peer -> ForwardConnection? in
            guard limit.admit(open: &open) else { return nil }
            return ForwardConnection(transport: .plain(connectionFD), peer: peer, listener: self)
        }
        for connection in accepted {
            connections[connection.fd.rawValue] = connection
            connection.greet()
        }
    }

    /// After each reactor turn: acknowledges what has become durable (ids below `durableUpTo`).
    public func releaseAcks(durableUpTo: UInt64) {
        for connection in connections.values { connection.releaseAcks(durableUpTo: durableUpTo) }
    }

    /// Timer: stores joined records whose trace has gone quiet, closes connections silent too long.
    public func tick(quietMilliseconds: Int64) {
        let now = Clock.wallMilliseconds
        for connection in connections.values { connection.flushQuiet(now: now, quietMilliseconds: quietMilliseconds) }
        guard configuration.idleTimeoutSeconds > 0 else { return }
        for connection in connections.values where connection.isIdle(since: reactor.seconds - configuration.idleTimeoutSeconds) {
            idleClosed += 1
            connection.close()
        }
    }

    /// Stops accepting; every connection stores what it has already received.
    public func drain() {
        isAccepting = false
        reactor.close(fd)
        tls?.closeAll()
        for connection in connections.values { connection.drain() }
    }

    func counted() { messages += 1 }
    func countedAck() { acksSent += 1 }
    func handshakeFailed() { handshakeFailures += 1 }

    /// A connection closed for what it sent: counted, and logged (at most a few lines a second).
    func refused(_ peer: SocketAddress, _ reason: String) {
        malformedClosed += 1
        let second = reactor.seconds
        if reasonsLoggedThisSecond.second != second { reasonsLoggedThisSecond = (second, 0) }
        reasonsLoggedThisSecond.count += 1
        guard reasonsLoggedThisSecond.count <= 5 else { return }
        logLine("forward: closed \(peer.hostText):\(peer.port): \(reason)")
    }

    var logLine: (String) -> Void = { _ in }

    func remove(_ connection: ForwardConnection) {
        connections[connection.fd.rawValue] = nil
        connection.transport.close(on: reactor)
    }
}

/// Answers Fluent's UDP heartbeat (a datagram to the Forward port) with one NUL byte, as fluentd's in_forward.
public final class ForwardHeartbeat: ReactorHandler {
    public let fd: FileDescriptor
    private let batch = DatagramBatch(capacity: 8)
    public private(set) var answered: UInt64 = 0

    public init(fd: FileDescriptor) { self.fd = fd }

    public func readable() {
        while (try? batch.receive(from: fd)) == true {
            for index in 0..<batch.count {
                var nul: UInt8 = 0
                if (try? withUnsafeBytes(of: &nul) { try fd.send($0, to: batch.sender(at: index)) }) == true { answered += 1 }
            }
            if batch.count < batch.capacity { return }
        }
    }
}
