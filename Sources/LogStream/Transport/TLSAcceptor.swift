// The TLS half of a listener: each accepted socket first belongs to a TLSHandshake, driven by the reactor's
// readiness and bounded by a deadline, and only a connection whose handshake completed is handed to the
// listener, as a Transport its protocol code reads and writes like a socket. Handshakes in progress count
// against the listener's connection bound, so a flood of stalled ones is refused like any other.

/// Handshakes completed and failed, by cause, on one listener.
public final class TLSCounters {
    public let listener: String
    public private(set) var handshakes = 0
    public private(set) var failures: [TLSSession.Failure: Int] = [:]

    public init(listener: String) { self.listener = listener }

    func count(_ failure: TLSSession.Failure) { failures[failure, default: 0] += 1 }
    func countHandshake() { handshakes += 1 }
    public var failureCount: Int { failures.values.reduce(0, +) }
}

public final class TLSAcceptor {
    /// A completed connection, its address, and the name its client certificate proved (or nil).
    public typealias Established = (Transport, SocketAddress, _ verifiedName: String?) -> ReactorHandler?

    private let identity: TLSServerIdentity
    private let reactor: Reactor
    /// Mutual TLS: a client certificate from the client CA is required.
    public let verifiesClients: Bool
    /// False where peers only write (syslog): see `TLSSession.init`.
    public let sendsSessionTickets: Bool
    /// With `verifiesClients`: the common name of a client's certificate is handed over as the name it proved.
    public let namesVerifiedPeers: Bool
    private let timeoutMilliseconds: Int
    /// Sent as it is to a peer whose first byte does not start a TLS record (plain HTTP on the HTTPS port is
    /// answered 400), then the connection is closed.
    private let plainTextAnswer: [UInt8]?
    public let counters: TLSCounters
    private var handshakes: [Int32: TLSHandshake] = [:]

    public init(identity: TLSServerIdentity, reactor: Reactor, listener: String, verifiesClients: Bool = false,
                sendsSessionTickets: Bool = true, namesVerifiedPeers: Bool = false, timeoutSeconds: Int, plainTextAnswer: [UInt8]? = nil) {
        self.identity = identity
        self.reactor = reactor
        self.verifiesClients = verifiesClients
        self.sendsSessionTickets = sendsSessionTickets
        self.namesVerifiedPeers = namesVerifiedPeers
        timeoutMilliseconds = timeoutSeconds * 1000
        self.plainTextAnswer = plainTextAnswer
        counters = TLSCounters(listener: listener)
    }

    public var pendingCount: Int { handshakes.count }

    /// Accepts every pending connection on `listener` that `admit` lets in and starts its handshake.
    /// `established` is called with each connection whose handshake completes, and the name its certificate
    /// proved when the acceptor names verified peers; it returns the handler that takes the descriptor over
    /// (nil: close it).
    public func accept(on listener: FileDescriptor, admit: () -> Bool, established: @escaping Established) {
        let context = identity.context
        let started = reactor.acceptConnections(on: listener) { fd, peer -> TLSHandshake? in
            guard admit(), let session = try? TLSSession(context: context, fd: fd, verifiesClient: verifiesClients,
                                                                     sendsSessionTickets: sendsSessionTickets) else { return nil }
            return TLSHandshake(session: session, peer: peer, acceptor: self, established: established)
        }
        for handshake in started {
            handshakes[handshake.session.fd.rawValue] = handshake
            handshake.deadline = reactor.schedule(afterMilliseconds: timeoutMilliseconds) { [weak handshake] in
                handshake?.fail(.timeout)
            }
        }
    }

    fileprivate func completed(_ handshake: TLSHandshake) {
        finish(handshake)
        let fd = handshake.session.fd
        do { try reactor.setInterest(.readable, for: fd) } catch {
            counters.count(.closed)
            reactor.close(fd)
            return
        }
        let verifiedName = namesVerifiedPeers ? handshake.session.peerCommonName : nil
        guard let connection = handshake.established(.tls(handshake.session), handshake.peer, verifiedName) else {
            reactor.close(fd)
            return
        }
        counters.countHandshake()
        reactor.replaceHandler(of: fd, with: connection)
    }

    fileprivate func failed(_ handshake: TLSHandshake, _ failure: TLSSession.Failure) {
        finish(handshake)
        counters.count(failure)
        let fd = handshake.session.fd
        if failure == .notTLS, let plainTextAnswer {
            _ = plainTextAnswer.withUnsafeBytes { try? fd.send($0) }
            reactor.close(fd, gracefully: true)
        } else {
            reactor.close(fd)
        }
    }

    private func finish(_ handshake: TLSHandshake) {
        handshakes[handshake.session.fd.rawValue] = nil
        if let deadline = handshake.deadline { reactor.cancel(deadline) }
    }

    /// Stops every handshake in progress (shutting down).
    public func closeAll() {
        for handshake in Array(handshakes.values) {
            finish(handshake)
            reactor.close(handshake.session.fd)
        }
    }

    fileprivate func watch(_ interest: Interest, for handshake: TLSHandshake) {
        do { try reactor.setInterest(interest, for: handshake.session.fd) } catch { failed(handshake, .closed) }
    }
}

/// A socket whose TLS handshake is under way: it owns the descriptor until the handshake ends.
final class TLSHandshake: ReactorHandler {
    let session: TLSSession
    let peer: SocketAddress
    let established: TLSAcceptor.Established
    private unowned let acceptor: TLSAcceptor
    var deadline: TimerID?
    private var hasSeenRecord = false
    private var isOver = false

    /// The first byte of every TLS record of a handshake (content type 22).
    static let handshakeRecord: UInt8 = 0x16

    init(session: TLSSession, peer: SocketAddress, acceptor: TLSAcceptor, established: @escaping TLSAcceptor.Established) {
        self.session = session
        self.peer = peer
        self.acceptor = acceptor
        self.established = established
    }

    func readable() { advance() }
    func writable() { advance() }

    private func advance() {
        guard !isOver else { return }
        if !hasSeenRecord {
            // Peeked, not read: a peer speaking plain text (HTTP to the HTTPS port) is told so, not sent an alert.
            switch session.fd.peekFirstByte() {
            case .byte(Self.handshakeRecord): hasSeenRecord = true
            case .byte: return fail(.notTLS)
            case .none: return fail(.closed)
            case .notYet: return
            }
        }
        switch session.handshake() {
        case .done:
            isOver = true
            acceptor.completed(self)
        case .wantsRead:
            acceptor.watch(.readable, for: self)
        case .wantsWrite:
            acceptor.watch(.writable, for: self)
        case .failed(let failure):
            fail(failure)
        }
    }

    func fail(_ failure: TLSSession.Failure) {
        guard !isOver else { return }
        isOver = true
        acceptor.failed(self, failure)
    }
}
