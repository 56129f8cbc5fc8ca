import Testing
@testable import LogStream

@Suite("JSON line parser")
struct JSONLineParserTests {
    struct Parsed: Equatable {
        var level: LogLevel?
        var service: String?
        var message: String?
        var time: String?
    }

    func parse(_ line: String) -> Parsed? {
        withBytes(line) { bytes in
            JSONLineParser.parse(bytes).map { parsed in
                func text(_ range: Range<Int>?) -> String? { range.map { UnsafeRawBufferPointer(rebasing: bytes[$0]).text } }
                return Parsed(level: parsed.level, service: text(parsed.service), message: text(parsed.message), time: text(parsed.time))
            }
        }
    }

    @Test("pino: numeric levels, name, msg and epoch-millisecond time")
    func pino() {
        #expect(parse(#"{"level":50,"time":1732816800123,"pid":7,"hostname":"web1","name":"checkout","msg":"payment failed"}"#)
            == Parsed(level: .error, service: "checkout", message: "payment failed", time: "1732816800123"))
        for (number, level) in [(10, LogLevel.trace), (20, .debug), (30, .info), (40, .warn), (50, .error), (60, .fatal)] {
            #expect(parse("{\"level\":\(number)}")?.level == level)
        }
    }

    @Test("structlog, zap and logrus shapes")
    func commonShapes() {
        #expect(parse(#"{"event":"x","level":"warning","logger":"api.views","timestamp":"2026-11-28T18:00:00Z"}"#)
            == Parsed(level: .warn, service: "api.views", message: nil, time: "2026-11-28T18:00:00Z"))
        #expect(parse(#"{"level":"error","ts":1732816800.5,"caller":"main.go:12","msg":"dial failed","service":"gw"}"#)
            == Parsed(level: .error, service: "gw", message: "dial failed", time: "1732816800.5"))
        #expect(parse(#"{"lvl":"INFO","app":"worker","message":"done"}"#)?.service == "worker")
    }

    @Test("Elastic's dotted and nested forms")
    func elastic() {
        #expect(parse(#"{"@timestamp":"2026-11-28T18:00:00.123Z","log.level":"warn","service.name":"cart","message":"slow"}"#)
            == Parsed(level: .warn, service: "cart", message: "slow", time: "2026-11-28T18:00:00.123Z"))
        #expect(parse(#"{"log":{"level":"fatal","logger":"x"},"service":{"name":"billing"},"message":"down"}"#)
            == Parsed(level: .fatal, service: "billing", message: "down", time: nil))
    }

    @Test("whitespace, nesting, escapes and every value kind are accepted")
    func grammar() {
        let line = #" { "a" : [1, -2.5e+3, true, false, null, {"b": [[]]}], "msg": "say \"hi\"\n\u00e9" , "level":"debug" } "#
        #expect(parse(line)?.level == .debug)
        #expect(parse(line)?.message == #"say \"hi\"\n\u00e9"#)
        #expect(parse("{}") == Parsed())
    }

    @Test("invalid JSON is not JSON", arguments: [
        "", "{", "}", "[]", "\"x\"", "42", "{\"a\":}", "{\"a\" 1}", "{a:1}", "{\"a\":1,}", "{\"a\":01}", "{\"a\":1.}",
        "{\"a\":-}", "{\"a\":tru}", "{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}", "{\"a\":\"unterminated}", "{\"a\":1} trailing",
        "{\"a\":\"tab\tinside\"}", "{\"a\":[1,2}", "INFO {\"level\":\"error\"}",
    ])
    func invalid(line: String) {
        #expect(parse(line) == nil)
    }

    @Test("invalid UTF-8 inside a JSON string keeps the line JSON; the bytes are kept for the writer to replace")
    func invalidUTF8() {
        let line: [UInt8] = Array(#"{"level":"warn","user":"caf"#.utf8) + [0xE9] + Array(#""}"#.utf8)
        let result = line.withUnsafeBytes { bytes -> (LogLevel?, [UInt8])? in
            var fields = FieldsBuilder()
            guard let parsed = JSONLineParser.parse(bytes, fields: &fields) else { return nil }
            return (parsed.level, fields.bytes.withUnsafeBytes { Array(Array(RecordFields(blob: $0))[0].value) })
        }
        #expect(result?.0 == .warn)
        #expect(result?.1 == Array("caf".utf8) + [0xE9])
    }

    @Test("deep nesting is refused, not a stack overflow")
    func deepNesting() {
        #expect(parse("{\"a\":" + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}") == nil)
        #expect(parse("{\"a\":" + String(repeating: "[", count: 20) + String(repeating: "]", count: 20) + "}") != nil)
    }

    @Test("huge numbers and odd level values do not crash")
    func oddValues() {
        #expect(parse(#"{"level":123456789012345678901234567890}"#)?.level == .fatal)
        #expect(parse(#"{"level":"loud"}"#) == Parsed())
        #expect(parse(#"{"level":-5}"#)?.level == .trace)
        #expect(parse(#"{"level":null,"service":42}"#) == Parsed())
    }

    @Test func theEightByteSkipNeverMissesAQuoteABackslashOrAControlByte() {
        var generator = SystemRandomNumberGenerator()
        for round in 0..<20_000 {
            var bytes = (0..<8).map { _ in UInt8.random(in: 0x20...0xFF, using: &generator) }
            if round % 2 == 0 { bytes[Int.random(in: 0..<8, using: &generator)] = [0x22, 0x5C, 0x00, 0x1F, 0x0A][round / 2 % 5] }
            let word = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
            let special = bytes.contains { $0 == 0x22 || $0 == 0x5C || $0 < 0x20 }
            if special { #expect(JSONScanner.mayHoldSpecialByte(word), "\(bytes)") }
        }
        #expect(!JSONScanner.mayHoldSpecialByte(Array("plain te".utf8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }))
    }

    @Test func stringsEndAtTheirQuoteWhereverItFalls() {
        for length in 0..<40 {
            for (marker, escaped) in [("", false), ("\\n", true), ("\\\"", true)] {
                let content = String(repeating: "é", count: length / 2) + marker + String(repeating: "x", count: length % 7)
                let text = "\"" + content + "\" tail"
                let found = withBytes(text) { raw -> (Int, Bool)? in
                    var scanner = JSONScanner(bytes: raw)
                    return scanner.string().map { ($0.0.count, $0.hasEscapes) }
                }
                #expect(found?.0 == content.utf8.count && found?.1 == escaped, "\(text)")
                #expect(withBytes("\"" + content + "\u{1}\"") { raw in var scanner = JSONScanner(bytes: raw); return scanner.string() } == nil,
                        "a control byte anywhere is refused")
            }
        }
    }
}
