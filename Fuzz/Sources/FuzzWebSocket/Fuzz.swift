// The WebSocket frame decoder and message assembler on any bytes, as a client could send them: no crash,
// every frame lies inside the buffer and takes at least its header, messages stay under their bound.
import FuzzSupport
@testable import LogStream

@main enum Main {
    static func main() { runFuzzer { data, count in fuzz(data!, count) } }
}

func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    var bytes = Array(UnsafeBufferPointer(start: data, count: count))  // the decoder unmasks in place
    var assembler = WebSocketMessageAssembler(maxMessageBytes: 4096)
    var consumed = 0
    while consumed < bytes.count {
        let decoded = bytes.withUnsafeMutableBytes { raw in
            WebSocketFrameCodec.decode(UnsafeMutableRawBufferPointer(rebasing: raw[consumed...]), maxPayloadBytes: 4096)
        }
        guard case .frame(let frame, let length) = decoded else { break }
        precondition(length >= 2 && consumed + length <= bytes.count, "a frame outside the buffer")
        precondition(frame.payload.upperBound <= length && frame.payload.count <= 4096, "a payload outside its frame")
        let payload = (consumed + frame.payload.lowerBound)..<(consumed + frame.payload.upperBound)
        consumed += length
        let outcome = bytes.withUnsafeBytes { assembler.take(frame, payload: UnsafeRawBufferPointer(rebasing: $0[payload])) }
        switch outcome {
        case .success(.text(let message)?):
            precondition(message.count <= 4096, "a message over its bound")
            _ = ClientMessage.decode(message)
        case .success: continue
        case .failure: return 0
        }
    }
    return 0
}
