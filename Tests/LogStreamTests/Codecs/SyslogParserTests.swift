import Testing
@testable import LogStream

@Suite("Syslog parser")
struct SyslogParserTests {
    struct Parsed: Equatable {
        var format: SyslogMessage.Format
        var facility: UInt8
        var severity: UInt8
        var timestamp: String?
        var hostname: String?
        var appName: String?
        var procID: String?
        var msgID: String?
        var structuredData: String?
        var message: String
    }

    func parse(_ line: String) -> Parsed? {
        parse(Array(line.utf8))
    }

    func parse(_ line: [UInt8]) -> Parsed? {
        withBytes(line) { bytes in
            SyslogParser.parse(bytes).map { message in
                func text(_ range: Range<Int>?) -> String? { range.map { UnsafeRawBufferPointer(rebasing: bytes[$0]).text } }
                return Parsed(format: message.format, facility: message.facility, severity: message.severity,
                              timestamp: text(message.timestamp), hostname: text(message.hostname),
                              appName: text(message.appName), procID: text(message.procID), msgID: text(message.msgID),
                              structuredData: text(message.structuredData), message: text(message.message)!)
            }
        }
    }

    @Test("RFC 5424 example 1: no structured data, a BOM before the message")
    func rfc5424Example1() {
        let line = Array("<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - ".utf8) + [0xEF, 0xBB, 0xBF]
            + Array("'su root' failed for lonvick on /dev/pts/8".utf8)
        #expect(parse(line) == Parsed(format: .rfc5424, facility: 4, severity: 2, timestamp: "2003-10-11T22:14:15.003Z",
                                      hostname: "mymachine.example.com", appName: "su", procID: nil, msgID: "ID47",
                                      structuredData: nil, message: "'su root' failed for lonvick on /dev/pts/8"))
    }

    @Test("RFC 5424 example 2: a time offset and a process id")
    func rfc5424Example2() {
        let parsed = parse("<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.")
        #expect(parsed?.facility == 20 && parsed?.severity == 5)
        #expect(parsed?.hostname == "192.0.2.1" && parsed?.appName == "myproc" && parsed?.procID == "8710")
        #expect(parsed?.msgID == nil && parsed?.message == "%% It's time to make the do-nuts.")
    }

    @Test("RFC 5424 examples 3 and 4: structured data, with and without a message")
    func rfc5424StructuredData() {
        let sd = #"[exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"]"#
        let parsed = parse("<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 \(sd) An application event")
        #expect(parsed?.structuredData == sd && parsed?.message == "An application event")
        let two = sd + #"[examplePriority@32473 class="high"]"#
        let bare = parse("<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 \(two)")
        #expect(bare?.structuredData == two && bare?.message == "")
    }

    @Test("structured data values may hold escaped quotes, backslashes and brackets")
    func escapes() {
        let sd = #"[id@1 a="x\"y\]z\\" b=""]"#
        #expect(parse("<13>1 - - - - - \(sd) msg")?.structuredData == sd)
    }

    @Test("util-linux logger's RFC 5424 output")
    func logger() {
        let parsed = parse(#"<11>1 2026-11-28T22:14:34.428273+00:00 vm root - - [timeQuality tzKnown="1" isSynced="0"] ERROR [x] boom"#)
        #expect(parsed?.format == .rfc5424 && parsed?.severity == 3 && parsed?.hostname == "vm" && parsed?.appName == "root")
        #expect(parsed?.message == "ERROR [x] boom")
    }

    @Test("RFC 3164 example: timestamp, hostname and tag")
    func rfc3164() {
        #expect(parse("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8") == Parsed(
            format: .rfc3164, facility: 4, severity: 2, timestamp: "Oct 11 22:14:15", hostname: "mymachine", appName: "su",
            procID: nil, msgID: nil, structuredData: nil, message: "'su root' failed for lonvick on /dev/pts/8"))
    }

    @Test("RFC 3164 variants: no tag, no hostname, no timestamp, an ISO timestamp")
    func rfc3164Variants() {
        let noTag = parse("<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!")
        #expect(noTag?.hostname == "10.0.0.99" && noTag?.appName == nil && noTag?.message == "Use the BFG!")
        let noHost = parse("<30>Nov 28 18:00:00 myapp[123]: started")
        #expect(noHost?.hostname == nil && noHost?.appName == "myapp" && noHost?.procID == "123" && noHost?.message == "started")
        let noTime = parse("<14>myapp: hello")
        #expect(noTime?.timestamp == nil && noTime?.appName == "myapp" && noTime?.message == "hello")
        let python = parse("<11>ERROR [x] failed")
        #expect(python?.severity == 3 && python?.appName == nil && python?.message == "ERROR [x] failed")
        let iso = parse("<30>2026-11-28T18:00:00.123456+00:00 web1 sshd[42]: Accepted key")
        #expect(iso?.timestamp == "2026-11-28T18:00:00.123456+00:00" && iso?.hostname == "web1" && iso?.appName == "sshd")
    }

    @Test("severities map to levels")
    func levels() {
        let expected: [LogLevel] = [.fatal, .fatal, .fatal, .error, .warn, .info, .info, .debug]
        for severity in 0..<8 {
            let level = withBytes("<\(8 + severity)>x") { SyslogParser.parse($0)?.level }
            #expect(level == expected[severity])
        }
    }

    @Test("lines without a valid PRI are not syslog", arguments: [
        "hello", "<>x", "<192>x", "<012>x", "<1234>x", "<13", "<1a>x", "", "<", " <13>x",
    ])
    func notSyslog(line: String) {
        #expect(parse(line) == nil)
    }

    @Test("malformed RFC 5424 headers fall back to RFC 3164 with the whole rest as the message", arguments: [
        "<13>1 2026-13-28T18:00:00Z host app - - - msg",
        "<13>1 2026-11-28 18:00:00 host app - - - msg",
        "<13>1 2026-11-28T18:00:00Z host app - - [unterminated a=\"b\" msg",
        "<13>1 2026-11-28T18:00:00Z host",
        "<13>1 2026-11-28T18:00:00Z host app - - -msg",
    ])
    func malformed5424(line: String) {
        let parsed = parse(line)
        #expect(parsed?.format == .rfc3164)
        #expect(parsed?.message == String(line.dropFirst(4)))
    }

    @Test("truncated and binary input never crashes")
    func hostile() {
        let seeds = [
            "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 [a b=\"c\"] msg",
            "<34>Oct 11 22:14:15 mymachine su[12]: msg",
        ]
        for seed in seeds {
            let bytes = Array(seed.utf8)
            for length in 0...bytes.count { _ = parse(Array(bytes[..<length])) }
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let bytes = [UInt8(ascii: "<"), UInt8.random(in: 0x30...0x39, using: &generator), UInt8(ascii: ">")]
                + (0..<UInt8.random(in: 0...80, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            _ = parse(bytes)
        }
    }
}

@Suite("Record parser")
struct RecordParserTests {
    func parse(_ line: String) -> (level: LogLevel, service: String?, hostname: String?, content: String)? {
        withBytes(line) { bytes in
            RecordParser.parse(bytes).map { parsed in
                func text(_ range: Range<Int>?) -> String? { range.map { UnsafeRawBufferPointer(rebasing: bytes[$0]).text } }
                return (parsed.level, text(parsed.service), text(parsed.hostname), text(parsed.content)!)
            }
        }
    }

    @Test("plain lines take level and service from their words")
    func plain() {
        let parsed = parse("  WARN [disk] almost full\r")
        #expect(parsed?.level == .warn && parsed?.service == "disk" && parsed?.hostname == nil)
        #expect(parsed?.content == "WARN [disk] almost full")
    }

    @Test("syslog lines take the level from PRI, the service from APP-NAME or TAG, and name their host")
    func syslog() {
        let rfc5424 = parse("<11>1 2026-11-28T18:00:00Z web1 billing 42 - - INFO [ignored] charge failed")
        #expect(rfc5424?.level == .error && rfc5424?.service == "billing" && rfc5424?.hostname == "web1")
        let rfc3164 = parse("<28>Nov 28 18:00:00 db2 postgres[7]: checkpoint slow")
        #expect(rfc3164?.level == .warn && rfc3164?.service == "postgres" && rfc3164?.hostname == "db2")
    }

    @Test("a syslog message without a tag falls back to its [service]; a trailing NUL is trimmed")
    func pythonSysLogHandler() {
        let parsed = parse("<11>ERROR [payments] card declined\u{0}")
        #expect(parsed?.level == .error && parsed?.service == "payments" && parsed?.hostname == nil)
        #expect(parsed?.content == "<11>ERROR [payments] card declined")
    }

    @Test("a line that only looks like syslog stays plain text")
    func notSyslog() {
        let parsed = parse("<html> ERROR [web] not a priority")
        #expect(parsed?.level == .error && parsed?.service == "web")
    }
}

@Suite("Record parser: JSON lines")
struct RecordParserJSONTests {
    func parse(_ line: String) -> (LogLevel, String?)? {
        withBytes(line) { bytes in
            RecordParser.parse(bytes).map { ($0.level, $0.service.map { UnsafeRawBufferPointer(rebasing: bytes[$0]).text }) }
        }
    }

    @Test("a JSON object's level and service come from its members")
    func json() {
        #expect(parse(#"{"level":40,"name":"api","msg":"ERROR in text is not the level"}"#)! == (.warn, "api"))
        #expect(parse(#"{"msg":"no level"}"#)! == (.info, nil))
    }

    @Test("invalid JSON is parsed as plain text")
    func invalidJSON() {
        #expect(parse(#"{"level":"error" broken [svc]"#)! == (.error, "svc"))
    }
}
