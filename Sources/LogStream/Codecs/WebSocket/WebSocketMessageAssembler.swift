// Joins fragmented frames into messages and enforces the message-level rules of RFC 6455: continuation
// order, a size limit, UTF-8 text, and valid close payloads.

public enum WebSocketMessage: Equatable {
    case text([UInt8])
    case binary([UInt8])
    case ping([UInt8])
    case pong
    /// The peer's close code (nil when it sent none).
    case close(UInt16?)
}

public struct WebSocketMessageAssembler {
    public let maxMessageBytes: Int
    private var fragments: [UInt8] = []
    private var fragmentedOpcode: WebSocketOpcode?

    public init(maxMessageBytes: Int) { self.maxMessageBytes = maxMessageBytes }

    /// Takes one decoded frame; returns a finished message, nil while a fragmented one is incomplete, or the
    /// close code the connection must be failed with.
    public mutating func take(_ frame: WebSocketFrame, payload: UnsafeRawBufferPointer)
        -> Result<WebSocketMessage?, WebSocketFailure>
    {
        switch frame.opcode {
        case .ping: return .success(.ping(Array(payload)))
        case .pong: return .success(.pong)
        case .close: return Self.closeMessage(payload)
        case .text, .binary:
            guard fragmentedOpcode == nil else { return .failure(WebSocketFailure(.protocolError, "expected a continuation frame")) }
            if frame.isFinal { return Self.dataMessage(frame.opcode, Array(payload)) }
            fragmentedOpcode = frame.opcode
            fragments = Array(payload)
            return .success(nil)
        case .continuation:
            guard let opcode = fragmentedOpcode else { return .failure(WebSocketFailure(.protocolError, "unexpected continuation frame")) }
            guard fragments.count + payload.count <= maxMessageBytes else { return .failure(WebSocketFailure(.tooBig, "message too big")) }
            fragments.append(contentsOf: payload)
            guard frame.isFinal else { return .success(nil) }
            defer { fragments = []; fragmentedOpcode = nil }
            return Self.dataMessage(opcode, fragments)
        }
    }

    private static func dataMessage(_ opcode: WebSocketOpcode, _ bytes: [UInt8]) -> Result<WebSocketMessage?, WebSocketFailure> {
        guard opcode == .text else { return .success(.binary(bytes)) }
        guard bytes.withUnsafeBytes(isValidUTF8) else { return .failure(WebSocketFailure(.invalidData, "text is not UTF-8")) }
        return .success(.text(bytes))
    }

    private static func closeMessage(_ payload: UnsafeRawBufferPointer) -> Result<WebSocketMessage?, WebSocketFailure> {
        if payload.isEmpty { return .success(.close(nil)) }
        guard payload.count >= 2 else { return .failure(WebSocketFailure(.protocolError, "close payload of one byte")) }
        let code = UInt16(payload[0]) << 8 | UInt16(payload[1])
        guard isValidCloseCode(code) else { return .failure(WebSocketFailure(.protocolError, "invalid close code")) }
        guard isValidUTF8(UnsafeRawBufferPointer(rebasing: payload[2...])) else {
            return .failure(WebSocketFailure(.invalidData, "close reason is not UTF-8"))
        }
        return .success(.close(code))
    }

    /// Codes a peer may send (RFC 6455 7.4 and the IANA registry): 1000–1003, 1007–1014, 3000–4999.
    static func isValidCloseCode(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1014, 3000...4999: true
        default: false
        }
    }

    static func isValidUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var index = 0
        while index < bytes.count {
            if bytes[index] < 0x80 { index += 1; continue }
            let length = UTF8Validation.sequenceLength(in: bytes, at: index)
            if length == 0 { return false }
            index += length
        }
        return true
    }
}

public struct WebSocketFailure: Error, Equatable {
    public var code: WebSocketCloseCode
    public var reason: String

    public init(_ code: WebSocketCloseCode, _ reason: String) {
        self.code = code
        self.reason = reason
    }
}
