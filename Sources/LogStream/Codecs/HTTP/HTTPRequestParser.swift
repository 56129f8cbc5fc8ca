// An incremental HTTP/1.x request-head parser in the manner of picohttpparser: it takes the bytes received so
// far and answers "need more", "malformed" or a head whose parts are byte ranges into the caller's buffer.

public struct HTTPRequestHead: Equatable {
    public var method: Range<Int>
    /// Path and query, as sent.
    public var target: Range<Int>
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    public var minorVersion: Int
    public var headers: [HTTPHeaderRange]
    /// Bytes up to and including the blank line that ends the head.
    public var length: Int
}

public struct HTTPHeaderRange: Equatable {
    public var name: Range<Int>
    public var value: Range<Int>
}

public enum HTTPParseResult: Equatable {
    case complete(HTTPRequestHead)
    case incomplete
    case malformed(HTTPParseError)
}

public enum HTTPParseError: Error, Equatable {
    case badRequest(String)
    case headTooLarge
    case uriTooLong
    case versionNotSupported
    /// An `Expect` other than 100-continue.
    case expectationFailed

    public var status: Int {
        switch self {
        case .badRequest: 400
        case .expectationFailed: 417
        case .headTooLarge: 431
        case .uriTooLong: 414
        case .versionNotSupported: 505
        }
    }

    /// What the error answer says.
    public var message: String {
        switch self {
        case .badRequest(let reason): reason
        case .headTooLarge: "request head too large"
        case .uriTooLong: "request line too long"
        case .versionNotSupported: "HTTP version not supported"
        case .expectationFailed: "only Expect: 100-continue is understood"
        }
    }
}

public enum HTTPRequestParser {
    public static let maxHeaders = 100

    public static func parse(_ buffer: UnsafeRawBufferPointer, maxHeadBytes: Int) -> HTTPParseResult {
        var cursor = 0
        // Tolerate blank lines before a request (RFC 9112, section 2.2).
        while cursor < buffer.count, buffer[cursor] == 0x0D || buffer[cursor] == 0x0A { cursor += 1 }
        guard let requestLineEnd = lineEnd(in: buffer, from: cursor, limit: maxHeadBytes) else {
            return buffer.count > maxHeadBytes ? .malformed(.uriTooLong) : .incomplete
        }
        let requestLine: (method: Range<Int>, target: Range<Int>, minorVersion: Int)
        switch parseRequestLine(buffer, cursor..<requestLineEnd.contentEnd) {
        case .success(let parsed): requestLine = parsed
        case .failure(let error): return .malformed(error)
        }
        cursor = requestLineEnd.next

        var headers: [HTTPHeaderRange] = []
        while true {
            guard let end = lineEnd(in: buffer, from: cursor, limit: maxHeadBytes) else {
                return buffer.count > maxHeadBytes ? .malformed(.headTooLarge) : .incomplete
            }
            if end.contentEnd == cursor {
                let head = HTTPRequestHead(method: requestLine.method, target: requestLine.target,
                                           minorVersion: requestLine.minorVersion, headers: headers, length: end.next)
                return .complete(head)
            }
            guard headers.count < maxHeaders else { return .malformed(.headTooLarge) }
            switch parseHeader(buffer, cursor..<end.contentEnd) {
            case .success(let header): headers.append(header)
            case .failure(let error): return .malformed(error)
            }
            cursor = end.next
        }
    }

    /// Finds the end of the line starting at `start`: where its content ends (before `\r\n` or `\n`) and
    /// where the next line begins. Nil if no line end has arrived within `limit` bytes of the buffer.
    static func lineEnd(in buffer: UnsafeRawBufferPointer, from start: Int, limit: Int) -> (contentEnd: Int, next: Int)? {
        var index = start
        let end = min(buffer.count, limit)
        while index < end {
            if buffer[index] == 0x0A {
                let contentEnd = index > start && buffer[index - 1] == 0x0D ? index - 1 : index
                return (contentEnd, index + 1)
            }
            index += 1
        }
        return nil
    }

    private static func parseRequestLine(_ buffer: UnsafeRawBufferPointer, _ line: Range<Int>)
        -> Result<(method: Range<Int>, target: Range<Int>, minorVersion: Int), HTTPParseError>
    {
        var index = line.lowerBound
        while index < line.upperBound, isTokenByte(buffer[index]) { index += 1 }
        let method = line.lowerBound..<index
        guard !method.isEmpty, index < line.upperBound, buffer[index] == 0x20 else {
            return .failure(.badRequest("malformed request line"))
        }
        index += 1
        let targetStart = index
        while index < line.upperBound, buffer[index] > 0x20, buffer[index] != 0x7F { index += 1 }
        let target = targetStart..<index
        guard !target.isEmpty, index < line.upperBound, buffer[index] == 0x20 else {
            return .failure(.badRequest("malformed request target"))
        }
        index += 1
        let version = Array(UnsafeRawBufferPointer(rebasing: buffer[index..<line.upperBound]))
        switch version {
        case Array("HTTP/1.1".utf8): return .success((method, target, 1))
        case Array("HTTP/1.0".utf8): return .success((method, target, 0))
        case _ where version.starts(with: Array("HTTP/".utf8)) && version.count == 8:
            return .failure(.versionNotSupported)
        default:
            return .failure(.badRequest("malformed HTTP version"))
        }
    }

    static func parseHeader(_ buffer: UnsafeRawBufferPointer, _ line: Range<Int>) -> Result<HTTPHeaderRange, HTTPParseError> {
        var index = line.lowerBound
        while index < line.upperBound, isTokenByte(buffer[index]) { index += 1 }
        let name = line.lowerBound..<index
        // No whitespace before the colon and no folded lines: both are request-smuggling shapes (RFC 9112 5.1).
        guard !name.isEmpty, index < line.upperBound, buffer[index] == UInt8(ascii: ":") else {
            return .failure(.badRequest("malformed header line"))
        }
        index += 1
        while index < line.upperBound, buffer[index] == 0x20 || buffer[index] == 0x09 { index += 1 }
        var valueEnd = line.upperBound
        while valueEnd > index, buffer[valueEnd - 1] == 0x20 || buffer[valueEnd - 1] == 0x09 { valueEnd -= 1 }
        for position in index..<valueEnd {
            let byte = buffer[position]
            if (byte < 0x20 && byte != 0x09) || byte == 0x7F { return .failure(.badRequest("control character in header value")) }
        }
        return .success(HTTPHeaderRange(name: name, value: index..<valueEnd))
    }

    private static let extraTokenBytes: [UInt8] = Array("!#$%&'*+-.^_`|~".utf8)

    /// RFC 9110 `tchar`.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return extraTokenBytes.contains(byte)
        }
    }
}
