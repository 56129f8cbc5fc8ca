// RFC 6455 frames: decoding client frames in place (unmasking the caller's buffer) and encoding server frames.

public enum WebSocketOpcode: UInt8, Sendable {
    case continuation = 0x0, text = 0x1, binary = 0x2, close = 0x8, ping = 0x9, pong = 0xA

    public var isControl: Bool { rawValue & 0x8 != 0 }
}

/// Close codes we send (RFC 6455, section 7.4.1).
public enum WebSocketCloseCode: UInt16, Sendable {
    case normal = 1000, goingAway = 1001, protocolError = 1002, invalidData = 1007, policyViolation = 1008,
         tooBig = 1009
}

public struct WebSocketFrame: Equatable {
    public var isFinal: Bool
    public var opcode: WebSocketOpcode
    /// The unmasked payload, as a range of the decoded buffer.
    public var payload: Range<Int>
}

public enum WebSocketDecodeResult: Equatable {
    /// A whole frame, and how many bytes of the buffer it took.
    case frame(WebSocketFrame, consumed: Int)
    case incomplete
    case invalid(WebSocketCloseCode, String)
}

public enum WebSocketFrameCodec {
    /// Decodes the client frame at the start of `buffer`, unmasking its payload in place.
    public static func decode(_ buffer: UnsafeMutableRawBufferPointer, maxPayloadBytes: Int) -> WebSocketDecodeResult {
        guard buffer.count >= 2 else { return .incomplete }
        let first = buffer[0]
        let second = buffer[1]
        guard first & 0x70 == 0 else { return .invalid(.protocolError, "reserved bits set") }
        guard let opcode = WebSocketOpcode(rawValue: first & 0x0F) else { return .invalid(.protocolError, "unknown opcode") }
        let isFinal = first & 0x80 != 0
        guard second & 0x80 != 0 else { return .invalid(.protocolError, "client frames must be masked") }

        var headerLength = 2
        var length = UInt64(second & 0x7F)
        if length == 126 {
            guard buffer.count >= 4 else { return .incomplete }
            length = UInt64(buffer[2]) << 8 | UInt64(buffer[3])
            headerLength = 4
        } else if length == 127 {
            guard buffer.count >= 10 else { return .incomplete }
            length = (2..<10).reduce(0) { $0 << 8 | UInt64(buffer[$1]) }
            guard length >> 63 == 0 else { return .invalid(.protocolError, "invalid payload length") }
            headerLength = 10
        }
        if opcode.isControl {
            guard isFinal else { return .invalid(.protocolError, "fragmented control frame") }
            guard length <= 125 else { return .invalid(.protocolError, "control frame payload over 125 bytes") }
        }
        guard length <= UInt64(maxPayloadBytes) else { return .invalid(.tooBig, "frame too big") }

        let maskStart = headerLength
        let payloadStart = maskStart + 4
        let frameEnd = payloadStart + Int(length)
        guard buffer.count >= frameEnd else { return .incomplete }
        let mask = (buffer[maskStart], buffer[maskStart + 1], buffer[maskStart + 2], buffer[maskStart + 3])
        for index in 0..<Int(length) {
            let key = switch index & 3 { case 0: mask.0; case 1: mask.1; case 2: mask.2; default: mask.3 }
            buffer[payloadStart + index] ^= key
        }
        return .frame(WebSocketFrame(isFinal: isFinal, opcode: opcode, payload: payloadStart..<frameEnd), consumed: frameEnd)
    }

    /// Appends an unmasked, final server frame.
    public static func encode(_ opcode: WebSocketOpcode, payload: UnsafeRawBufferPointer, into output: inout [UInt8]) {
        appendHeader(opcode, payloadLength: payload.count, into: &output)
        output.append(contentsOf: payload)
    }

    public static func appendHeader(_ opcode: WebSocketOpcode, payloadLength: Int, into output: inout [UInt8]) {
        output.append(0x80 | opcode.rawValue)
        if payloadLength < 126 {
            output.append(UInt8(payloadLength))
        } else if payloadLength <= 0xFFFF {
            output.append(126)
            output.append(UInt8(payloadLength >> 8))
            output.append(UInt8(payloadLength & 0xFF))
        } else {
            output.append(127)
            for shift in stride(from: 56, through: 0, by: -8) { output.append(UInt8(truncatingIfNeeded: payloadLength >> shift)) }
        }
    }

    /// A whole text frame around `payload`.
    public static func textFrame(_ payload: [UInt8]) -> [UInt8] {
        var frame: [UInt8] = []
        frame.reserveCapacity(payload.count + 10)
        appendHeader(.text, payloadLength: payload.count, into: &frame)
        frame.append(contentsOf: payload)
        return frame
    }

    /// A close frame with a code and a short reason.
    public static func closeFrame(_ code: WebSocketCloseCode, reason: String = "") -> [UInt8] {
        var payload: [UInt8] = [UInt8(code.rawValue >> 8), UInt8(code.rawValue & 0xFF)]
        payload.append(contentsOf: reason.utf8.prefix(123))
        var frame: [UInt8] = []
        payload.withUnsafeBytes { encode(.close, payload: $0, into: &frame) }
        return frame
    }
}
