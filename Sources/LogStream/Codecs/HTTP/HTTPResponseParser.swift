// An HTTP/1.x response head parsed from the bytes received so far, as picohttpparser's phr_parse_response
// does it: "need more", "malformed", or the status and headers as byte ranges into the caller's buffer, with
// how its body is framed. Header lines are read by the request parser's rules (no folding, no whitespace
// before the colon).

public struct HTTPResponseHead {
    public var status: Int
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    public var minorVersion: Int
    /// Lower-cased names, values as sent.
    public var headers: [(name: String, value: String)]
    /// Bytes up to and including the blank line that ends the head.
    public var length: Int
    public var framing: HTTPBodyFraming
    /// The server keeps the connection open after this response.
    public var keepsAlive: Bool
}

/// How a response's body ends (RFC 9112 section 6.3).
public enum HTTPBodyFraming: Equatable {
    case length(Int)
    case chunked
    /// No length given: the body runs until the server closes the connection.
    case untilClose
}

public enum HTTPResponseParseResult {
    case complete(HTTPResponseHead)
    case incomplete
    case malformed(String)
}

public enum HTTPResponseParser {
    public static func parse(_ buffer: UnsafeRawBufferPointer, maxHeadBytes: Int) -> HTTPResponseParseResult {
        guard let statusLineEnd = HTTPRequestParser.lineEnd(in: buffer, from: 0, limit: maxHeadBytes) else {
            return buffer.count > maxHeadBytes ? .malformed("response head too large") : .incomplete
        }
        guard let (minorVersion, status) = statusLine(UnsafeRawBufferPointer(rebasing: buffer[0..<statusLineEnd.contentEnd])) else {
            return .malformed("malformed status line")
        }
        var cursor = statusLineEnd.next
        var headers: [HTTPHeaderRange] = []
        var headLength = 0
        while headLength == 0 {
            guard let end = HTTPRequestParser.lineEnd(in: buffer, from: cursor, limit: maxHeadBytes) else {
                return buffer.count > maxHeadBytes ? .malformed("response head too large") : .incomplete
            }
            if end.contentEnd == cursor {
                headLength = end.next
                continue
            }
            guard headers.count < HTTPRequestParser.maxHeaders else { return .malformed("too many headers") }
            switch HTTPRequestParser.parseHeader(buffer, cursor..<end.contentEnd) {
            case .success(let header): headers.append(header)
            case .failure: return .malformed("malformed header line")
            }
            cursor = end.next
        }
        func text(_ range: Range<Int>) -> String { String(decoding: UnsafeRawBufferPointer(rebasing: buffer[range]), as: UTF8.self) }
        let named = headers.map { (name: text($0.name).lowercased(), value: text($0.value)) }
        var head = HTTPResponseHead(status: status, minorVersion: minorVersion, headers: named,
                                    length: headLength, framing: .untilClose, keepsAlive: minorVersion == 1)
        let connection = named.filter { $0.name == "connection" }.map { $0.value.lowercased() }
        if connection.contains("close") { head.keepsAlive = false }
        if connection.contains("keep-alive") { head.keepsAlive = true }
        let lengths = Set(named.filter { $0.name == "content-length" }.map(\.value))
        if let coding = named.last(where: { $0.name == "transfer-encoding" })?.value.lowercased() {
            // Chunked is the only coding a server may send unasked, and it comes last.
            guard coding.hasSuffix("chunked") else { return .malformed("unsupported Transfer-Encoding \(coding)") }
            head.framing = .chunked
        } else if let length = lengths.first {
            guard lengths.count == 1 else { return .malformed("conflicting Content-Length headers") }
            guard let value = decimal(Array(length.utf8)) else { return .malformed("malformed Content-Length") }
            head.framing = .length(value)
        }
        // Informational, 204 and 304 answers have no body whatever their headers say.
        if status < 200 || status == 204 || status == 304 { head.framing = .length(0) }
        if head.framing == .untilClose { head.keepsAlive = false }
        return .complete(head)
    }

    /// `HTTP/1.x NNN reason`: the minor version and the status.
    private static func statusLine(_ line: UnsafeRawBufferPointer) -> (Int, Int)? {
        guard line.count >= 12, ASCII.hasPrefix(line, "HTTP/1."), line[8] == 0x20 else { return nil }
        let minor = Int(line[7]) - 0x30
        guard minor == 0 || minor == 1 else { return nil }
        guard let status = decimal(line[9..<12]), status >= 100,
              line.count == 12 || line[12] == 0x20 else { return nil }
        return (minor, status)
    }

    /// Decimal digits only, at most 18 of them (no sign, no overflow).
    private static func decimal(_ digits: some Collection<UInt8>) -> Int? {
        guard !digits.isEmpty, digits.count <= 18 else { return nil }
        var value = 0
        for byte in digits {
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        return value
    }
}
