// The RFC 6455 opening handshake: validating the client's upgrade request and computing Sec-WebSocket-Accept.
import CCrypto
import FoundationEssentials

enum WebSocketHandshake {
    static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// The 101 response for a valid upgrade request, or the error response for an invalid one.
    static func response(to request: HTTPRequest) -> Result<[UInt8], HTTPResponse> {
        guard request.method == "GET" else { return .failure(.error(405, "WebSocket upgrade needs GET")) }
        let upgrade = request.header("upgrade")?.lowercased() ?? ""
        let connection = request.header("connection")?.lowercased() ?? ""
        guard upgrade.contains("websocket"), connection.split(separator: ",").contains(where: {
            $0.trimmingCharacters(in: " \t") == "upgrade"
        }) else {
            return .failure(.error(426, "this endpoint speaks WebSocket"))
        }
        guard request.header("sec-websocket-version") == "13" else {
            var response = HTTPResponse.error(426, "unsupported WebSocket version")
            response.extraHeaders.append(("Sec-WebSocket-Version", "13"))
            return .failure(response)
        }
        guard let key = request.header("sec-websocket-key"), key.utf8.count == 24 else {
            return .failure(.error(400, "missing or malformed Sec-WebSocket-Key"))
        }
        let head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Accept: \(acceptValue(for: key))\r\n\r\n"
        return .success(Array(head.utf8))
    }

    static func acceptValue(for key: String) -> String {
        let input = Array((key + guid).utf8)
        var digest = [UInt8](repeating: 0, count: Int(SHA_DIGEST_LENGTH))
        _ = SHA1(input, input.count, &digest)
        return Data(digest).base64EncodedString()
    }
}

extension StringProtocol {
    func trimmingCharacters(in set: String) -> String {
        let characters = Set(set)
        return String(drop { characters.contains($0) }.reversed().drop { characters.contains($0) }.reversed())
    }
}
