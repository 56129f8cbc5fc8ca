import Testing
@testable import LogStream

@Suite("Chunked request bodies")
struct ChunkedDecoderTests {
    /// Decodes `input` fed in pieces of `step` bytes, as a connection would (unused bytes wait for the next
    /// piece); returns the body and the bytes left after it, or the outcome that ended it.
    func decode(_ input: String, step: Int = .max, limit: Int = 1 << 20) -> (body: String, rest: String)? {
        var decoder = ChunkedDecoder(maxBodyBytes: limit)
        let bytes = Array(input.utf8)
        var pending: [UInt8] = []
        var body: [UInt8] = []
        var fed = 0
        while true {
            let next = min(bytes.count, fed + step)
            pending += bytes[fed..<next]
            fed = next
            switch pending.withUnsafeBytes({ decoder.decode($0, into: &body) }) {
            case .needMore(let consumed):
                pending.removeFirst(consumed)
                if fed == bytes.count { return nil }
            case .done(let consumed):
                pending.removeFirst(consumed)
                return (String(decoding: body, as: UTF8.self), String(decoding: pending + bytes[fed...], as: UTF8.self))
            case .tooLarge, .malformed:
                return nil
            }
        }
    }

    func outcome(_ input: String, limit: Int = 1 << 20) -> ChunkedDecoder.Outcome {
        var decoder = ChunkedDecoder(maxBodyBytes: limit)
        var body: [UInt8] = []
        return Array(input.utf8).withUnsafeBytes { decoder.decode($0, into: &body) }
    }

    @Test("RFC 9112's shape: chunks, an extension, trailers; the next request's bytes are left alone")
    func wholeBodies() {
        let input = "4\r\nWiki\r\n7;name=value\r\npedia i\r\nB\r\nn \r\nchunks.\r\n0\r\nExpires: never\r\n\r\nGET / HTTP/1.1"
        let decoded = decode(input)
        #expect(decoded?.body == "Wikipedia in \r\nchunks.")
        #expect(decoded?.rest == "GET / HTTP/1.1")
        #expect(decode("0\r\n\r\n")?.body == "")
    }

    @Test("the same body fed one byte at a time, or in any piece size, decodes the same", arguments: [1, 2, 3, 5, 7, 64])
    func pieces(step: Int) {
        let input = "5\r\nhello\r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: 1\r\n\r\nnext"
        let decoded = decode(input, step: step)
        #expect(decoded?.body == "helloabcdefghijklmnopqrstuvwxyz" && decoded?.rest == "next")
    }

    @Test("malformed bodies are refused, not guessed at", arguments: [
        "zz\r\nhello\r\n0\r\n\r\n", "5\nhello\r\n0\r\n\r\n", "5\r\nhelloX\r\n0\r\n\r\n", "-5\r\nhello\r\n", "+5\r\nhello\r\n",
        ";ext\r\n", "\r\n", "1000000000000000\r\n", "5\r\rhello\r\n", "0\r\nbad trailer\n\r\n",
    ])
    func malformed(input: String) {
        guard case .malformed = outcome(input) else {
            Issue.record("\(input.debugDescription) was not refused: \(outcome(input))")
            return
        }
    }

    @Test("a body over the bound is refused as soon as a chunk's size says so, before its data arrives")
    func tooLarge() {
        #expect(outcome("5\r\nhello\r\n6\r\n", limit: 10) == .tooLarge)
        #expect(outcome("5\r\n", limit: 0) == .tooLarge)
        #expect(decode("5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n", limit: 10)?.body == "helloworld")
    }

    @Test("endless size lines and trailers are cut off at their bounds")
    func boundedLines() {
        #expect(outcome("1" + String(repeating: " ", count: 2000)) == .malformed("chunk size line too long"))
        #expect(outcome("0\r\n" + String(repeating: "X-T: 1\r\n", count: 2000)) == .malformed("trailers too long"))
    }
}
