// One HTTP/1.1 connection on the reactor: it reads into the reactor's buffer, feeds an HTTPRequestStream,
// routes each whole request and writes the answers in order through a bounded queue. A request must start
// arriving whole within the header timeout (slowloris), or the connection is answered 408 and closed; a
// kept-alive connection that sends nothing for as long is closed; a body that stops arriving for as long is
// cut off the same way.

final class HTTPConnection: ReactorHandler {
    let transport: Transport
    var fd: FileDescriptor { transport.fd }
    private unowned let server: HTTPServer
    private var stream = HTTPRequestStream(maxHeadBytes: HTTPConnection.maxHeadBytes)
    private var output = OutboundQueue(limit: 8 * 1024 * 1024)
    private var isClosed = false
    /// Since when the connection has been waiting for a request, or the rest of one (the reactor's seconds).
    private var waitingSince: Int

    static let maxHeadBytes = 8 * 1024
    /// Pipelined requests are not parsed while this much output waits for a slow reader.
    static let outputPauseBytes = 1024 * 1024

    /// The client's address, which requests carry (ingested records without a host of their own take it), or
    /// the name its certificate proved (which every ingested record takes).
    private let peer: String
    private let peerIsVerified: Bool

    init(transport: Transport, server: HTTPServer, peer: String, peerIsVerified: Bool = false) {
        self.transport = transport
        self.server = server
        self.peer = peer
        self.peerIsVerified = peerIsVerified
        waitingSince = server.reactor.seconds
    }

    enum Expiry { case none, idle, slow }

    /// Timer: closes the connection if a request (or the rest of one) has been awaited for `timeoutSeconds`:
    /// 408 when part of one arrived, quietly when nothing did (an idle keep-alive connection). Work in
    /// progress (an answer being computed or written) does not count.
    func expire(now: Int, timeoutSeconds: Int) -> Expiry {
        guard !isClosed, !stream.isClosing, !stream.isAnswering, output.isEmpty, now - waitingSince >= timeoutSeconds else {
            return .none
        }
        if stream.isIdle {
            close(gracefully: true)
            return .idle
        }
        let what = stream.isReadingBody ? "the request body stopped arriving for" : "the request head did not arrive within"
        send(HTTPResponse.error(408, "\(what) \(timeoutSeconds) s").serialized(keepAlive: false))
        stream.closeAfterAnswer()
        flush()
        return .slow
    }

    func readable() {
        guard !isClosed, !stream.isClosing else { return }
        let buffer = server.reactor.readBuffer
        var reachedEnd = false
        while stream.wantsInput {
            let result: FileDescriptor.ReadResult
            do { result = try transport.read(into: buffer) } catch {
                close()
                return
            }
            guard case .bytes(let count) = result else {
                reachedEnd = result == .endOfFile
                break
            }
            if stream.isReadingBody { waitingSince = server.reactor.seconds }  // a body still coming is not slow
            stream.receive(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
        }
        if processRequests() { return }
        if reachedEnd { stream.closeAfterAnswer() }  // the peer has finished sending: answer what it asked, then close
        flush()
    }

    func writable() {
        flush()
        if !isClosed, !stream.isClosing, output.pendingBytes < Self.outputPauseBytes, !stream.input.isEmpty {
            if processRequests() { return }
            flush()
        }
    }

    /// Serves every whole request received, in order. Returns true if the connection was handed over to
    /// another protocol.
    private func processRequests() -> Bool {
        while !isClosed, output.pendingBytes < Self.outputPauseBytes,
              let event = stream.next(bodyLimit: server.router.bodyLimit(for:)) {
            switch event {
            case .interim(let bytes):
                send(bytes)
            case .reject(let bytes):
                send(bytes)
            case .request(var request, let body):
                request.peerAddress = peer
                request.peerIsVerified = peerIsVerified
                waitingSince = server.reactor.seconds  // the next request's wait starts now
                switch server.router.answer(request, body: body) {
                case .now(let response):
                    send(stream.respond(response))
                case .later(let worker, let work):
                    worker.submit(work) { [weak self] response in self?.answered(response) }
                    return false
                case .deferred(let start):
                    start { [weak self] response in self?.answered(response) }
                    return false
                case .upgrade(let response, let takeOver):
                    output.append(response)
                    server.upgrade(self, to: UpgradedConnection(transport: transport, output: output, leftover: stream.takeLeftover()), takeOver)
                    return true
                }
            }
        }
        return false
    }

    /// A worker's answer is back (reactor thread): send it, then go on with what was pipelined behind it.
    private func answered(_ response: HTTPResponse) {
        guard !isClosed else { return }
        waitingSince = server.reactor.seconds
        send(stream.respond(response))
        if processRequests() { return }
        flush()
    }

    private func send(_ bytes: [UInt8]) {
        output.append(bytes)
    }

    private func close(gracefully: Bool = false) {
        guard !isClosed else { return }
        isClosed = true
        server.close(self, gracefully: gracefully)
    }

    private func flush() {
        guard !isClosed else { return }
        let isDone: Bool
        do { isDone = try output.flush(to: transport) } catch {
            close()
            return
        }
        if isDone && stream.isClosing {
            close(gracefully: true)
            return
        }
        // Awaiting an answer: nothing to write and nothing to read until it is back (input is bounded
        // meanwhile). Not done: read nothing more until the peer has taken what it asked for.
        let interest: Interest = !isDone ? .writable : stream.isAnswering ? [] : .readable
        do { try server.reactor.setInterest(interest, for: fd) } catch { close() }
    }
}
