// An HTTP/1.1 client for a worker thread: one kept-alive connection to one server, one request at a time,
// each bounded by a deadline from connect to the last byte of the answer. Hand-written because what it needs
// is small (a request with a Content-Length, an answer framed by length, chunks or close) and the libraries
// that do it cost more than they give here: libcurl needs libcurl's -dev package, which a fresh machine lacks
// (`swift run` alone would not build), and AsyncHTTPClient brings SwiftNIO and async/await, which the design
// keeps out, and minutes of every clean build.

import Glibc

public final class HTTPClient {
    public struct Response {
        public var status: Int
        /// Lower-cased names, values as sent.
        public var headers: [(name: String, value: String)]
        public var body: [UInt8]

        public func header(_ name: String) -> String? { headers.first { $0.name == name }?.value }
        public var bodyText: String { String(decoding: body, as: UTF8.self) }
    }

    public enum Failure: Error, CustomStringConvertible {
        /// Not connected, or the connection failed or timed out before the whole answer came.
        case connection(SystemError)
        /// The server answered something that is not HTTP/1.x, or more than the bound.
        case malformed(String)
        /// https: the server's certificate was not trusted, or no TLS both sides accept.
        case tls(String)

        public var description: String {
            switch self {
            case .connection(let error): error.description
            case .malformed(let reason): "malformed answer: \(reason)"
            case .tls(let reason): reason
            }
        }

        /// A failed send or receive: a TLS alert from the server (one refusing our certificate, in TLS 1.3 only
        /// after the handshake) is a TLS failure, the rest the connection's.
        static func of(_ error: SystemError) -> Failure {
            error.errno.rawValue == EPROTO ? .tls(error.operation) : .connection(error)
        }

        public var timedOut: Bool {
            if case .connection(let error) = self { return error.errno == .timedOut }
            return false
        }
    }

    public let host: String
    public let port: UInt16
    public var timeoutMilliseconds: Int
    public let maxResponseBytes: Int
    /// https: what the server's certificate is checked against (nil: plain http).
    public let tls: TLSClientContext?
    private var connection: (any ClientStream)?
    private var idleSince: UInt64 = 0

    /// A kept-alive connection idle this long is not reused: servers close theirs after a few seconds
    /// (ClickHouse after 3), and a request sent into a closing connection is lost with it.
    static let maxIdleNanoseconds: UInt64 = 2_000_000_000
    static let maxHeadBytes = 64 * 1024

    public init(host: String, port: UInt16, timeoutMilliseconds: Int, maxResponseBytes: Int = 16 << 20, tls: TLSClientContext? = nil) {
        self.host = host
        self.port = port
        self.timeoutMilliseconds = timeoutMilliseconds
        self.maxResponseBytes = maxResponseBytes
        self.tls = tls
    }

    /// Sends one request and reads its answer whole. On a reused connection that turns out closed before any
    /// answer came, the request is sent once more on a new one.
    public func send(_ method: String, _ target: String, headers: [(String, String)] = [],
                     body: ArraySlice<UInt8> = []) throws(Failure) -> Response {
        let deadline = ClientConnection.Deadline(millisecondsFromNow: timeoutMilliseconds)
        var head = "\(method) \(target) HTTP/1.1\r\nHost: \(host):\(port)\r\nContent-Length: \(body.count)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        if let reused = takeIdleConnection() {
            do throws(Exchange) { return try exchange(head, body, on: reused, deadline) } catch {
                // Closed by the server before any answer came: the request goes again on a new connection.
                guard error.answered || error.failure.timedOut else { return try retried() }
                throw error.failure
            }
        }
        return try retried()
        func retried() throws(Failure) -> Response {
            do throws(Exchange) { return try exchange(head, body, on: connect(deadline), deadline) } catch { throw error.failure }
        }
    }

    /// Drops the kept-alive connection (after a failure that leaves it in an unknown state).
    public func disconnect() { connection = nil }

    private func takeIdleConnection() -> (any ClientStream)? {
        defer { connection = nil }
        guard let connection, Clock.monotonicNanoseconds - idleSince < Self.maxIdleNanoseconds, !connection.isClosedByPeer else { return nil }
        return connection
    }

    private func connect(_ deadline: ClientConnection.Deadline) throws(Exchange) -> any ClientStream {
        let socket: ClientConnection
        do { socket = try ClientConnection(host: host, port: port, deadline: deadline) } catch {
            throw Exchange(failure: .connection(error), answered: false)
        }
        guard let tls else { return socket }
        do { return try TLSClientConnection(over: socket, context: tls, serverName: host, by: deadline) } catch {
            switch error {
            case .connection(let error): throw Exchange(failure: .connection(error), answered: false)
            case .handshake(let reason): throw Exchange(failure: .tls(reason), answered: false)
            }
        }
    }

    private func exchange(_ head: String, _ body: ArraySlice<UInt8>, on connection: any ClientStream,
                          _ deadline: ClientConnection.Deadline) throws(Exchange) -> Response {
        do throws(SystemError) {
            try connection.send(ArraySlice(head.utf8), by: deadline)
            try connection.send(body, by: deadline)
        } catch {
            throw Exchange(failure: .of(error), answered: false)
        }
        var reader = ResponseReader(connection: connection, deadline: deadline, limit: maxResponseBytes)
        let (response, keepsAlive) = try reader.read()
        if keepsAlive {
            self.connection = connection
            idleSince = Clock.monotonicNanoseconds
        }
        return response
    }

    /// A failed exchange, and whether any of the answer had come.
    struct Exchange: Error {
        var failure: Failure
        var answered: Bool
    }
}

/// Reads one answer from a connection: the head, then the body as the head frames it.
private struct ResponseReader {
    let connection: any ClientStream
    let deadline: ClientConnection.Deadline
    let limit: Int
    var buffer: [UInt8] = []

    init(connection: any ClientStream, deadline: ClientConnection.Deadline, limit: Int) {
        (self.connection, self.deadline, self.limit) = (connection, deadline, limit)
    }

    mutating func read() throws(HTTPClient.Exchange) -> (HTTPClient.Response, keepsAlive: Bool) {
        while true {
            let parsed = buffer.withUnsafeBytes { HTTPResponseParser.parse($0, maxHeadBytes: HTTPClient.maxHeadBytes) }
            switch parsed {
            case .incomplete:
                guard try receive() else { throw closedEarly() }
            case .malformed(let reason):
                throw fail(.malformed(reason))
            case .complete(let head):
                buffer.removeFirst(head.length)
                // 100 Continue and other interim answers come before the real one.
                if head.status < 200 { continue }
                let body = try readBody(head.framing)
                return (HTTPClient.Response(status: head.status, headers: head.headers, body: body), head.keepsAlive && buffer.isEmpty)
            }
        }
    }

    private mutating func readBody(_ framing: HTTPBodyFraming) throws(HTTPClient.Exchange) -> [UInt8] {
        switch framing {
        case .length(let length):
            guard length <= limit else { throw fail(.malformed("answer of \(length) bytes is over the bound of \(limit)")) }
            while buffer.count < length {
                guard try receive() else { throw closedEarly() }
            }
            defer { buffer.removeFirst(length) }
            return Array(buffer[..<length])
        case .untilClose:
            while try receive() {
                guard buffer.count <= limit else { throw fail(.malformed("answer over the bound of \(limit) bytes")) }
            }
            defer { buffer.removeAll() }
            return buffer
        case .chunked:
            var decoder = ChunkedDecoder(maxBodyBytes: limit)
            var body: [UInt8] = []
            while true {
                let outcome = buffer.withUnsafeBytes { decoder.decode($0, into: &body) }
                switch outcome {
                case .done(let consumed):
                    buffer.removeFirst(consumed)
                    return body
                case .needMore(let consumed):
                    buffer.removeFirst(consumed)
                    guard try receive() else { throw closedEarly() }
                case .tooLarge:
                    throw fail(.malformed("answer over the bound of \(limit) bytes"))
                case .malformed(let reason):
                    throw fail(.malformed(reason))
                }
            }
        }
    }

    /// Bytes of the answer received so far.
    private var received = 0
    static let readSize = 64 * 1024

    /// Appends what has come; false at the end of the stream.
    private mutating func receive() throws(HTTPClient.Exchange) -> Bool {
        let before = buffer.count
        let more: Bool
        do throws(SystemError) { more = try connection.receive(appendingTo: &buffer, limit: Self.readSize, by: deadline) } catch {
            throw fail(.of(error))
        }
        received += buffer.count - before
        return more
    }

    private func fail(_ failure: HTTPClient.Failure) -> HTTPClient.Exchange {
        HTTPClient.Exchange(failure: failure, answered: received > 0)
    }

    private func closedEarly() -> HTTPClient.Exchange {
        fail(.connection(SystemError("receive (the server closed the connection before the answer was whole)", errno: .connectionReset)))
    }
}
