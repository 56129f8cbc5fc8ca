import Testing
@testable import LogStream

/// Parses `line` as line ingest does and returns format, source time and fields as text.
private func parsed(_ line: String, receivedAt: Int64 = 1_764_352_800_000)
    -> (format: LogFormat, level: LogLevel, service: String?, sourceTime: Int64?, fields: [String: String])?
{
    withBytes(line) { bytes in
        var builder = FieldsBuilder()
        guard let record = RecordParser.parse(bytes, receivedAt: receivedAt, fields: &builder) else { return nil }
        let fields = builder.bytes.withUnsafeBytes { blob in
            Dictionary(RecordFields(blob: blob).map { ($0.name.text, $0.value.text) }, uniquingKeysWith: { first, _ in first })
        }
        return (record.format, record.level, record.service.map { UnsafeRawBufferPointer(rebasing: bytes[$0]).text },
                record.sourceTimeMilliseconds, fields)
    }
}

@Suite("Structured fields")
struct FieldsTests {
    @Test("RFC 5424: facility, procid, msgid and structured data with escapes resolved")
    func rfc5424Fields() {
        let line = #"<165>1 2003-10-11T22:14:15.003Z host evntslog 8710 ID47 [exampleSDID@32473 iut="3" eventSource="App \"x\" \] \\ \n"][meta seq="1"] event"#
        let result = parsed(line)
        #expect(result?.format == .rfc5424 && result?.service == "evntslog")
        #expect(result?.fields == ["facility": "local4", "procid": "8710", "msgid": "ID47", "sd.exampleSDID@32473.iut": "3",
                                   "sd.exampleSDID@32473.eventSource": #"App "x" ] \ \n"#, "sd.meta.seq": "1"])
        #expect(result?.sourceTime == 1_065_910_455_003)
    }

    @Test("RFC 5424 time offsets are applied")
    func offsets() {
        #expect(parsed("<13>1 2003-08-24T05:14:15.000003-07:00 h a - - - m")?.sourceTime == 1_061_727_255_000)
    }

    @Test("RFC 3164 times take the receive time's year, or the year before for a December line in January")
    func bsdYear() {
        #expect(parsed("<13>Nov 28 18:00:00 host app: m", receivedAt: 1_764_352_800_000)?.sourceTime == 1_764_352_800_000)
        let january2027: Int64 = 1_798_761_600_000  // 2027-01-01T00:00:00Z
        #expect(parsed("<13>Dec 31 23:59:00 host app: m", receivedAt: january2027)?.sourceTime == january2027 - 60_000)
        #expect(parsed("<13>Nov 28 18:00:00 host app[42]: m")?.fields == ["facility": "user", "procid": "42"])
        // rsyslog's forwarding formats put an RFC 3339 time where RFC 3164 has its own: no year to guess.
        #expect(parsed("<13>2026-11-29T10:00:00.250+01:00 host app: m", receivedAt: january2027)?.sourceTime == 1_795_942_800_250)
    }

    @Test("JSON: other scalar members become fields, strings decoded and literals kept as JSON")
    func jsonFields() {
        let result = parsed(#"{"level":"warn","ts":1732816800.5,"msg":"m","user":"al\"ice\u00e9\ud83d\ude00","n":-1.5e3,"ok":true,"none":null,"nested":{"a":1},"list":[1]}"#)
        #expect(result?.format == .json && result?.level == .warn)
        #expect(result?.sourceTime == 1_732_816_800_500)
        #expect(result?.fields == ["user": "al\"iceé😀", "n": "-1.5e3", "ok": "true", "none": "null"])
    }

    @Test("JSON times: RFC 3339 strings, epoch seconds and epoch milliseconds")
    func jsonTimes() {
        #expect(parsed(#"{"time":"2026-11-28T18:00:00.250Z"}"#)?.sourceTime == 1_795_888_800_250)
        #expect(parsed(#"{"time":1732816800}"#)?.sourceTime == 1_732_816_800_000)
        #expect(parsed(#"{"time":1732816800123}"#)?.sourceTime == 1_732_816_800_123)
        #expect(parsed(#"{"time":"yesterday"}"#)?.sourceTime == nil)
    }

    @Test("logfmt: level, service, msg and time recognized; other pairs become fields")
    func logfmt() {
        let result = parsed(#"time=2026-11-28T18:00:00Z level=error service=api msg="disk \"sda\" full" free=2.1GB path=/var"#)
        #expect(result?.format == .logfmt && result?.level == .error && result?.service == "api")
        #expect(result?.sourceTime == 1_795_888_800_000)
        #expect(result?.fields == ["free": "2.1GB", "path": "/var"])
    }

    @Test("lines that are not logfmt stay plain", arguments: [
        "INFO user=bob logged in", "a=1", "key= value", "x=\"unterminated", "=1 b=2", "a=1 b=\"q\"trailing",
    ])
    func notLogfmt(line: String) {
        let result = parsed(line)
        #expect(result?.format == .plain)
        #expect(result?.fields == [:])
    }

    @Test("invalid JSON leaves no fields behind")
    func rollback() {
        let result = parsed(#"{"a":"one","b":2,"c":}"#)
        #expect(result?.format == .plain && result?.fields == [:])
    }

    @Test("the builder caps field count, name and value lengths; the reader stops at a cut blob")
    func limits() {
        var builder = FieldsBuilder()
        let long = [UInt8](repeating: 0x61, count: 70_000)
        for index in 0..<(FieldsBuilder.maxFields + 5) {
            withBytes("f\(index)") { name in long.withUnsafeBytes { builder.append(name: name, value: UnsafeRawBufferPointer(rebasing: $0[..<10])) } }
        }
        #expect(builder.count == FieldsBuilder.maxFields)
        var big = FieldsBuilder()
        long.withUnsafeBytes { value in long.withUnsafeBytes { name in big.append(name: name, value: value) } }
        let fields = big.bytes.withUnsafeBytes { Array(RecordFields(blob: $0)).map { ($0.name.count, $0.value.count) } }
        #expect(fields.map(\.0) == [255] && fields.map(\.1) == [65_535])
        let cut = big.bytes.withUnsafeBytes { Array(RecordFields(blob: UnsafeRawBufferPointer(rebasing: $0[..<100]))).count }
        #expect(cut == 0)
    }

    @Test("field filters match exact values")
    func filters() {
        let ring = LogRing(capacity: 4, arenaBytes: 4096)
        var builder = FieldsBuilder()
        withBytes("user") { name in withBytes("alice") { builder.append(name: name, value: $0) } }
        let id = withBytes("line") { line in
            builder.bytes.withUnsafeBytes { blob in
                withBytes("h") { host in
                    ring.append(NewRecord(line: line, host: host, level: .info, ingestProtocol: .udp,
                                          isTruncated: false, receivedAtMilliseconds: 0, fields: blob, format: .json))
                }
            }
        }
        #expect(ring.read(id) { RecordFilter(fields: ["user": "alice"]).matches($0) } == true)
        #expect(ring.read(id) { RecordFilter(fields: ["user": "Alice"]).matches($0) } == false)
        #expect(ring.read(id) { RecordFilter(fields: ["user": "alice", "x": "1"]).matches($0) } == false)
        #expect(ring.read(id) { $0.format } == .json)
    }
}
