// Accepts HTTP connections and hands each to an HTTPConnection; upgraded connections become WebSocket sessions.

final class HTTPServer: ReactorHandler {
    let fd: FileDescriptor
    let reactor: Reactor
    let api: WebAPI
    let liveTail: LiveTail
    /// Runs searches over the ring off the reactor thread.
    let worker: WorkerThread
    private var connections: [Int32: HTTPConnection] = [:]

    init(fd: FileDescriptor, reactor: Reactor, api: WebAPI, liveTail: LiveTail, worker: WorkerThread) {
        self.fd = fd
        self.worker = worker
        self.reactor = reactor
        self.api = api
        self.liveTail = liveTail
    }

    var connectionCount: Int { connections.count }

    func readable() {
        let accepted = reactor.acceptConnections(on: fd) { connectionFD, _ in HTTPConnection(fd: connectionFD, server: self) }
        for connection in accepted { connections[connection.fd.rawValue] = connection }
    }

    /// Stops accepting connections.
    func stopAccepting() {
        reactor.deregister(fd)
    }

    /// Closes at once (the peer is gone), or gracefully after a final response (the peer may still be sending).
    func close(_ connection: HTTPConnection, gracefully: Bool = false) {
        connections[connection.fd.rawValue] = nil
        reactor.close(connection.fd, gracefully: gracefully)
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
