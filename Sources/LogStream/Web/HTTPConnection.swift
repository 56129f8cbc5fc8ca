// One HTTP/1.1 connection: keep-alive, pipelined requests answered in order, bounded input and output.

final class HTTPConnection: ReactorHandler {
    let fd: FileDescriptor
    private unowned let server: HTTPServer
    private var input: [UInt8] = []
    private var output = OutboundQueue(limit: 8 * 1024 * 1024)
    /// Set once a response says `Connection: close`: nothing more is read, the socket closes after flushing.
    private var isClosingAfterFlush = false
    private var isClosed = false

    static let maxHeadBytes = 8 * 1024
    /// Pipelined requests are not parsed while this much output waits for a slow reader.
    static let outputPauseBytes = 1024 * 1024
    static let readChunkBytes = 16 * 1024

    init(fd: FileDescriptor, server: HTTPServer) {
        self.fd = fd
        self.server = server
    }

    func readable() {
        guard !isClosingAfterFlush, !isClosed else { return }
        var chunk = [UInt8](repeating: 0, count: Self.readChunkBytes)
        var reachedEnd = false
        while input.count <= Self.maxHeadBytes {
            let result: FileDescriptor.ReadResult
            do { result = try chunk.withUnsafeMutableBytes { raw in Result { () throws(SystemError) in try fd.read(into: raw) } }.get() } catch {
                close()
                return
            }
            guard case .bytes(let count) = result else {
                reachedEnd = result == .endOfFile
                break
            }
            input.append(contentsOf: chunk[..<count])
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
        while !isClosingAfterFlush, output.pendingBytes < Self.outputPauseBytes {
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
                if request.contentLength > 0 {
                    send(.error(413, "request bodies are not accepted"), keepAlive: false)
                } else if request.path == "/ws" {
                    switch WebSocketHandshake.response(to: request) {
                    case .success(let handshake):
                        output.append(handshake)
                        server.upgrade(self, output: output, leftover: input)
                        return true
                    case .failure(let response):
                        send(response, keepAlive: false)
                    }
                } else {
                    send(server.api.respond(to: request), keepAlive: request.isKeepAlive, includeBody: request.method != "HEAD")
                }
            }
        }
        return false
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
        if isDone && isClosingAfterFlush {
            close(gracefully: true)
        } else if isDone {
            server.reactor.setInterest(.readable, for: fd)
        } else {
            // Read nothing more until the peer has taken what it asked for.
            server.reactor.setInterest(.writable, for: fd)
        }
    }
}
