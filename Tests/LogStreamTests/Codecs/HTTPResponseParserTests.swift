import Testing
@testable import LogStream

@Suite("HTTP response heads")
struct HTTPResponseParserTests {
    func parse(_ text: String) -> HTTPResponseParseResult {
        withBytes(text) { HTTPResponseParser.parse($0, maxHeadBytes: 4096) }
    }

    func complete(_ text: String) -> HTTPResponseHead? {
        if case .complete(let head) = parse(text) { return head }
        return nil
    }

    @Test("ClickHouse's 200: status, lower-cased headers, length framing, kept alive; the body is not part of the head")
    func clickHouseAnswer() throws {
        let text = "HTTP/1.1 200 OK\r\nDate: Fri, 04 Dec 2026 10:00:00 GMT\r\nConnection: Keep-Alive\r\nContent-Type: text/tab-separated-values; charset=UTF-8\r\n"
            + "X-ClickHouse-Server-Display-Name: ch\r\nContent-Length: 2\r\nKeep-Alive: timeout=3\r\n\r\n1\n"
        let head = try #require(complete(text))
        #expect(head.status == 200 && head.minorVersion == 1 && head.keepsAlive)
        #expect(head.framing == .length(2))
        #expect(head.length == text.utf8.count - 2)
        #expect(head.headers.first { $0.name == "x-clickhouse-server-display-name" }?.value == "ch")
    }

    @Test("framing: chunked wins, no length runs to close, 204 and 1xx have no body, HTTP/1.0 closes unless kept alive")
    func framing() throws {
        #expect(complete("HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n\r\n")?.framing == .chunked)
        let untilClose = try #require(complete("HTTP/1.1 200 OK\r\n\r\n"))
        #expect(untilClose.framing == .untilClose && !untilClose.keepsAlive)
        #expect(complete("HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n")?.framing == .length(0))
        #expect(complete("HTTP/1.1 100 Continue\r\n\r\n")?.framing == .length(0))
        #expect(complete("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")?.keepsAlive == false)
        #expect(complete("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n")?.keepsAlive == true)
        #expect(complete("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")?.keepsAlive == false)
        #expect(complete("HTTP/1.1 200 OK\nContent-Length: 3\n\n")?.framing == .length(3), "bare LF is read")
    }

    @Test("a head arriving in pieces is incomplete until its blank line", arguments: [
        "", "HTTP/1.1 2", "HTTP/1.1 200 OK\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r",
    ])
    func incomplete(_ text: String) {
        guard case .incomplete = parse(text) else {
            Issue.record("\(text.debugDescription) is not incomplete")
            return
        }
    }

    @Test("malformed answers are refused", arguments: [
        "HTTP/2 200 OK\r\n\r\n", "HTTP/1.1 20 OK\r\n\r\n", "HTTP/1.1 2000 OK\r\n\r\n", "SSH-2.0-OpenSSH\r\n\r\n", "HTTP/1.1 099 x\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
        "HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n", "HTTP/1.1 200 OK\r\n folded\r\n\r\n",
    ])
    func malformed(_ text: String) {
        guard case .malformed = parse(text) else {
            Issue.record("\(text.debugDescription) is not refused")
            return
        }
    }

    @Test("a head larger than the bound is refused rather than waited for")
    func tooLarge() {
        let text = "HTTP/1.1 200 OK\r\nX: " + String(repeating: "a", count: 5000)
        guard case .malformed = parse(text) else {
            Issue.record("not refused")
            return
        }
    }
}
