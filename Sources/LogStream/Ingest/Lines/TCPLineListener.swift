// Accepts TCP senders and frames their newline-delimited (or octet-counted, or NUL-terminated) streams into
// lines, handed to a consumer (line parsing, or GELF's JSON). All connections read into the reactor's shared
// buffer; a connection keeps only the unfinished tail of its last read (and, with multi-line joining, the
// record a trace may still continue). Beyond `maxConnections` a new sender is accepted and closed at once; one
// silent for `idleTimeoutSeconds` is closed (what it sent is kept). While the destination has no room,
// connections are not read: their senders wait in the kernel's buffers, then in their own, and lose nothing.

/// What a stream listener hands each framed line to. `hostIsVerified`: `host` is the name a client certificate
/// proved, which replaces any host the line claims.
public protocol FramedLineConsumer: AnyObject {
    var destination: RecordDestination { get }
    func ingest(_ line: FramedLine, host: UnsafeRawBufferPointer, hostNumber: Int?, hostIsVerified: Bool, protocol: IngestProtocol,
                receivedAtMilliseconds: Int64)
}

extension LineIngest: FramedLineConsumer {}

/// Reads per readiness event, so one fast sender cannot starve the others.
let streamReadsPerWakeup = 16

public final class TCPLineListener<Consumer: FramedLineConsumer>: ReactorHandler {
    public let fd: FileDescriptor
    fileprivate let reactor: Reactor
    fileprivate let ingest: Consumer
    private let maxLineBytes: Int
    fileprivate let framing: LineFramer.Framing
    /// Joins a trace's lines into their record (--multiline).
    fileprivate let joinsLines: Bool
    private var limit: ConnectionLimit
    private let idleTimeoutSeconds: Int
    private var connections: [Int32: TCPLineConnection<Consumer>] = [:]
    /// Connections closed for silence.
    public private(set) var idleClosedCount = 0
    /// Times a connection was held back because the destination had no room.
    public private(set) var pausedCount = 0
    /// Whether new connections are taken (false while shutting down).
    public private(set) var isAccepting = true
    /// Syslog over TLS: each connection is a TLS session first.
    public let tls: TLSAcceptor?

    /// `idleTimeoutSeconds` 0: never.
    public init(fd: FileDescriptor, reactor: Reactor, ingest: Consumer, maxLineBytes: Int, maxConnections: Int = 1024,
                idleTimeoutSeconds: Int = 0, framing: LineFramer.Framing = .lines, joinsLines: Bool = false,
                tls: TLSAcceptor? = nil) {
        self.fd = fd
        self.reactor = reactor
        self.ingest = ingest
        self.maxLineBytes = maxLineBytes
        self.framing = framing
        self.joinsLines = joinsLines
        limit = ConnectionLimit(maximum: maxConnections)
        self.idleTimeoutSeconds = idleTimeoutSeconds
        self.tls = tls
    }

    public var connectionCount: Int { connections.count }
    /// Connections refused for the limit.
    public var refusedCount: Int { limit.refusedCount }

    public func readable() {
        guard isAccepting else { return }
        var open = connections.count + (tls?.pendingCount ?? 0)
        if let tls {
            tls.accept(on: fd, admit: { limit.admit(open: &open) }) { [unowned self] transport, peer, verifiedName in
                let connection = TCPLineConnection(transport: transport, host: Array((verifiedName ?? peer.hostText).utf8),
                                                   hostIsVerified: verifiedName != nil, maxLineBytes: maxLineBytes, listener: self)
                connections[connection.fd.rawValue] = connection
                return connection
            }
            return
        }
        let accepted = reactor.acceptConnections(on: fd) { connectionFD, peer -> TCPLineConnection<Consumer>? in
            guard limit.admit(open: &open) else { return nil }
            return TCPLineConnection(transport: .plain(connectionFD), host: Array(peer.hostText.utf8), hostIsVerified: false,
                                     maxLineBytes: maxLineBytes, listener: self)
        }
        for connection in accepted { connections[connection.fd.rawValue] = connection }
    }

    /// Timer: closes the connections silent for the idle timeout, keeping what they sent. A connection held
    /// back for room is not silent.
    public func closeIdleConnections() {
        guard idleTimeoutSeconds > 0 else { return }
        let now = reactor.seconds
        for connection in connections.values where !connection.isPaused && now - connection.lastActiveSecond >= idleTimeoutSeconds {
            idleClosedCount += 1
            connection.finish()
        }
    }

    /// Timer: hands out joined records whose trace has been quiet for `quietMilliseconds`.
    public func flushQuietRecords(quietMilliseconds: Int64) {
        guard joinsLines else { return }
        let now = Clock.wallMilliseconds
        for connection in connections.values { connection.flushJoined(ifQuietSince: now - quietMilliseconds, now: now) }
    }

    /// Stops accepting and reads what every open connection has already delivered.
    public func drain() {
        isAccepting = false
        reactor.close(fd)
        tls?.closeAll()
        for connection in connections.values { connection.read(evenWithoutRoom: true) }
    }

    fileprivate func paused() {
        pausedCount += 1
    }

    fileprivate func close(_ connection: TCPLineConnection<Consumer>) {
        connections[connection.fd.rawValue] = nil
        connection.transport.close(on: reactor)
    }
}

final class TCPLineConnection<Consumer: FramedLineConsumer>: ReactorHandler {
    let transport: Transport
    var fd: FileDescriptor { transport.fd }
    private let host: [UInt8]
    private let hostIsVerified: Bool
    private let ingestProtocol: IngestProtocol
    /// The peer's number in the ring's host table, found once rather than per line.
    private let hostNumber: Int?
    private var framer: LineFramer
    private var joiner: MultilineJoiner<Void>?
    private unowned let listener: TCPLineListener<Consumer>
    /// When bytes last arrived (the reactor's seconds).
    private(set) var lastActiveSecond: Int
    /// Not read until the destination has room.
    private(set) var isPaused = false
    private var isClosed = false

    init(transport: Transport, host: [UInt8], hostIsVerified: Bool, maxLineBytes: Int, listener: TCPLineListener<Consumer>) {
        self.transport = transport
        self.host = host
        self.hostIsVerified = hostIsVerified
        ingestProtocol = transport.isEncrypted ? .tls : .tcp
        hostNumber = host.withUnsafeBytes { listener.ingest.destination.hostNumber(of: $0) }
        self.framer = LineFramer(maxLineBytes: maxLineBytes, framing: listener.framing)
        if listener.joinsLines { joiner = MultilineJoiner(maxBytes: maxLineBytes) }
        self.listener = listener
        lastActiveSecond = listener.reactor.seconds
    }

    func readable() {
        read(evenWithoutRoom: false)
    }

    func read(evenWithoutRoom: Bool) {
        let (ingest, buffer) = (listener.ingest, listener.reactor.readBuffer)
        for _ in 0..<streamReadsPerWakeup {
            guard !isClosed else { return }
            guard evenWithoutRoom || ingest.destination.hasRoom else {
                pause()
                return
            }
            let result: FileDescriptor.ReadResult
            do { result = try transport.read(into: buffer) } catch {
                finish()  // ECONNRESET and friends: keep what arrived
                return
            }
            switch result {
            case .bytes(let count):
                lastActiveSecond = listener.reactor.seconds
                let now = Clock.wallMilliseconds
                let bytes = UnsafeRawBufferPointer(rebasing: buffer[..<count])
                if joiner != nil {
                    framer.feed(bytes) { line in join(line, now: now) }
                } else {
                    host.withUnsafeBytes { host in
                        framer.feed(bytes) { line in
                            ingest.ingest(line, host: host, hostNumber: hostNumber, hostIsVerified: hostIsVerified, protocol: ingestProtocol, receivedAtMilliseconds: now)
                        }
                    }
                }
                if count < buffer.count { return }
            case .wouldBlock:
                return
            case .endOfFile:
                finish()
                return
            }
        }
    }

    /// Multi-line joining: the line joins the held record, or the held record is stored and this one held.
    private func join(_ line: FramedLine, now: Int64) {
        let (ingest, host, hostNumber, hostIsVerified, ingestProtocol) = (listener.ingest, host, hostNumber, hostIsVerified, ingestProtocol)
        joiner!.feed(line.bytes, isTruncated: line.isTruncated, context: {}, now: now) { text, isTruncated, _ in
            host.withUnsafeBytes { host in
                ingest.ingest(FramedLine(bytes: text, isTruncated: isTruncated), host: host, hostNumber: hostNumber, hostIsVerified: hostIsVerified, protocol: ingestProtocol,
                              receivedAtMilliseconds: now)
            }
        }
    }

    /// Stores the held record if its last line came before `second`.
    func flushJoined(ifQuietSince milliseconds: Int64, now: Int64) {
        guard let pending = joiner, pending.hasPending, pending.lastLineMilliseconds <= milliseconds else { return }
        let (ingest, host, hostNumber, hostIsVerified, ingestProtocol) = (listener.ingest, host, hostNumber, hostIsVerified, ingestProtocol)
        joiner!.flush { text, isTruncated, _ in
            host.withUnsafeBytes { host in
                ingest.ingest(FramedLine(bytes: text, isTruncated: isTruncated), host: host, hostNumber: hostNumber, hostIsVerified: hostIsVerified, protocol: ingestProtocol,
                              receivedAtMilliseconds: now)
            }
        }
    }

    /// Stops watching the socket until the destination has room; then reads on.
    private func pause() {
        guard !isPaused else { return }
        do { try listener.reactor.setInterest([], for: fd) } catch {
            finish()
            return
        }
        isPaused = true
        listener.paused()
        listener.ingest.destination.whenRoom { [weak self] in self?.resume() }
    }

    private func resume() {
        guard isPaused, !isClosed else { return }
        isPaused = false
        lastActiveSecond = listener.reactor.seconds
        do { try listener.reactor.setInterest(.readable, for: fd) } catch { finish() }
    }

    /// The sender is done (or gone, or idle too long): a last line without its terminator is kept.
    func finish() {
        guard !isClosed else { return }
        isClosed = true
        let ingest = listener.ingest
        let now = Clock.wallMilliseconds
        if joiner != nil {
            framer.finish { line in join(line, now: now) }
            flushJoined(ifQuietSince: .max, now: now)
        } else {
            host.withUnsafeBytes { host in
                framer.finish { line in ingest.ingest(line, host: host, hostNumber: hostNumber, hostIsVerified: hostIsVerified, protocol: ingestProtocol, receivedAtMilliseconds: now) }
            }
        }
        listener.close(self)
    }
}
