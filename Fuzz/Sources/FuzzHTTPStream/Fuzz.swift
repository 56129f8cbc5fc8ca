// The HTTP connection's state machine on any bytes, bodies and pipelining included: no crash, every answer a
// whole HTTP/1.1 response, and the same requests and answers whichever way the bytes were cut into reads (the
// first byte chooses the cut) — so a slow or fragmenting client can never change what a request means.
import FuzzSupport
@testable import LogStream

@main enum Main {
    static func main() { runFuzzer { data, count in fuzz(data!, count) } }
}

/// Feeds `chunks` to a fresh stream, answering each request at once; returns what it served and sent.
func run(_ chunks: [UnsafeRawBufferPointer]) -> [String] {
    var stream = HTTPRequestStream(maxHeadBytes: 512)
    var log: [String] = []
    for chunk in chunks {
        stream.receive(chunk)
        while let event = stream.next(bodyLimit: { $0.path.hasPrefix("/in") ? 64 : 0 }) {
            switch event {
            case .interim(let bytes), .reject(let bytes):
                precondition(bytes.starts(with: Array("HTTP/1.1 ".utf8)), "an answer that is not HTTP/1.1")
                log.append(String(decoding: bytes, as: UTF8.self))
            case .request(let request, let body):
                precondition(body.count <= 64, "a body over its bound")
                log.append("\(request.method) \(request.path) \(body)")
                log.append(String(decoding: stream.respond(.json(Array("{}".utf8))), as: UTF8.self))
            }
        }
    }
    return log
}

func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    guard count > 0 else { return 0 }
    let input = UnsafeRawBufferPointer(start: data + 1, count: count - 1)
    let cut = Int(data[0]) % (input.count + 1)
    let whole = run([input])
    let split = run([UnsafeRawBufferPointer(rebasing: input[..<cut]), UnsafeRawBufferPointer(rebasing: input[cut...])])
    // A 100 Continue is sent only when no body byte has arrived yet, so it may depend on the cut; nothing else may.
    let answers = { (log: [String]) in log.filter { !$0.hasPrefix("HTTP/1.1 100 ") } }
    precondition(answers(whole) == answers(split), "what was served depends on where reads were cut")
    return 0
}
