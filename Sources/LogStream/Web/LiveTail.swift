// Fans new records out to WebSocket sessions. Ingestion never waits for it: after each batch of events the
// reactor calls publish(), which encodes each new record at most once and offers it to the matching sessions.

final class LiveTail {
    let ring: LogRing
    let reactor: Reactor
    private var sessions: [Int32: WebSocketSession] = [:]
    /// Records below this id have been offered to the sessions.
    private(set) var publishedUpTo: UInt64

    init(ring: LogRing, reactor: Reactor) {
        self.ring = ring
        self.reactor = reactor
        publishedUpTo = ring.storedIDs.upperBound
    }

    var sessionCount: Int { sessions.count }

    func add(_ session: WebSocketSession) {
        sessions[session.fd.rawValue] = session
    }

    /// Closes at once (the peer is gone), or gracefully after our close frame (the peer may still be sending).
    func close(_ session: WebSocketSession, gracefully: Bool = false) {
        sessions[session.fd.rawValue] = nil
        reactor.close(session.fd, gracefully: gracefully)
    }

    func publish() {
        let next = ring.storedIDs.upperBound
        defer { publishedUpTo = next }
        guard !sessions.isEmpty, publishedUpTo < next else { return }
        let targets = Array(sessions.values)
        for id in publishedUpTo..<next {
            ring.read(id) { record in
                var frame: [UInt8]?
                for session in targets where session.filter.matches(record) {
                    session.offer(estimatedBytes: record.line.count + 256) {
                        if frame == nil { frame = Self.newLogFrame(record) }
                        return frame!
                    }
                }
            }
        }
        for session in targets where sessions[session.fd.rawValue] === session { session.flush() }
    }

    /// Sends a close frame to every session (server shutting down).
    func closeAll() {
        for session in sessions.values { session.goAway() }
    }

    private static func newLogFrame(_ record: LogRecord) -> [UInt8] {
        var json = JSONWriter(capacity: record.line.count + 256)
        json.raw("{\"type\":\"new_log\",\"data\":")
        LogEntryJSON.append(record, to: &json)
        json.raw("}")
        return WebSocketFrameCodec.textFrame(json.bytes)
    }
}
