// Who may read the logs. With a token set, every request but the health check and the login page must carry it:
// `Authorization: Bearer <token>`, HTTP Basic with the token as the password (what Loki's and Elasticsearch's
// shippers send: any user name), or the session cookie that `GET /api/session` hands out for a valid bearer
// token (the dashboard's login page asks for it). The cookie holds a digest of the token, never the token.
// WebSocket handshakes sent by a browser (they carry `Origin`) must come from the server's own origin or an
// allowed one, so another site's page cannot read the logs through a visitor's browser. Pure: it reads parsed
// requests and answers yes or no.
import CCrypto

public struct AccessPolicy: Sendable {
    private let token: [UInt8]?
    private let sessionValue: [UInt8]?
    /// Lower-cased `scheme://host[:port]`.
    private let allowedOrigins: [String]
    /// Served over HTTPS: the session cookie is marked Secure, never sent over plain HTTP.
    public var isServedOverTLS = false

    static let cookieName = "logstream_session"
    static let minimumTokenCharacters = 16
    /// Paths served without a token: the health check and what the login page needs.
    static let publicPaths: Set<String> = ["/healthz", "/login", "/static/login.html", "/static/login.js", "/static/style.css",
                                           "/static/favicon.svg"]

    public init(token: String?, allowedOrigins: [String]) {
        self.token = token.map { Array($0.utf8) }
        sessionValue = self.token.map(Self.sessionDigest)
        self.allowedOrigins = allowedOrigins.compactMap(Self.normalizedOrigin)
    }

    public var requiresToken: Bool { token != nil }

    /// What is wrong with a token, or nil.
    static func problem(withToken token: String) -> String? {
        guard token.utf8.count >= minimumTokenCharacters else { return "must be at least \(minimumTokenCharacters) characters" }
        guard token.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else { return "must be printable ASCII without spaces" }
        return nil
    }

    /// `scheme://host[:port]`, lower-cased, for http and https only; nil for anything else.
    static func normalizedOrigin(_ text: String) -> String? {
        let lowered = text.lowercased()
        guard let scheme = ["http://", "https://"].first(where: { lowered.hasPrefix($0) }) else { return nil }
        let authority = lowered.dropFirst(scheme.count)
        guard !authority.isEmpty, !authority.contains("/"), !authority.contains("@"), !authority.contains(" ") else { return nil }
        return lowered
    }

    /// Whether `request` may be served: public paths always; others with the token or the session cookie.
    func isAuthorized(_ request: HTTPRequest) -> Bool {
        guard token != nil, let sessionValue, !Self.publicPaths.contains(request.path) else { return true }
        if hasBearerToken(request) || hasBasicPassword(request) { return true }
        return cookies(of: request).contains { $0.name == Self.cookieName && Self.constantTimeEqual(Array($0.value.utf8), sessionValue) }
    }

    /// Whether a bearer token in `request` is the token (what `GET /api/session` checks before handing out a cookie).
    func hasBearerToken(_ request: HTTPRequest) -> Bool {
        guard let token, let authorization = request.header("authorization"), authorization.hasPrefix("Bearer ") else { return false }
        return Self.constantTimeEqual(Array(authorization.utf8.dropFirst("Bearer ".count)), token)
    }

    /// Whether `request` carries HTTP Basic credentials whose password is the token (RFC 7617).
    func hasBasicPassword(_ request: HTTPRequest) -> Bool {
        guard let token, let authorization = request.header("authorization"), authorization.lowercased().hasPrefix("basic "),
              let credentials = Self.base64Decoded(authorization.dropFirst("basic ".count).trimmingCharacters(in: " ")),
              let colon = credentials.firstIndex(of: UInt8(ascii: ":")) else { return false }
        return Self.constantTimeEqual(Array(credentials[(colon + 1)...]), token)
    }

    /// Standard base64 with padding; nil for anything else.
    static func base64Decoded(_ text: String) -> [UInt8]? {
        var output: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        var padding = 0
        for byte in text.utf8 {
            let value: UInt8
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = byte - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = byte - UInt8(ascii: "a") + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = byte - UInt8(ascii: "0") + 52
            case UInt8(ascii: "+"): value = 62
            case UInt8(ascii: "/"): value = 63
            case UInt8(ascii: "="):
                padding += 1
                continue
            default: return nil
            }
            guard padding == 0 else { return nil }
            buffer = buffer << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
        }
        guard padding <= 2, (text.utf8.count % 4 == 0) else { return nil }
        return output
    }

    /// The `Set-Cookie` value for a logged-in browser: the token's digest, for this site only, out of scripts' reach.
    var sessionCookie: String? {
        sessionValue.map { "\(Self.cookieName)=\(String(decoding: $0, as: UTF8.self)); Path=/; HttpOnly; SameSite=Strict\(isServedOverTLS ? "; Secure" : "")" }
    }

    /// A WebSocket handshake without `Origin` (not from a browser) is allowed; with one, it must be the server's
    /// own (`Host` under http or https) or an allowed one.
    func allowsOrigin(of request: HTTPRequest) -> Bool {
        guard let origin = request.header("origin").map({ $0.lowercased() }) else { return true }
        if let host = request.header("host")?.lowercased(), origin == "http://\(host)" || origin == "https://\(host)" { return true }
        return allowedOrigins.contains(origin)
    }

    private func cookies(of request: HTTPRequest) -> [(name: String, value: String)] {
        request.headers.filter { $0.name == "cookie" }.flatMap { $0.value.split(separator: ";") }.compactMap { pair in
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { return nil }
            return (parts[0].trimmingCharacters(in: " "), parts[1].trimmingCharacters(in: " "))
        }
    }

    /// Hex SHA-256 of a fixed label and the token.
    private static func sessionDigest(_ token: [UInt8]) -> [UInt8] {
        let input = Array("logstream session v1:".utf8) + token
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        _ = SHA256(input, input.count, &digest)
        return Array(digest.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined().utf8)
    }

    /// Compares without stopping at the first difference, so timing says nothing about how much matched.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
