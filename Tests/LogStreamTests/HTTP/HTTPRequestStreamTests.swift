import Testing
@testable import LogStream

/// Drives an HTTPRequestStream as HTTPConnection does, without a socket: feed bytes, take events, answer.
struct StreamDriver {
    var stream = HTTPRequestStream(maxHeadBytes: 8192)
    var bodyLimit: (HTTPRequest) -> Int = { _ in 0 }
    /// What would have been written to the socket, in order.
    var sent = ""
    /// Requests handed out, as "METHOD path body".
    var served: [String] = []

    /// Feeds `text`; answers each request with `answer` (nil: leave it awaiting, as a search on the worker).
    mutating func feed(_ text: String, answer: ((HTTPRequest) -> HTTPResponse)? = { _ in .json(Array("{}".utf8)) }) {
        withBytes(text) { stream.receive($0) }
        drain(answer: answer)
    }

    mutating func drain(answer: ((HTTPRequest) -> HTTPResponse)? = { _ in .json(Array("{}".utf8)) }) {
        while let event = stream.next(bodyLimit: bodyLimit) {
            switch event {
            case .interim(let bytes), .reject(let bytes):
                sent += String(decoding: bytes, as: UTF8.self)
            case .request(let request, let body):
                served.append("\(request.method) \(request.path) \(String(decoding: body, as: UTF8.self))")
                guard let answer else { return }
                sent += String(decoding: stream.respond(answer(request)), as: UTF8.self)
            }
        }
    }

    var statuses: [String] {
        sent.components(separatedBy: "HTTP/1.1 ").dropFirst().map { String($0.prefix(3)) }
    }
}

@Suite("HTTP connection state machine (no sockets)")
struct HTTPRequestStreamTests {
    @Test("pipelined requests are answered in order, and one being computed holds back those behind it")
    func pipelining() {
        var driver = StreamDriver()
        driver.feed("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nGET /c HTTP/1.1\r\nHost: x\r\n\r\n", answer: nil)
        #expect(driver.served == ["GET /a "])  // /a is on the worker
        #expect(driver.stream.isAnswering && driver.stream.next(bodyLimit: { _ in 0 }) == nil)
        driver.sent += String(decoding: driver.stream.respond(.error(404, "late")), as: UTF8.self)
        driver.drain()
        #expect(driver.served == ["GET /a ", "GET /b ", "GET /c "])
        #expect(driver.statuses == ["404", "200", "200"])
        #expect(!driver.stream.isClosing && driver.stream.isIdle)
    }

    @Test("a request head split across many reads is served once whole")
    func splitHead() {
        var driver = StreamDriver()
        for character in "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n" { driver.feed(String(character)) }
        #expect(driver.served == ["GET /slow "])
    }

    @Test("Connection: close, and HTTP/1.0 without keep-alive, end the connection after the answer; HEAD has no body")
    func closing() {
        var driver = StreamDriver()
        driver.feed("HEAD /h HTTP/1.1\r\nHost: x\r\n\r\nGET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /never HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(driver.served == ["HEAD /h ", "GET /last "])
        #expect(driver.stream.isClosing)
        // HEAD: the head says the body's length, and the next answer follows it at once.
        #expect(driver.sent.contains("Content-Length: 2\r\n") && driver.sent.contains("Connection: keep-alive\r\n\r\nHTTP/1.1 200"))
        #expect(driver.sent.hasSuffix("Connection: close\r\n\r\n{}"))
        var old = StreamDriver()
        old.feed("GET / HTTP/1.0\r\n\r\n")
        #expect(old.stream.isClosing && old.sent.contains("Connection: close"))
    }

    @Test("a body is read by Content-Length, or chunked, up to its route's bound, and what follows is the next request")
    func bodies() {
        var driver = StreamDriver()
        driver.bodyLimit = { $0.path == "/ingest" ? 16 : 0 }
        driver.feed("POST /ingest HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello")
        #expect(driver.served.isEmpty && driver.stream.isReadingBody)
        driver.feed(" world")
        driver.feed("POST /ingest HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n")
        driver.feed("2\r\nde\r\n0\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(driver.served == ["POST /ingest hello world", "POST /ingest abcde", "GET /after "])
        #expect(driver.statuses == ["200", "200", "200"])
    }

    @Test("a body over the bound, or any body for a route that takes none, is answered 413 and not read")
    func tooLarge() {
        for request in ["POST /api/logs HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
                        "POST /ingest HTTP/1.1\r\nHost: x\r\nContent-Length: 17\r\n\r\n",
                        "POST /ingest HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n11\r\n"] {
            var driver = StreamDriver()
            driver.bodyLimit = { $0.path == "/ingest" ? 16 : 0 }
            driver.feed(request)
            #expect(driver.statuses == ["413"] && driver.served.isEmpty && driver.stream.isClosing, "\(request)")
            #expect(driver.sent.contains("Connection: close"))
        }
    }

    @Test("Expect: 100-continue gets 100 Continue before the body is sent, and never for a refused body")
    func expectContinue() {
        var driver = StreamDriver()
        driver.bodyLimit = { _ in 100 }
        driver.feed("POST /ingest HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        #expect(driver.sent == "HTTP/1.1 100 Continue\r\n\r\n" && driver.served.isEmpty)
        driver.feed("data")
        #expect(driver.served == ["POST /ingest data"] && driver.statuses == ["100", "200"])
        var refused = StreamDriver()
        refused.feed("POST /api/logs HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        #expect(refused.statuses == ["413"])
        var odd = StreamDriver()
        odd.feed("GET / HTTP/1.1\r\nHost: x\r\nExpect: tea\r\n\r\n")
        #expect(odd.statuses == ["417"])
    }

    @Test("malformed heads and bodies get their status and end the connection; nothing after them is parsed")
    func malformed() {
        let cases = [
            ("GARBAGE\r\n\r\n", "400"), ("GET / HTTP/3.0\r\n\r\n", "505"),
            ("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", "400"),
            ("POST /ingest HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", "400"),
            ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "400"),
            ("GET / HTTP/1.1\r\n" + "X-Pad: " + String(repeating: "a", count: 9000) + "\r\n\r\n", "431"),
        ]
        for (request, status) in cases {
            var driver = StreamDriver()
            driver.bodyLimit = { _ in 100 }
            driver.feed(request + "GET /after HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(driver.statuses == [status], "\(request.prefix(40))")
            #expect(driver.served.isEmpty && driver.stream.isClosing && !driver.stream.wantsInput)
        }
    }

    @Test("a peer that stops sending still gets the answer it waits for; the connection then closes")
    func peerFinished() {
        var driver = StreamDriver()
        driver.feed("GET /search HTTP/1.1\r\nHost: x\r\n\r\n", answer: nil)
        driver.stream.closeAfterAnswer()
        #expect(driver.stream.isAnswering)
        driver.sent += String(decoding: driver.stream.respond(.json(Array("[]".utf8))), as: UTF8.self)
        #expect(driver.stream.isClosing && driver.sent.contains("Connection: close"))
    }

    @Test("a protocol switch takes the bytes received past its request")
    func leftover() {
        var driver = StreamDriver()
        driver.feed("GET /ws HTTP/1.1\r\nHost: x\r\n\r\nframe bytes", answer: nil)
        #expect(driver.served == ["GET /ws "])
        #expect(driver.stream.takeLeftover() == Array("frame bytes".utf8))
        #expect(driver.stream.isClosing && driver.stream.input.isEmpty)
    }
}

@Suite("HTTP router")
struct RouterTests {
    func request(_ method: String, _ path: String, body: String? = nil) throws -> HTTPRequest {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: x\r\n"
        if let body { text += "Content-Length: \(body.utf8.count)\r\n" }
        let bytes = Array((text + "\r\n").utf8)
        return try bytes.withUnsafeBytes { raw in
            guard case .complete(let head) = HTTPRequestParser.parse(raw, maxHeadBytes: 8192) else { throw HTTPParseError.badRequest("test") }
            return try HTTPRequest(head: head, in: raw)
        }
    }

    func status(_ answer: HTTPAnswer) -> Int? {
        if case .now(let response) = answer { return response.status }
        return nil
    }

    func makeRouter() -> Router {
        let router = Router()
        router.add(["GET"], "/api/logs") { _, _ in .now(.json(Array("[]".utf8))) }
        router.add(["GET", "DELETE"], "/api/session") { _, _ in .now(HTTPResponse(status: 204, contentType: "text/plain", body: [])) }
        router.add(["POST"], "/api/ingest", maxBodyBytes: 1 << 20) { _, body in .now(.json(Array("{\"bytes\":\(body.count)}".utf8))) }
        router.add(["GET"], "/static/*") { request, _ in .now(.error(404, request.path)) }
        return router
    }

    @Test("routes by method and path; GET brings HEAD; a prefix route takes every path under it")
    func routes() throws {
        let router = makeRouter()
        #expect(status(router.answer(try request("GET", "/api/logs"), body: [])) == 200)
        #expect(status(router.answer(try request("HEAD", "/api/logs"), body: [])) == 200)
        #expect(status(router.answer(try request("DELETE", "/api/session"), body: [])) == 204)
        #expect(status(router.answer(try request("GET", "/static/app.js"), body: [])) == 404)
        guard case .now(let ingest) = router.answer(try request("POST", "/api/ingest", body: "abc"), body: Array("abc".utf8)) else {
            Issue.record("not answered now")
            return
        }
        #expect(String(decoding: ingest.body, as: UTF8.self) == "{\"bytes\":3}")
    }

    @Test("an unknown path is 404; a known path's other methods are 405 with the methods it allows")
    func refusals() throws {
        let router = makeRouter()
        guard case .now(let missing) = router.answer(try request("GET", "/nope"), body: []),
              case .now(let wrong) = router.answer(try request("PUT", "/api/session"), body: []) else {
            Issue.record("not answered now")
            return
        }
        #expect(missing.status == 404 && String(decoding: missing.body, as: UTF8.self) == "{\"error\":\"no such path: /nope\"}")
        #expect(wrong.status == 405 && wrong.extraHeaders.contains { $0 == ("Allow", "GET, HEAD, DELETE") })
    }

    @Test("only a route that takes bodies gets a body bound; the admission check answers before any route")
    func bodiesAndAdmission() throws {
        let router = makeRouter()
        #expect(router.bodyLimit(for: try request("POST", "/api/ingest", body: "x")) == 1 << 20)
        #expect(router.bodyLimit(for: try request("GET", "/api/logs", body: "x")) == 0)
        #expect(router.bodyLimit(for: try request("POST", "/nope", body: "x")) == 0)
        router.admission = { $0.path == "/api/logs" ? .error(401, "no") : nil }
        #expect(status(router.answer(try request("GET", "/api/logs"), body: [])) == 401)
        #expect(status(router.answer(try request("GET", "/nope"), body: [])) == 404)
    }
}
