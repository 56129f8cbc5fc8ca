// A parsed request head turned into values the routes use, with the checks that decide whether the request
// can be served on a kept-alive connection.

public struct HTTPRequest {
    public var method: String
    public var path: String
    public var query: [String: String]
    /// Lower-cased names, values as sent.
    public var headers: [(name: String, value: String)]
    public var isKeepAlive: Bool
    /// How the body that follows the head is delimited.
    public var body: BodyFraming
    /// The client waits for `100 Continue` before it sends the body (`Expect: 100-continue`).
    public var expectsContinue: Bool
    /// The client's address (set by the connection; empty where there is none, as in tests).
    public var peerAddress = ""
    /// `peerAddress` is the name the client's certificate proved (mutual TLS): it is the host of whatever the
    /// request ingests, whatever host the records claim.
    public var peerIsVerified = false

    public enum BodyFraming: Equatable, Sendable {
        case none
        case length(Int)
        case chunked

        public var isPresent: Bool { self != .none && self != .length(0) }
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.name == name }?.value
    }

    /// Builds the request from a head parsed out of `buffer`; throws for heads that cannot be served safely.
    public init(head: HTTPRequestHead, in buffer: UnsafeRawBufferPointer) throws(HTTPParseError) {
        func text(_ range: Range<Int>) -> String {
            String(decoding: UnsafeRawBufferPointer(rebasing: buffer[range]), as: UTF8.self)
        }
        method = text(head.method)
        headers = head.headers.map { (text($0.name).lowercased(), text($0.value)) }
        let target = text(head.target)
        guard target.hasPrefix("/") else { throw .badRequest("request target must start with /") }
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        guard let decodedPath = QueryString.percentDecode(parts[0], plusIsSpace: false) else {
            throw .badRequest("malformed percent-encoding in path")
        }
        path = decodedPath
        query = parts.count > 1 ? QueryString.parse(parts[1]) : [:]

        let connection = headers.filter { $0.name == "connection" }.map { $0.value.lowercased() }
        isKeepAlive = head.minorVersion == 1 ? !connection.contains("close") : connection.contains("keep-alive")

        // The smuggling shapes are refused (RFC 9112 6.1 and 6.3): both framings, several Transfer-Encoding
        // headers, codings other than chunked alone, lengths that disagree or are not plain digits.
        let lengths = headers.filter { $0.name == "content-length" }.map(\.value)
        let encodings = headers.filter { $0.name == "transfer-encoding" }.map { $0.value.lowercased() }
        if !encodings.isEmpty && !lengths.isEmpty { throw .badRequest("both Content-Length and Transfer-Encoding") }
        guard Set(lengths).count <= 1 else { throw .badRequest("conflicting Content-Length headers") }
        if !encodings.isEmpty {
            guard encodings == ["chunked"], head.minorVersion == 1 else { throw .badRequest("only Transfer-Encoding: chunked is supported") }
            body = .chunked
        } else if let length = lengths.first {
            guard !length.isEmpty, length.utf8.allSatisfy({ $0 &- 0x30 < 10 }), length.count <= 15, let value = Int(length) else {
                throw .badRequest("invalid Content-Length")
            }
            body = .length(value)
        } else {
            body = .none
        }
        if head.minorVersion == 1 && !headers.contains(where: { $0.name == "host" }) { throw .badRequest("missing Host header") }
        switch headers.first(where: { $0.name == "expect" })?.value.lowercased() {
        case nil: expectsContinue = false
        case "100-continue": expectsContinue = head.minorVersion == 1
        default: throw .expectationFailed
        }
    }
}

public enum QueryString {
    /// Parses `a=1&b=two`; the last of repeated keys wins; undecodable pairs are skipped.
    public static func parse(_ query: Substring) -> [String: String] {
        var result: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let key = percentDecode(parts[0], plusIsSpace: true),
                  let value = percentDecode(parts.count > 1 ? parts[1] : "", plusIsSpace: true) else { continue }
            result[key] = value
        }
        return result
    }

    /// Decodes `%XX` escapes (and `+` in query strings); nil for a malformed escape.
    public static func percentDecode(_ text: Substring, plusIsSpace: Bool) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
                bytes.append(high << 4 | low)
            case UInt8(ascii: "+") where plusIsSpace:
                bytes.append(0x20)
            default:
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
