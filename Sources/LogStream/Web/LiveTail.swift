// Fans new records out to WebSocket sessions. Ingestion never waits for it: after each batch of events the
// reactor calls publish(), which encodes each new record at most once and offers it to the matching sessions;
// a timer sends the batches of the sessions that asked for them.

final class LiveTail {
    /// New records are read from here as they are published; histories are gathered from it.
    let source: any RecordSource
    let reactor: Reactor
    /// Where histories are gathered, off the reactor thread.
    let worker: WorkerThread
    private var sessions: [Int32: WebSocketSession] = [:]
    /// Records below this id have been offered to the sessions.
    private(set) var publishedUpTo: UInt64
    /// Live messages dropped for clients too far behind; sessions closed for unanswered pings or for staying
    /// behind.
    var droppedMessageCount = 0
    private(set) var unansweredCount = 0
    private(set) var behindClosedCount = 0
    /// WebSocket handshakes refused for coming from another site's page.
    private(set) var originRefusedCount = 0

    /// How often batching sessions get their batch: at most 20 messages a second, at most 50 ms late.
    static let batchIntervalMilliseconds = 50

    init(source: any RecordSource, reactor: Reactor, worker: WorkerThread) {
        self.source = source
        self.reactor = reactor
        self.worker = worker
        publishedUpTo = source.storedIDs.upperBound
    }

    var sessionCount: Int { sessions.count }

    func add(_ session: WebSocketSession) {
        sessions[session.fd.rawValue] = session
    }

    /// Closes at once (the peer is gone), or gracefully after our close frame (the peer may still be sending).
    func close(_ session: WebSocketSession, gracefully: Bool = false) {
        sessions[session.fd.rawValue] = nil
        session.transport.close(on: reactor, gracefully: gracefully)
    }

    func publish() {
        let next = source.storedIDs.upperBound
        defer { publishedUpTo = next }
        guard !sessions.isEmpty, publishedUpTo < next else { return }
        let targets = Array(sessions.values)
        for id in publishedUpTo..<next {
            source.read(id) { record in
                // Encoded at most once, and only if some session has room for it (clients that fall behind
                // must not cost an encoding per record).
                var entry: [UInt8]?
                var frame: [UInt8]?
                func encoded() -> [UInt8] {
                    if entry == nil { entry = Self.entry(record) }
                    return entry!
                }
                let estimate = record.line.count + 256
                for session in targets where session.filter.matches(record) {
                    if session.isBatching {
                        session.offerToBatch(estimatedBytes: estimate, encoded)
                    } else {
                        session.offer(estimatedBytes: estimate) {
                            if frame == nil { frame = Self.newLogFrame(encoded()) }
                            return frame!
                        }
                    }
                }
            }
        }
        for session in targets where sessions[session.fd.rawValue] === session { session.flush() }
    }

    /// Timer: pings quiet clients, closes the ones that do not answer or stay behind.
    func checkSessions(intervalSeconds: Int) {
        for session in sessions.values {
            switch session.checkHealth(intervalSeconds: intervalSeconds) {
            case .fine: break
            case .unanswered: unansweredCount += 1
            case .behind: behindClosedCount += 1
            }
        }
    }

    /// Timer: each batching session gets what was gathered for it.
    func sendBatches() {
        for session in sessions.values where session.isBatching { session.sendBatch() }
    }

    /// Sends a close frame to every session (server shutting down).
    func closeAll() {
        for session in sessions.values { session.goAway() }
    }

    private static func entry(_ record: LogRecord) -> [UInt8] {
        var json = JSONWriter(capacity: record.line.count + 256)
        LogEntryJSON.append(record, to: &json)
        return json.bytes
    }

    private static func newLogFrame(_ entry: [UInt8]) -> [UInt8] {
        var json = JSONWriter(capacity: entry.count + 32)
        json.raw("{\"type\":\"new_log\",\"data\":")
        json.bytes.append(contentsOf: entry)
        json.raw("}")
        return WebSocketFrameCodec.textFrame(json.bytes)
    }
}

extension LiveTail {
    /// `/ws`, the live tail's WebSocket. Any method reaches the route, so that the handshake's own checks
    /// answer; a refused handshake closes the connection.
    func register(into router: Router, access: AccessPolicy) {
        router.add(nil, "/ws") { [unowned self] request, _ in
            var refusal: HTTPResponse
            if !access.allowsOrigin(of: request) {
                originRefusedCount += 1
                refusal = .error(403, "WebSocket connections from this origin are not allowed (--allowed-origins)")
            } else {
                switch WebSocketHandshake.response(to: request) {
                case .success(let handshake): return .upgrade(response: handshake) { [unowned self] in start($0) }
                case .failure(let response): refusal = response
                }
            }
            refusal.closesConnection = true
            return .now(refusal)
        }
    }

    /// The upgraded connection becomes a session.
    private func start(_ connection: UpgradedConnection) {
        let session = WebSocketSession(transport: connection.transport, liveTail: self, output: connection.output)
        reactor.replaceHandler(of: connection.transport.fd, with: session)
        add(session)
        session.receive(connection.leftover)
    }
}
