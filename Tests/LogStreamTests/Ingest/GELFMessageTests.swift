import Testing
@testable import LogStream

@Suite("GELF messages decoded into records")
struct GELFMessageTests {
    func decode(_ payload: [UInt8], limit: Int = 1 << 20) throws(GELFError) -> DecodedRecord {
        var batch = IngestBatch(maxLineBytes: 1 << 16)
        var fields = FieldsBuilder()
        let result = payload.withUnsafeBytes { raw in
            Result { () throws(GELFError) in try GELFMessage.decode(raw, limit: limit, fields: &fields, into: &batch) }
        }
        try result.get()
        #expect(batch.count == 1)
        return batch.records[0]
    }

    func decode(_ json: String) throws(GELFError) -> DecodedRecord { try decode(Array(json.utf8)) }

    @Test func theSpecsFieldsMapToTheRecord() throws {
        let record = try decode("""
            {"version":"1.1","host":"example.org","short_message":"A short message","full_message":"Backtrace here\\n\\nmore stuff",
             "timestamp":1385053862.3072,"level":3,"_user_id":9001,"_some_info":"foo","_nested":{"a":[1]},"file":"app.py","line":42}
            """)
        #expect(record == DecodedRecord(text: "A short message", service: "", host: "example.org", level: .error, format: .gelf,
                                        isTruncated: false, sourceTimeMilliseconds: 1_385_053_862_307,
                                        fields: ["full_message": "Backtrace here\n\nmore stuff", "user_id": "9001", "some_info": "foo",
                                                 "nested": #"{"a":[1]}"#, "file": "app.py", "line": "42"]))
    }

    @Test(arguments: [(0, LogLevel.fatal), (2, .fatal), (3, .error), (4, .warn), (5, .info), (6, .info), (7, .debug), (9, .debug)])
    func severitiesAreSyslogs(severity: Int, level: LogLevel) throws {
        #expect(try decode(#"{"short_message":"m","level":\#(severity)}"#).level == level)
    }

    @Test func levelAbsentIsAlertAndQuotedLevelsAreRead() throws {
        #expect(try decode(#"{"short_message":"m"}"#).level == .fatal, "the spec's default is 1, alert")
        #expect(try decode(#"{"short_message":"m","level":"4"}"#).level == .warn)
        #expect(try decode(#"{"short_message":"m","level":"warning"}"#).level == .warn)
    }

    @Test func theServiceIsTheFirstOfItsMembersElseTheTextsBracketedName() throws {
        #expect(try decode(#"{"short_message":"m","facility":"fac","_tag":"tag","_container_name":"/web"}"#).service == "web")
        #expect(try decode(#"{"short_message":"m","_app":"app","_service":"svc"}"#).service == "svc")
        #expect(try decode(#"{"short_message":"m","facility":"fac"}"#).service == "fac")
        #expect(try decode(#"{"short_message":"ERROR [billing] declined"}"#).service == "billing")
        let docker = try decode(#"{"short_message":"hi","_container_name":"/api","_tag":"abc123","_command":"run"}"#)
        #expect(docker.service == "api" && docker.fields["container_name"] == "/api" && docker.fields["tag"] == "abc123")
    }

    // {"short_message":"compressed zzz…(500)","host":"h"}, made by Python's gzip and zlib modules.
    static let gzipped: [UInt8] = [31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 171, 86, 42, 206, 200, 47, 42, 137, 207, 77, 45, 46, 78, 76, 79, 85, 178, 82,
                                   74, 206, 207, 45, 40, 2, 242, 82, 83, 20, 170, 70, 193, 136, 3, 74, 58, 74, 25, 249, 197, 37, 192, 132, 144,
                                   161, 84, 11, 0, 181, 239, 168, 161, 30, 2, 0, 0]
    static let zlibbed: [UInt8] = [120, 156, 171, 86, 42, 206, 200, 47, 42, 137, 207, 77, 45, 46, 78, 76, 79, 85, 178, 82, 74, 206, 207, 45, 40,
                                   2, 242, 82, 83, 20, 170, 70, 193, 136, 3, 74, 58, 74, 25, 249, 197, 37, 192, 132, 144, 161, 84, 11, 0, 230,
                                   210, 252, 224]

    @Test func gzipAndZlibPayloadsAreInflatedWithinTheLimit() throws {
        let gzip = try decode(Self.gzipped)
        #expect(gzip.text == "compressed " + String(repeating: "z", count: 500) && gzip.host == "h")
        #expect(try decode(Self.zlibbed) == gzip)
        #expect(throws: GELFError.self, "542 bytes inflated, 100 allowed") { try decode(Self.gzipped, limit: 100) }
        #expect(throws: GELFError.self) { try decode(Array(Self.gzipped.prefix(20))) }
    }

    @Test(arguments: ["", "{", "[1]", #"{"host":"no text"}"#, #""just a string""#, "x"])
    func malformedMessagesAreRefused(json: String) {
        #expect(throws: GELFError.self) { try decode(json) }
    }
}
