import Testing
@testable import LogStream

@Suite("Access policy: token, session cookie, origins")
struct AccessPolicyTests {
    static let token = "correct-horse-battery-staple"

    func request(_ path: String, _ headers: [(String, String)] = []) throws -> HTTPRequest {
        let text = "GET \(path) HTTP/1.1\r\nHost: logs.example:8000\r\n" + headers.map { "\($0.0): \($0.1)\r\n" }.joined() + "\r\n"
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBytes { raw in
            guard case .complete(let head) = HTTPRequestParser.parse(raw, maxHeadBytes: 8192) else { throw TestFailure() }
            return try HTTPRequest(head: head, in: raw)
        }
    }

    struct TestFailure: Error {}

    @Test("without a token everything is served")
    func open() throws {
        let policy = AccessPolicy(token: nil, allowedOrigins: [])
        let logs = try request("/api/logs")
        #expect(!policy.requiresToken && policy.sessionCookie == nil)
        #expect(policy.isAuthorized(logs))
    }

    @Test("with a token: bearer or session cookie, compared whole; public paths need neither")
    func token() throws {
        let policy = AccessPolicy(token: Self.token, allowedOrigins: [])
        #expect(!policy.isAuthorized(try request("/api/logs")))
        #expect(policy.isAuthorized(try request("/api/logs", [("Authorization", "Bearer \(Self.token)")])))
        #expect(!policy.isAuthorized(try request("/api/logs", [("Authorization", "Bearer \(Self.token)x")])))
        #expect(!policy.isAuthorized(try request("/api/logs", [("Authorization", "Basic \(Self.token)")])))
        let cookie = try #require(policy.sessionCookie)
        #expect(!cookie.contains(Self.token) && cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"))
        let pair = String(cookie.split(separator: ";")[0])
        #expect(policy.isAuthorized(try request("/api/stats", [("Cookie", "theme=dark; \(pair); other=1")])))
        #expect(!policy.isAuthorized(try request("/api/stats", [("Cookie", pair + "0")])))
        for path in ["/healthz", "/login", "/static/login.js", "/static/style.css"] { #expect(policy.isAuthorized(try request(path))) }
        #expect(!policy.isAuthorized(try request("/static/app.js")))
    }

    @Test("tokens must be long and printable", arguments: [
        ("short", "must be at least 16 characters"), ("has a space in it here", "must be printable ASCII without spaces"),
        ("correct-horse-battery-staple", nil),
    ])
    func tokenRules(token: String, problem: String?) {
        #expect(AccessPolicy.problem(withToken: token) == problem)
    }

    @Test("origins: none (not a browser), the server's own, or an allowed one")
    func origins() throws {
        let policy = AccessPolicy(token: nil, allowedOrigins: ["https://Dash.Example.com"])
        #expect(policy.allowsOrigin(of: try request("/ws")))
        #expect(policy.allowsOrigin(of: try request("/ws", [("Origin", "http://logs.example:8000")])))
        #expect(policy.allowsOrigin(of: try request("/ws", [("Origin", "https://dash.example.com")])))
        #expect(!policy.allowsOrigin(of: try request("/ws", [("Origin", "http://evil.example")])))
        #expect(!policy.allowsOrigin(of: try request("/ws", [("Origin", "http://logs.example:8001")])))
        #expect(!policy.allowsOrigin(of: try request("/ws", [("Origin", "null")])))
        for bad in ["dash.example.com", "ftp://x", "https://", "https://a/b", "https://user@host"] { #expect(AccessPolicy.normalizedOrigin(bad) == nil) }
    }
}

@Suite("HTTP Basic with the token")
struct BasicAuthenticationTests {
    func request(authorization: String) throws -> HTTPRequest {
        let head = "POST /loki/api/v1/push HTTP/1.1\r\nHost: x\r\nAuthorization: \(authorization)\r\n\r\n"
        let bytes = Array(head.utf8)
        return try bytes.withUnsafeBytes { raw in
            guard case .complete(let parsed) = HTTPRequestParser.parse(raw, maxHeadBytes: 8192) else { throw HTTPParseError.badRequest("") }
            return try HTTPRequest(head: parsed, in: raw)
        }
    }

    @Test func anyUserWithTheTokenAsPasswordIsLetIn() throws {
        let policy = AccessPolicy(token: "0123456789abcdef", allowedOrigins: [])
        // "loki:0123456789abcdef" and ":0123456789abcdef"
        #expect(policy.isAuthorized(try request(authorization: "Basic bG9raTowMTIzNDU2Nzg5YWJjZGVm")))
        #expect(policy.isAuthorized(try request(authorization: "basic OjAxMjM0NTY3ODlhYmNkZWY=")))
        #expect(!policy.isAuthorized(try request(authorization: "Basic bG9raTp3cm9uZw==")))  // loki:wrong
        #expect(!policy.isAuthorized(try request(authorization: "Basic MDEyMzQ1Njc4OWFiY2RlZg==")))  // no colon
        #expect(!policy.isAuthorized(try request(authorization: "Basic !!!!")))
    }

    @Test func base64DecodesOnlyWellFormedText() {
        #expect(AccessPolicy.base64Decoded("aGk=") == Array("hi".utf8))
        #expect(AccessPolicy.base64Decoded("aGk") == nil && AccessPolicy.base64Decoded("a=Gk") == nil && AccessPolicy.base64Decoded("") == [])
    }
}
