// Accepts HTTP connections and hands each to an HTTPConnection; upgraded connections become WebSocket sessions.
// HTTP connections and WebSocket sessions together are bounded: beyond the bound a new connection is accepted
// and closed at once.

final class HTTPServer: ReactorHandler {
    let fd: FileDescriptor
    let reactor: Reactor
    let api: WebAPI
    let liveTail: LiveTail
    /// Runs searches over the ring off the reactor thread.
    let worker: WorkerThread
    private var connections: [Int32: HTTPConnection] = [:]
    private var limit: ConnectionLimit
    private let headerTimeoutSeconds: Int
    /// Connections closed for a request head that was too slow.
    private(set) var slowHeadCount = 0
    /// WebSocket handshakes refused for coming from another site's page.
    private(set) var originRefusedCount = 0

    init(fd: FileDescriptor, reactor: Reactor, api: WebAPI, liveTail: LiveTail, worker: WorkerThread,
         maxConnections: Int = 256, headerTimeoutSeconds: Int = 10) {
        self.fd = fd
        limit = ConnectionLimit(maximum: maxConnections)
        self.headerTimeoutSeconds = headerTimeoutSeconds
        self.worker = worker
        self.reactor = reactor
        self.api = api
        self.liveTail = liveTail
    }

    var connectionCount: Int { connections.count }
    /// Connections refused for the bound.
    var refusedCount: Int { limit.refusedCount }

    func readable() {
        var open = connections.count + liveTail.sessionCount
        let accepted = reactor.acceptConnections(on: fd) { connectionFD, _ -> HTTPConnection? in
            guard limit.admit(open: &open) else { return nil }
            return HTTPConnection(fd: connectionFD, server: self)
        }
        for connection in accepted { connections[connection.fd.rawValue] = connection }
    }

    /// Timer: closes connections whose request head is overdue (and idle kept-alive ones).
    func closeSlowConnections() {
        let now = reactor.seconds
        for connection in connections.values where connection.expire(now: now, timeoutSeconds: headerTimeoutSeconds) == .slowHead {
            slowHeadCount += 1
        }
    }

    /// Stops accepting connections.
    func stopAccepting() {
        reactor.close(fd)
    }

    /// Closes at once (the peer is gone), or gracefully after a final response (the peer may still be sending).
    func close(_ connection: HTTPConnection, gracefully: Bool = false) {
        connections[connection.fd.rawValue] = nil
        reactor.close(connection.fd, gracefully: gracefully)
    }

    /// Why a WebSocket handshake may not go ahead (no token; another site's page), or nil.
    func refusal(forWebSocket request: HTTPRequest) -> HTTPResponse? {
        if let refusal = api.refusal(for: request) { return refusal }
        guard api.access.allowsOrigin(of: request) else {
            originRefusedCount += 1
            return .error(403, "WebSocket connections from this origin are not allowed (--allowed-origins)")
        }
        return nil
    }

    /// The connection's descriptor now belongs to a WebSocket session.
    func upgrade(_ connection: HTTPConnection, output: OutboundQueue, leftover: [UInt8]) {
        connections[connection.fd.rawValue] = nil
        let session = WebSocketSession(fd: connection.fd, liveTail: liveTail, output: output)
        reactor.replaceHandler(of: connection.fd, with: session)
        liveTail.add(session)
        session.receive(leftover)
    }
}
