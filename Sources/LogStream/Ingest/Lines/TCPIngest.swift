// Accepts TCP senders and frames their newline-delimited streams. All connections read into the reactor's
// shared buffer; a connection keeps only the unfinished tail of its last read. Beyond `maxConnections` a new sender
// is accepted and closed at once; one silent for `idleTimeoutSeconds` is closed (what it sent is kept).

public final class TCPIngestListener: ReactorHandler {
    public let fd: FileDescriptor
    private let reactor: Reactor
    fileprivate let sink: RecordSink
    private let maxLineBytes: Int
    private var limit: ConnectionLimit
    private let idleTimeoutSeconds: Int
    private var connections: [Int32: TCPIngestConnection] = [:]
    /// Connections closed for silence.
    public private(set) var idleClosedCount = 0
    /// Whether new connections are taken (false while shutting down).
    public private(set) var isAccepting = true

    /// `idleTimeoutSeconds` 0: never.
    public init(fd: FileDescriptor, reactor: Reactor, sink: RecordSink, maxLineBytes: Int, maxConnections: Int = 1024,
                idleTimeoutSeconds: Int = 0) {
        self.fd = fd
        self.reactor = reactor
        self.sink = sink
        self.maxLineBytes = maxLineBytes
        limit = ConnectionLimit(maximum: maxConnections)
        self.idleTimeoutSeconds = idleTimeoutSeconds
    }

    public var connectionCount: Int { connections.count }
    /// Connections refused for the limit.
    public var refusedCount: Int { limit.refusedCount }

    public func readable() {
        guard isAccepting else { return }
        var open = connections.count
        let accepted = reactor.acceptConnections(on: fd) { connectionFD, peer -> TCPIngestConnection? in
            guard limit.admit(open: &open) else { return nil }
            return TCPIngestConnection(fd: connectionFD, host: Array(peer.hostText.utf8), maxLineBytes: maxLineBytes, listener: self)
        }
        for connection in accepted { connections[connection.fd.rawValue] = connection }
    }

    /// Timer: closes the connections silent for the idle timeout, keeping what they sent.
    public func closeIdleConnections() {
        guard idleTimeoutSeconds > 0 else { return }
        let now = reactor.seconds
        for connection in connections.values where now - connection.lastActiveSecond >= idleTimeoutSeconds {
            idleClosedCount += 1
            connection.finish()
        }
    }

    fileprivate var seconds: Int { reactor.seconds }
    fileprivate var readBuffer: UnsafeMutableRawBufferPointer { reactor.readBuffer }

    /// Stops accepting and reads what every open connection has already delivered.
    public func drain() {
        isAccepting = false
        reactor.close(fd)
        for connection in connections.values { connection.readable() }
    }

    fileprivate func close(_ connection: TCPIngestConnection) {
        connections[connection.fd.rawValue] = nil
        reactor.close(connection.fd)
    }
}

final class TCPIngestConnection: ReactorHandler {
    let fd: FileDescriptor
    private let host: [UInt8]
    /// The peer's number in the ring's host table, found once rather than per line.
    private let hostNumber: Int?
    private var framer: LineFramer
    private unowned let listener: TCPIngestListener
    /// When bytes last arrived (the reactor's seconds).
    private(set) var lastActiveSecond: Int

    /// Reads per readiness event, so one fast sender cannot starve the others.
    static let readsPerWakeup = 16

    init(fd: FileDescriptor, host: [UInt8], maxLineBytes: Int, listener: TCPIngestListener) {
        self.fd = fd
        self.host = host
        hostNumber = host.withUnsafeBytes { listener.sink.ring.hosts.index(of: $0) }
        self.framer = LineFramer(maxLineBytes: maxLineBytes)
        self.listener = listener
        lastActiveSecond = listener.seconds
    }

    func readable() {
        let sink = listener.sink
        for _ in 0..<Self.readsPerWakeup {
            let result: FileDescriptor.ReadResult
            do { result = try fd.read(into: listener.readBuffer) } catch {
                finish()  // ECONNRESET and friends: keep what arrived
                return
            }
            switch result {
            case .bytes(let count):
                lastActiveSecond = listener.seconds
                let now = Clock.wallMilliseconds
                host.withUnsafeBytes { host in
                    framer.feed(UnsafeRawBufferPointer(rebasing: listener.readBuffer[..<count])) { line in
                        sink.ingest(line, host: host, hostNumber: hostNumber, protocol: .tcp, receivedAtMilliseconds: now)
                    }
                }
                if count < listener.readBuffer.count { return }
            case .wouldBlock:
                return
            case .endOfFile:
                finish()
                return
            }
        }
    }

    /// The sender is done (or gone, or idle too long): a last line without its terminator is kept.
    func finish() {
        let sink = listener.sink
        let now = Clock.wallMilliseconds
        host.withUnsafeBytes { host in
            framer.finish { line in sink.ingest(line, host: host, hostNumber: hostNumber, protocol: .tcp, receivedAtMilliseconds: now) }
        }
        listener.close(self)
    }
}
