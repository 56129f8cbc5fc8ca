import Testing
@testable import LogStream

@Suite("WebSocket codec")
struct WebSocketCodecTests {
    /// A masked client frame, as a browser would send it.
    func clientFrame(_ opcode: UInt8, _ payload: [UInt8], fin: Bool = true, mask: [UInt8] = [0x37, 0xFA, 0x21, 0x3D],
                     rsv: UInt8 = 0) -> [UInt8] {
        var frame: [UInt8] = [(fin ? 0x80 : 0) | rsv | opcode]
        if payload.count < 126 {
            frame.append(0x80 | UInt8(payload.count))
        } else if payload.count <= 0xFFFF {
            frame += [0x80 | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        } else {
            frame.append(0x80 | 127)
            for shift in stride(from: 56, through: 0, by: -8) { frame.append(UInt8(truncatingIfNeeded: payload.count >> shift)) }
        }
        frame += mask
        frame += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
        return frame
    }

    func decode(_ bytes: [UInt8], max: Int = 1 << 20) -> (WebSocketDecodeResult, [UInt8]) {
        var copy = bytes
        let result = copy.withUnsafeMutableBytes { WebSocketFrameCodec.decode($0, maxPayloadBytes: max) }
        if case .frame(let frame, _) = result { return (result, Array(copy[frame.payload])) }
        return (result, [])
    }

    @Test("RFC 6455 5.7: a masked 'Hello' text frame")
    func rfcExample() {
        let bytes: [UInt8] = [0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58]
        let (result, payload) = decode(bytes)
        guard case .frame(let frame, let consumed) = result else { Issue.record("not a frame: \(String(describing: result))"); return }
        #expect(frame.opcode == .text && frame.isFinal && consumed == bytes.count)
        #expect(String(decoding: payload, as: UTF8.self) == "Hello")
    }

    @Test("16-bit and 64-bit lengths decode")
    func extendedLengths() {
        for size in [126, 300, 70_000] {
            let payload = [UInt8](repeating: 0x61, count: size)
            let (result, decoded) = decode(clientFrame(0x2, payload))
            guard case .frame = result else { Issue.record("size \(size): \(String(describing: result))"); continue }
            #expect(decoded == payload)
        }
    }

    @Test("every prefix of a frame is incomplete")
    func prefixes() {
        let bytes = clientFrame(0x1, Array("partial frame".utf8))
        for length in 0..<bytes.count { #expect(decode(Array(bytes[..<length])).0 == .incomplete) }
    }

    @Test("protocol violations close with 1002", arguments: [
        ("unmasked", [0x81, 0x02, 0x68, 0x69] as [UInt8]),
        ("reserved bits", [0xC1, 0x80, 0, 0, 0, 0]),
        ("bad opcode", [0x83, 0x80, 0, 0, 0, 0]),
        ("fragmented control", [0x09, 0x80, 0, 0, 0, 0]),
        ("control over 125", [0x89, 0xFE, 0x00, 0x7E] + [UInt8](repeating: 0, count: 130)),
        ("64-bit length with top bit", [0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]),
    ])
    func violations(name: String, bytes: [UInt8]) {
        guard case .invalid(let code, _) = decode(bytes).0 else { Issue.record("\(name)"); return }
        #expect(code == .protocolError)
    }

    @Test("a frame over the size limit closes with 1009")
    func tooBig() {
        guard case .invalid(let code, _) = decode(clientFrame(0x1, [UInt8](repeating: 0x61, count: 200)), max: 100).0 else {
            Issue.record("accepted"); return
        }
        #expect(code == .tooBig)
    }

    @Test("server frames are unmasked with minimal lengths")
    func encode() {
        #expect(WebSocketFrameCodec.textFrame(Array("Hi".utf8)) == [0x81, 0x02, 0x48, 0x69])
        #expect(Array(WebSocketFrameCodec.textFrame([UInt8](repeating: 0, count: 200)).prefix(4)) == [0x81, 126, 0, 200])
        #expect(Array(WebSocketFrameCodec.textFrame([UInt8](repeating: 0, count: 70_000)).prefix(10)) == [0x81, 127, 0, 0, 0, 0, 0, 1, 0x11, 0x70])
        #expect(WebSocketFrameCodec.closeFrame(.tooBig) == [0x88, 0x02, 0x03, 0xF1])
    }

    func assemble(_ frames: [(WebSocketOpcode, Bool, [UInt8])], max: Int = 1000) -> [Result<WebSocketMessage?, WebSocketFailure>] {
        var assembler = WebSocketMessageAssembler(maxMessageBytes: max)
        return frames.map { opcode, fin, payload in
            payload.withUnsafeBytes { assembler.take(WebSocketFrame(isFinal: fin, opcode: opcode, payload: 0..<payload.count), payload: $0) }
        }
    }

    @Test("fragments join into one message, with control frames in between")
    func fragmentation() {
        let results = assemble([(.text, false, Array("Hel".utf8)), (.ping, true, [1]), (.continuation, true, Array("lo".utf8))])
        #expect(results[0] == .success(nil))
        #expect(results[1] == .success(.ping([1])))
        #expect(results[2] == .success(.text(Array("Hello".utf8))))
    }

    @Test("a continuation without a start, or a new message inside one, is a protocol error")
    func badContinuation() {
        #expect(assemble([(.continuation, true, [])])[0] == .failure(WebSocketFailure(.protocolError, "unexpected continuation frame")))
        #expect(assemble([(.text, false, []), (.text, true, [])])[1] == .failure(WebSocketFailure(.protocolError, "expected a continuation frame")))
    }

    @Test("invalid UTF-8 in text closes with 1007; fragments over the limit with 1009")
    func messageRules() {
        guard case .failure(let failure) = assemble([(.text, true, [0xC3, 0x28])])[0] else { Issue.record("accepted"); return }
        #expect(failure.code == .invalidData)
        let big = assemble([(.text, false, [UInt8](repeating: 0x61, count: 600)), (.continuation, true, [UInt8](repeating: 0x61, count: 600))])
        guard case .failure(let tooBig) = big[1] else { Issue.record("accepted"); return }
        #expect(tooBig.code == .tooBig)
    }

    @Test("close payloads: codes are checked, reasons must be UTF-8")
    func closePayloads() {
        #expect(assemble([(.close, true, [])])[0] == .success(.close(nil)))
        #expect(assemble([(.close, true, [0x03, 0xE8])])[0] == .success(.close(1000)))
        for bad in [[0x03] as [UInt8], [0x03, 0xED], [0x03, 0xEE], [0x00, 0x00], [0x13, 0x88]] {
            guard case .failure(let failure) = assemble([(.close, true, bad)])[0] else { Issue.record("accepted \(bad)"); continue }
            #expect(failure.code == .protocolError)
        }
        guard case .failure(let failure) = assemble([(.close, true, [0x03, 0xE8, 0xFF])])[0] else { Issue.record("accepted"); return }
        #expect(failure.code == .invalidData)
    }

    @Test("the handshake's accept value matches RFC 6455's example")
    func acceptKey() {
        #expect(WebSocketHandshake.acceptValue(for: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }
}
