// One HTTP/1.1 connection: keep-alive, pipelined requests answered in order, bounded input and output. A
// request head must arrive whole within the header timeout (slowloris), or the connection is answered 408 and
// closed; a kept-alive connection that sends nothing for as long is closed.

final class HTTPConnection: ReactorHandler {
    let fd: FileDescriptor
    private unowned let server: HTTPServer
    private var input: [UInt8] = []
    private var output = OutboundQueue(limit: 8 * 1024 * 1024)
    /// Set once a response says `Connection: close`: nothing more is read, the socket closes after flushing.
    private var isClosingAfterFlush = false
    /// A search is running on the worker for this connection: later pipelined requests wait for its answer.
    private var isAwaitingAnswer = false
    private var isClosed = false
    /// Since when the connection has been waiting for the rest of a request head (the reactor's seconds).
    private var awaitingHeadSince: Int

    static let maxHeadBytes = 8 * 1024
    /// Pipelined requests are not parsed while this much output waits for a slow reader.
    static let outputPauseBytes = 1024 * 1024
    static let readChunkBytes = 16 * 1024

    init(fd: FileDescriptor, server: HTTPServer) {
        self.fd = fd
        self.server = server
        awaitingHeadSince = server.reactor.seconds
    }

    enum Expiry { case none, idle, slowHead }

    /// Timer: closes the connection if a request head has been awaited for `timeoutSeconds`: 408 when part of
    /// one arrived, quietly when nothing did (an idle keep-alive connection). Work in progress (a search, a
    /// response being written) does not count.
    func expire(now: Int, timeoutSeconds: Int) -> Expiry {
        guard !isClosed, !isClosingAfterFlush, !isAwaitingAnswer, output.isEmpty, now - awaitingHeadSince >= timeoutSeconds else {
            return .none
        }
        if input.isEmpty {
            close(gracefully: true)
            return .idle
        }
        send(.error(408, "the request head did not arrive within \(timeoutSeconds) s"), keepAlive: false)
        flush()
        return .slowHead
    }

    func readable() {
        guard !isClosingAfterFlush, !isClosed else { return }
        let buffer = UnsafeMutableRawBufferPointer(rebasing: server.reactor.readBuffer[..<Self.readChunkBytes])
        var reachedEnd = false
        while input.count <= Self.maxHeadBytes {
            let result: FileDescriptor.ReadResult
            do { result = try fd.read(into: buffer) } catch {
                close()
                return
            }
            guard case .bytes(let count) = result else {
                reachedEnd = result == .endOfFile
                break
            }
            input.append(contentsOf: buffer[..<count])
        }
        if processRequests() { return }
        if reachedEnd {
            // The peer has finished sending: answer what it asked, then close.
            isClosingAfterFlush = true
        }
        flush()
    }

    func writable() {
        flush()
        if !isClosingAfterFlush, !isClosed, output.pendingBytes < Self.outputPauseBytes, !input.isEmpty {
            if processRequests() { return }
            flush()
        }
    }

    /// Answers every complete request in the input. Returns true if the connection was handed to a WebSocket.
    private func processRequests() -> Bool {
        while !isClosingAfterFlush, !isAwaitingAnswer, output.pendingBytes < Self.outputPauseBytes {
            let parsed = input.withUnsafeBytes { HTTPRequestParser.parse($0, maxHeadBytes: Self.maxHeadBytes) }
            switch parsed {
            case .incomplete:
                return false
            case .malformed(let error):
                fail(error)
                return false
            case .complete(let head):
                let request: HTTPRequest
                do { request = try input.withUnsafeBytes { raw in Result { () throws(HTTPParseError) in try HTTPRequest(head: head, in: raw) } }.get() } catch {
                    fail(error)
                    return false
                }
                input.removeFirst(head.length)
                awaitingHeadSince = server.reactor.seconds  // the next request's head starts now
                if request.contentLength > 0 {
                    send(.error(413, "request bodies are not accepted"), keepAlive: false)
                } else if request.path == "/ws" {
                    if let refusal = server.refusal(forWebSocket: request) {
                        send(refusal, keepAlive: false)
                        continue
                    }
                    switch WebSocketHandshake.response(to: request) {
                    case .success(let handshake):
                        output.append(handshake)
                        server.upgrade(self, output: output, leftover: input)
                        return true
                    case .failure(let response):
                        send(response, keepAlive: false)
                    }
                } else {
                    let (keepAlive, includeBody) = (request.isKeepAlive, request.method != "HEAD")
                    switch server.api.answer(to: request) {
                    case .now(let response):
                        send(response, keepAlive: keepAlive, includeBody: includeBody)
                    case .later(let work):
                        isAwaitingAnswer = true
                        server.worker.submit(work) { [weak self] response in
                            self?.answered(response, keepAlive: keepAlive, includeBody: includeBody)
                        }
                        return false
                    }
                }
            }
        }
        return false
    }

    /// The worker's answer is back (reactor thread): send it, then go on with what was pipelined behind it.
    private func answered(_ response: HTTPResponse, keepAlive: Bool, includeBody: Bool) {
        guard !isClosed else { return }
        isAwaitingAnswer = false
        awaitingHeadSince = server.reactor.seconds
        send(response, keepAlive: keepAlive, includeBody: includeBody)
        if processRequests() { return }
        flush()
    }

    private func fail(_ error: HTTPParseError) {
        let message = switch error {
        case .badRequest(let reason): reason
        case .headTooLarge: "request head too large"
        case .uriTooLong: "request line too long"
        case .versionNotSupported: "HTTP version not supported"
        }
        send(.error(error.status, message), keepAlive: false)
    }

    private func send(_ response: HTTPResponse, keepAlive: Bool, includeBody: Bool = true) {
        output.append(response.serialized(keepAlive: keepAlive, includeBody: includeBody))
        if !keepAlive { isClosingAfterFlush = true }
    }

    private func close(gracefully: Bool = false) {
        guard !isClosed else { return }
        isClosed = true
        server.close(self, gracefully: gracefully)
    }

    private func flush() {
        guard !isClosed else { return }
        let isDone: Bool
        do { isDone = try output.flush(to: fd) } catch {
            close()
            return
        }
        if isDone && isClosingAfterFlush && !isAwaitingAnswer {
            close(gracefully: true)
            return
        }
        // Awaiting an answer: nothing to write and nothing to read until it is back (input is bounded
        // meanwhile). Not done: read nothing more until the peer has taken what it asked for.
        let interest: Interest = !isDone ? .writable : isAwaitingAnswer ? [] : .readable
        do { try server.reactor.setInterest(interest, for: fd) } catch { close() }
    }
}
