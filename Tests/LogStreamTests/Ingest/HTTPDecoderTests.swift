import Testing
@testable import LogStream

@Suite("Shippers' bodies decoded into records")
struct HTTPDecoderTests {
    func records(_ body: [UInt8], maxLineBytes: Int = 1 << 16, _ decode: (UnsafeRawBufferPointer, inout IngestBatch) throws -> Void) throws -> [DecodedRecord] {
        var batch = IngestBatch(maxLineBytes: maxLineBytes)
        try body.withUnsafeBytes { try decode($0, &batch) }
        return batch.records
    }

    func otlpRequest(severity: UInt64 = 13, body build: (inout ProtobufWriter) -> Void) -> [UInt8] {
        var request = ProtobufWriter()
        request.field(1) { resourceLogs in
            resourceLogs.field(2) { scopeLogs in  // scope_logs before the resource: the order must not matter
                scopeLogs.field(1) { $0.field(1, "my.scope") }
                scopeLogs.field(2) { record in
                    record.field(1, fixed64: 1_764_352_805_123_000_000)
                    record.field(2, varint: severity)
                    record.field(5, message: build)
                    record.field(6) { attribute in
                        attribute.field(1, "attempt")
                        attribute.field(2) { $0.field(3, varint: UInt64(bitPattern: -3)) }
                    }
                    record.field(9, bytes: Array(repeating: 0xAB, count: 16))
                    record.field(10, bytes: [1, 2, 3, 4, 5, 6, 7, 8])
                    record.field(99, "an unknown field, skipped")
                }
            }
            resourceLogs.field(1) { resource in
                resource.field(1) { $0.field(1, "service.name"); $0.field(2) { $0.field(1, "api") } }
                resource.field(1) { $0.field(1, "host.name"); $0.field(2) { $0.field(1, "node-1") } }
                resource.field(1) { $0.field(1, "region"); $0.field(2) { $0.field(1, "eu") } }
            }
        }
        return request.bytes
    }

    @Test func otlpProtobufMapsResourceSeverityTimeTraceAndAttributes() throws {
        let request = otlpRequest { $0.field(1, "user signed in") }
        let decoded = try records(request) { try OTLPProtobuf.decode($0, into: &$1) }
        #expect(decoded == [DecodedRecord(text: "user signed in", service: "api", host: "node-1", level: .warn, format: .otlp, isTruncated: false,
                                          sourceTimeMilliseconds: 1_764_352_805_123,
                                          fields: ["region": "eu", "scope.name": "my.scope", "attempt": "-3",
                                                   "trace_id": String(repeating: "ab", count: 16), "span_id": "0102030405060708"])])
    }

    @Test func otlpBodiesThatAreNotStringsBecomeJSON() throws {
        let request = otlpRequest(severity: 0) { body in
            body.field(6) { map in
                map.field(1) { $0.field(1, "ok"); $0.field(2) { $0.field(2, varint: 1) } }
                map.field(1) { $0.field(1, "list"); $0.field(2) { $0.field(5) { $0.field(1) { $0.field(4, fixed64: (1.5).bitPattern) } } } }
            }
        }
        let decoded = try records(request) { try OTLPProtobuf.decode($0, into: &$1) }
        #expect(decoded.map(\.text) == [#"{"ok":true,"list":[1.5]}"#])
        #expect(decoded.map(\.level) == [.info])  // severity unspecified and no text
    }

    @Test func severityNumbersMapInBandsOfFour() {
        let levels = (0...25).map { OTLPMapping.level(severityNumber: Int64($0)) }
        #expect(levels == [nil, .trace, .trace, .trace, .trace, .debug, .debug, .debug, .debug, .info, .info, .info, .info, .warn, .warn, .warn, .warn,
                           .error, .error, .error, .error, .fatal, .fatal, .fatal, .fatal, nil])
        #expect("SEVERITY_NUMBER_ERROR3".utf8.withContiguousStorageIfAvailable { OTLPMapping.level(severityName: UnsafeRawBufferPointer($0)) } == .error)
    }

    @Test func aMalformedOTLPRequestStoresNothing() {
        var request = otlpRequest { $0.field(1, "fine") }
        request += [0x0A, 0x7F]  // a second resource_logs that runs past the end
        #expect(throws: ProtobufError.self) { try records(request) { try OTLPProtobuf.decode($0, into: &$1) } }
    }

    @Test func otlpJSONTakesBothNameStyles() throws {
        let body = #"{"resource_logs":[{"resource":{"attributes":[{"key":"service.name","value":{"string_value":"snake"}}]},"#
            + #""scope_logs":[{"log_records":[{"time_unix_nano":1000000,"severity_number":"SEVERITY_NUMBER_DEBUG","body":{"intValue":"7"}}]}]}]}"#
        let decoded = try records(Array(body.utf8)) { try OTLPJSON.decode($0, into: &$1) }
        #expect(decoded.map { [$0.service, $0.text] } == [["snake", "7"]])
        #expect(decoded.map(\.level) == [.debug] && decoded.map(\.sourceTimeMilliseconds) == [1])
    }

    @Test func lokiLabelsAreParsedWithEscapes() {
        var labels: [String] = []
        let problem = Array(#"{job="a\"b", app = "x\\y\nz",le_1="" }"#.utf8).withUnsafeBytes { raw in
            LokiLabels.parse(raw) { labels.append(String(decoding: $0, as: UTF8.self) + "=" + String(decoding: $1, as: UTF8.self)) }
        }
        #expect(problem == nil && labels == [#"job=a"b"#, "app=x\\y\nz", "le_1="])
        for bad in [#"job="a""#, #"{job=a}"#, #"{1a="x"}"#, #"{job="a"#] {
            #expect(Array(bad.utf8).withUnsafeBytes { LokiLabels.parse($0) { _, _ in } } != nil, "\(bad)")
        }
    }

    @Test func lokiProtobufTakesServiceLevelHostAndMetadata() throws {
        var push = ProtobufWriter()
        push.field(1) { stream in
            stream.field(1, #"{job="cron", service="billing", host="h2", detected_level="error"}"#)
            stream.field(2) { entry in
                entry.field(1) { $0.field(1, varint: 1_764_352_805); $0.field(2, varint: 7_000_000) }
                entry.field(2, "nightly run failed")
                entry.field(3) { $0.field(1, "trace_id"); $0.field(2, "t9") }
            }
        }
        // One snappy literal: the length as a varint, then a tag whose length follows in one byte.
        var block = ProtobufWriter()
        block.varint(UInt64(push.bytes.count))
        block.bytes += [60 << 2, UInt8(push.bytes.count - 1)] + push.bytes
        let decoded = try records(block.bytes) { try LokiProtobuf.decode($0, snappy: true, limit: 1 << 20, into: &$1) }
        #expect(decoded == [DecodedRecord(text: "nightly run failed", service: "billing", host: "h2", level: .error, format: .loki, isTruncated: false,
                                          sourceTimeMilliseconds: 1_764_352_805_007, fields: ["job": "cron", "trace_id": "t9"])])
    }

    @Test func lokiJSONReadsTheLineForWhatLabelsDoNotSay() throws {
        let body = #"{"streams":[{"stream":{"env":"dev"},"values":[["1000000","{\"level\":\"warn\",\"service\":\"web\",\"msg\":\"slow\",\"ms\":900}"]]}]}"#
        let decoded = try records(Array(body.utf8)) { try LokiJSON.decode($0, into: &$1) }
        #expect(decoded.map(\.level) == [.warn] && decoded.map(\.service) == ["web"])
        #expect(decoded.first?.fields == ["env": "dev", "ms": "900"])
        #expect(throws: LokiError.self) { try records(Array(#"{"streams":[{"stream":{}}]}"#.utf8)) { try LokiJSON.decode($0, into: &$1) } }
    }

    @Test func bulkMapsECSAndAnswersEveryAction() throws {
        let body = #"""
        {"index":{"_index":"app"}}
        {"@timestamp":"2026-11-28T18:00:05.5Z","message":"GET /cart 500","log":{"level":"error"},"service.name":"shop","host":{"hostname":"w1"},"http":{"response":{"status_code":500}},"ok":false}
        {"delete":{"_index":"app","_id":"1"}}
        {"create":{"_id":"given"}}
        {"level":"debug","msg":"no message member"}
        """#
        var batch = IngestBatch(maxLineBytes: 1 << 16)
        let bulk = try Array(body.utf8).withUnsafeBytes { try ElasticBulk.decode($0, defaultIndex: "fallback", into: &batch) }
        #expect(bulk.items.map(\.action) == ["index", "delete", "create"])
        #expect(bulk.items.map { $0.error?.status } == [nil, 400, nil] && bulk.items.map(\.index) == ["app", "app", "fallback"])
        let decoded = batch.records
        #expect(decoded[0] == DecodedRecord(text: "GET /cart 500", service: "shop", host: "w1", level: .error, format: .elasticsearch, isTruncated: false,
                                            sourceTimeMilliseconds: 1_795_888_805_500,
                                            fields: ["http.response.status_code": "500", "ok": "false", "index": "app"]))
        #expect(decoded[1].level == .debug && decoded[1].text == #"{"level":"debug","msg":"no message member"}"#)
    }

    @Test func linesAreParsedAsTCPLinesAreAndCutAtTheLineBound() throws {
        let body = Array("{\"level\":\"error\",\"msg\":\"j\"}\n\nplain WARN [svc] words that run long\n".utf8)
        let decoded = try records(body, maxLineBytes: 20) { LineBody.decode($0, receivedAt: 0, into: &$1) }
        #expect(decoded.map(\.format) == [.plain, .plain] && decoded.map(\.isTruncated) == [true, true])
        let whole = try records(body) { LineBody.decode($0, receivedAt: 0, into: &$1) }
        #expect(whole.map(\.level) == [.error, .warn] && whole.map(\.service) == ["", "svc"] && whole.map(\.format) == [.json, .plain])
    }

    @Test func lineBodiesMayJoinTracesIntoOneRecordEach() throws {
        let body = Array("ERROR [api] failed\njava.lang.IllegalStateException: boom\n\tat a.B.c(B.java:1)\nINFO [api] next\n".utf8)
        let joined = try records(body) { LineBody.decode($0, receivedAt: 0, joinsLines: true, into: &$1) }
        #expect(joined.map(\.text) == ["ERROR [api] failed\njava.lang.IllegalStateException: boom\n\tat a.B.c(B.java:1)", "INFO [api] next"])
        #expect(joined.map(\.level) == [.error, .info] && joined.map(\.service) == ["api", "api"])
        let apart = try records(body) { LineBody.decode($0, receivedAt: 0, into: &$1) }
        #expect(apart.count == 4)
        // Each line fits the bound; the joined record does not, and is cut there.
        let cut = try records(body, maxLineBytes: 40) { LineBody.decode($0, receivedAt: 0, joinsLines: true, into: &$1) }
        #expect(cut.map(\.isTruncated) == [true, false] && cut[0].text.utf8.count == 40)
    }
}
