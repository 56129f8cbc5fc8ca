// One connection's requests as a state machine over the bytes it receives, with no socket in sight (NIO's
// typed state machines): heads, bodies delimited by Content-Length or chunked under the bound the route sets,
// `Expect: 100-continue`, pipelined requests answered strictly in order, keep-alive and close. HTTPConnection
// feeds it bytes and carries out what it says; unit tests drive it the same way.

struct HTTPRequestStream {
    /// What the connection does next.
    enum Event {
        /// A whole request: route it, then hand its answer to `respond`.
        case request(HTTPRequest, body: [UInt8])
        /// Bytes to send while the request goes on (`100 Continue`).
        case interim([UInt8])
        /// The request cannot be served: send this answer, then close (nothing more is read).
        case reject([UInt8])
    }

    private enum State {
        /// Waiting for (the rest of) a request head.
        case head
        case body(HTTPRequest, BodyReader)
        /// A request was handed out; later ones wait until its answer is given.
        case answering(HTTPRequest)
        /// An answer said `Connection: close`, or the input was malformed: nothing more is parsed.
        case closing
    }

    private enum BodyReader {
        case length(Int)
        case chunked(ChunkedDecoder)
    }

    private var state = State.head
    /// Bytes received and not yet parsed.
    private(set) var input: [UInt8] = []
    /// The body of the request being read.
    private var body: [UInt8] = []
    let maxHeadBytes: Int


    init(maxHeadBytes: Int) {
        self.maxHeadBytes = maxHeadBytes
    }

    mutating func receive(_ bytes: UnsafeRawBufferPointer) {
        input.append(contentsOf: bytes)
    }

    /// Whether reading more input now could make progress: a head or a body is incomplete. (A pipelined request
    /// behind one being answered is not read beyond the head bound.)
    var wantsInput: Bool {
        switch state {
        case .head, .answering: input.count <= maxHeadBytes
        case .body(_, .length(let remaining)): input.count < remaining
        case .body(_, .chunked(let decoder)): input.count <= decoder.maxBodyBytes + maxHeadBytes
        case .closing: false
        }
    }

    var isClosing: Bool { if case .closing = state { true } else { false } }
    var isAnswering: Bool { if case .answering = state { true } else { false } }
    /// Nothing of a next request has arrived (an idle kept-alive connection).
    var isIdle: Bool { if case .head = state { input.isEmpty } else { false } }
    var isReadingBody: Bool { if case .body = state { true } else { false } }

    /// The next event the bytes received so far make, or nil when more bytes (or an answer) are needed.
    /// `bodyLimit` says how large a body the request's route accepts (0: none).
    mutating func next(bodyLimit: (HTTPRequest) -> Int) -> Event? {
        switch state {
        case .answering, .closing:
            return nil
        case .body(let request, let reader):
            return readBody(of: request, reader)
        case .head:
            let parsed = input.withUnsafeBytes { HTTPRequestParser.parse($0, maxHeadBytes: maxHeadBytes) }
            let head: HTTPRequestHead
            switch parsed {
            case .incomplete: return nil
            case .malformed(let error): return reject(error.status, error.message)
            case .complete(let complete): head = complete
            }
            let request: HTTPRequest
            do { request = try input.withUnsafeBytes { raw in Result { () throws(HTTPParseError) in try HTTPRequest(head: head, in: raw) } }.get() } catch {
                return reject(error.status, error.message)
            }
            input.removeFirst(head.length)
            guard request.body.isPresent else { return handOut(request) }
            let limit = bodyLimit(request)
            let reader: BodyReader
            switch request.body {
            case .length(let length):
                guard length <= limit else { return rejectBody(over: limit) }
                reader = .length(length)
            case .chunked:
                reader = .chunked(ChunkedDecoder(maxBodyBytes: limit))
            case .none:
                preconditionFailure("a body is present")
            }
            state = .body(request, reader)
            if request.expectsContinue && input.isEmpty {
                return .interim(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
            }
            return readBody(of: request, reader)
        }
    }

    /// The answer to the request handed out last: its bytes to send. Pipelined requests may follow, unless it
    /// closes the connection.
    mutating func respond(_ response: HTTPResponse) -> [UInt8] {
        guard case .answering(let request) = state else { preconditionFailure("no request awaits an answer") }
        let keepAlive = request.isKeepAlive && !response.closesConnection
        state = keepAlive ? .head : .closing
        return response.serialized(keepAlive: keepAlive, includeBody: request.method != "HEAD")
    }

    /// The peer has finished sending: what it asked is answered (an answer being awaited included), then the
    /// connection closes.
    mutating func closeAfterAnswer() {
        if case .answering(var request) = state {
            request.isKeepAlive = false
            state = .answering(request)
        } else {
            state = .closing
        }
    }

    /// Bytes received past the request just handed out: a protocol switch (WebSocket) takes them over.
    mutating func takeLeftover() -> [UInt8] {
        defer { input.removeAll() }
        state = .closing
        return input
    }

    private mutating func readBody(of request: HTTPRequest, _ reader: BodyReader) -> Event? {
        switch reader {
        case .length(let remaining):
            guard input.count >= remaining else { return nil }
            body = Array(input[..<remaining])
            input.removeFirst(remaining)
        case .chunked(var decoder):
            let outcome = input.withUnsafeBytes { decoder.decode($0, into: &body) }
            switch outcome {
            case .needMore(let consumed):
                input.removeFirst(consumed)
                state = .body(request, .chunked(decoder))
                return nil
            case .done(let consumed):
                input.removeFirst(consumed)
            case .tooLarge:
                return rejectBody(over: decoder.maxBodyBytes)
            case .malformed(let reason):
                return reject(400, reason)
            }
        }
        return handOut(request)
    }

    private mutating func handOut(_ request: HTTPRequest) -> Event {
        state = .answering(request)
        defer { body = [] }
        return .request(request, body: body)
    }

    /// 413, as soon as a body is known to exceed its route's bound: unread.
    private mutating func rejectBody(over limit: Int) -> Event {
        reject(413, limit == 0 ? "request bodies are not accepted" : "request body over \(limit) bytes")
    }

    private mutating func reject(_ status: Int, _ message: String) -> Event {
        state = .closing
        body = []
        return .reject(HTTPResponse.error(status, message).serialized(keepAlive: false))
    }
}
