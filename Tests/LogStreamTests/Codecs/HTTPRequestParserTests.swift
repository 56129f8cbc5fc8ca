import Testing
@testable import LogStream

@Suite("HTTP request parser")
struct HTTPRequestParserTests {
    func parse(_ text: String, max: Int = 8192) -> HTTPParseResult {
        withBytes(text) { HTTPRequestParser.parse($0, maxHeadBytes: max) }
    }

    func request(_ text: String) throws -> HTTPRequest {
        try withBytes(text) { bytes in
            guard case .complete(let head) = HTTPRequestParser.parse(bytes, maxHeadBytes: 8192) else {
                throw HTTPParseError.badRequest("not complete")
            }
            return try HTTPRequest(head: head, in: bytes)
        }
    }

    @Test("a simple GET parses into method, path, query and headers")
    func simpleGet() throws {
        let text = "GET /api/logs?query=disk%20full&level=error&limit=5 HTTP/1.1\r\nHost: x\r\nUser-Agent: t\r\n\r\n"
        guard case .complete(let head) = parse(text) else { Issue.record("not complete"); return }
        #expect(head.length == text.utf8.count)
        let request = try request(text)
        #expect(request.method == "GET")
        #expect(request.path == "/api/logs")
        #expect(request.query == ["query": "disk full", "level": "error", "limit": "5"])
        #expect(request.header("user-agent") == "t")
        #expect(request.isKeepAlive)
    }

    @Test("a head arriving in pieces is incomplete until its blank line", arguments: [
        "G", "GET / HTTP/1.1", "GET / HTTP/1.1\r\n", "GET / HTTP/1.1\r\nHost: x\r\n", "GET / HTTP/1.1\r\nHost: x\r\n\r",
    ])
    func incomplete(text: String) {
        #expect(parse(text) == .incomplete)
    }

    @Test("bare LF line endings are accepted")
    func bareLF() {
        guard case .complete = parse("GET / HTTP/1.1\nHost: x\n\n") else { Issue.record("not complete"); return }
    }

    @Test("pipelined requests parse one at a time")
    func pipelined() {
        let first = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
        guard case .complete(let head) = parse(first + "GET /b HTTP/1.1\r\nHost: x\r\n\r\n") else { Issue.record("no"); return }
        #expect(head.length == first.utf8.count)
    }

    @Test("malformed heads are rejected with 400", arguments: [
        "GET\r\n\r\n",
        "GET /\r\n\r\n",
        "G(T / HTTP/1.1\r\n\r\n",
        "GET / HTTX/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nBad Header: x\r\n\r\n",
        "GET / HTTP/1.1\r\nName : x\r\n\r\n",
        "GET / HTTP/1.1\r\nNoColon\r\n\r\n",
        "GET / HTTP/1.1\r\n folded: x\r\n\r\n",
        "GET / HTTP/1.1\r\nX: a\u{01}b\r\n\r\n",
        "GET  / HTTP/1.1\r\n\r\n",
    ])
    func malformed(text: String) {
        guard case .malformed(let error) = parse(text) else { Issue.record("accepted \(text.debugDescription)"); return }
        #expect(error.status == 400)
    }

    @Test("an unsupported version is 505")
    func version() {
        #expect(parse("GET / HTTP/2.0\r\n\r\n") == .malformed(.versionNotSupported))
    }

    @Test("a head over the limit is 431; a request line over it is 414")
    func limits() {
        let headers = String(repeating: "X-Pad: aaaaaaaaaa\r\n", count: 100)
        #expect(parse("GET / HTTP/1.1\r\n" + headers, max: 512) == .malformed(.headTooLarge))
        #expect(parse("GET /" + String(repeating: "a", count: 600), max: 512) == .malformed(.uriTooLong))
    }

    @Test("request-smuggling shapes and bad lengths are refused", arguments: [
        "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
        "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1e3\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "GET / HTTP/1.1\r\n\r\n",
        "GET http://x/ HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n",
    ])
    func refused(text: String) {
        #expect(throws: HTTPParseError.self) { try request(text) }
    }

    @Test("a body is framed by Content-Length or by chunked alone; Expect: 100-continue is noted, other expectations refused")
    func bodyFraming() throws {
        #expect(try request("GET / HTTP/1.1\r\nHost: x\r\n\r\n").body == .none)
        #expect(try request("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\n").body == .length(12))
        #expect(try request("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").body.isPresent == false)
        #expect(try request("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n").body == .chunked)
        #expect(try request("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nExpect: 100-Continue\r\n\r\n").expectsContinue)
        #expect(throws: HTTPParseError.expectationFailed) { try request("POST / HTTP/1.1\r\nHost: x\r\nExpect: coffee\r\n\r\n") }
    }

    @Test("keep-alive follows the version and the Connection header")
    func keepAlive() throws {
        #expect(try !request("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").isKeepAlive)
        #expect(try !request("GET / HTTP/1.0\r\n\r\n").isKeepAlive)
        #expect(try request("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").isKeepAlive)
    }

    @Test("query strings decode plus signs and percent escapes")
    func queryDecoding() {
        #expect(QueryString.parse("a=b+c&d=%41%42&e&f=") == ["a": "b c", "d": "AB", "e": "", "f": ""])
        #expect(QueryString.parse("bad=%4") == [:])
    }
}
