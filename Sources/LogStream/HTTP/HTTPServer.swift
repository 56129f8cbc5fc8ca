// Accepts HTTP connections and hands each to an HTTPConnection, which routes its requests through `router`.
// Connections (with the ones switched to another protocol, counted by `alsoOpen`) are bounded: beyond the
// bound a new connection is accepted and closed at once.

final class HTTPServer: ReactorHandler {
    let fd: FileDescriptor
    let reactor: Reactor
    let router: Router
    private var connections: [Int32: HTTPConnection] = [:]
    private var limit: ConnectionLimit
    private let headerTimeoutSeconds: Int
    /// Connections open elsewhere that count against the bound (WebSocket sessions).
    private let alsoOpen: () -> Int
    /// Connections closed for a request that was too slow to arrive.
    private(set) var slowRequestCount = 0
    /// HTTPS: every connection is a TLS session first.
    let tls: TLSAcceptor?

    init(fd: FileDescriptor, reactor: Reactor, router: Router, maxConnections: Int = 256, headerTimeoutSeconds: Int = 10,
         alsoOpen: @escaping () -> Int = { 0 }, tls: TLSAcceptor? = nil) {
        self.fd = fd
        self.reactor = reactor
        self.router = router
        limit = ConnectionLimit(maximum: maxConnections)
        self.headerTimeoutSeconds = headerTimeoutSeconds
        self.alsoOpen = alsoOpen
        self.tls = tls
    }

    var connectionCount: Int { connections.count }
    /// Connections refused for the bound.
    var refusedCount: Int { limit.refusedCount }

    func readable() {
        var open = connections.count + alsoOpen() + (tls?.pendingCount ?? 0)
        if let tls {
            tls.accept(on: fd, admit: { limit.admit(open: &open) }) { [unowned self] transport, peer, verifiedName in
                let connection = HTTPConnection(transport: transport, server: self, peer: verifiedName ?? peer.hostText,
                                                peerIsVerified: verifiedName != nil)
                connections[connection.fd.rawValue] = connection
                return connection
            }
            return
        }
        let accepted = reactor.acceptConnections(on: fd) { connectionFD, peer -> HTTPConnection? in
            guard limit.admit(open: &open) else { return nil }
            return HTTPConnection(transport: .plain(connectionFD), server: self, peer: peer.hostText)
        }
        for connection in accepted { connections[connection.fd.rawValue] = connection }
    }

    /// Timer: closes connections whose request is overdue (and idle kept-alive ones).
    func closeSlowConnections() {
        let now = reactor.seconds
        for connection in connections.values where connection.expire(now: now, timeoutSeconds: headerTimeoutSeconds) == .slow {
            slowRequestCount += 1
        }
    }

    /// Stops accepting connections (and frees the port).
    func stopAccepting() {
        reactor.close(fd)
        tls?.closeAll()
    }

    /// Closes at once (the peer is gone), or gracefully after a final response (the peer may still be sending).
    func close(_ connection: HTTPConnection, gracefully: Bool = false) {
        connections[connection.fd.rawValue] = nil
        connection.transport.close(on: reactor, gracefully: gracefully)
    }

    /// The connection's socket now belongs to another protocol's handler.
    func upgrade(_ connection: HTTPConnection, to upgraded: UpgradedConnection, _ takeOver: (UpgradedConnection) -> Void) {
        connections[connection.fd.rawValue] = nil
        takeOver(upgraded)
    }
}
