// The HTTP request-head parser and request builder on any bytes: no crash, and a head found in a buffer is
// found again, the same, in just its own bytes (so reading more can never change a request already parsed).
import FuzzSupport
@testable import LogStream

@main enum Main {
    static func main() { runFuzzer { data, count in fuzz(data!, count) } }
}

func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let buffer = UnsafeRawBufferPointer(start: data, count: count)
    guard case .complete(let head) = HTTPRequestParser.parse(buffer, maxHeadBytes: 8192) else { return 0 }
    precondition(head.length > 0 && head.length <= count, "head length outside the buffer")
    precondition(HTTPRequestParser.parse(UnsafeRawBufferPointer(rebasing: buffer[..<head.length]), maxHeadBytes: 8192) == .complete(head),
                 "the head parses differently on its own")
    if let request = try? HTTPRequest(head: head, in: buffer) {
        precondition(request.path.hasPrefix("/"), "a path that does not start with /")
        _ = WebSocketHandshake.response(to: request)
        _ = AccessPolicy(token: "correct-horse-battery-staple", allowedOrigins: []).isAuthorized(request)
    }
    return 0
}
