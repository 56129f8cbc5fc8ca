// A parsed syslog message's extra parts as record fields: facility, PROCID, MSGID and every structured-data
// parameter as `sd.<id>.<param>`.

extension SyslogMessage {
    static let facilityNames = ["kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
                                "authpriv", "ftp", "ntp", "security", "console", "solaris-cron",
                                "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"]

    /// Adds the fields; `line` is the buffer the message's ranges refer to.
    public func appendFields(from line: UnsafeRawBufferPointer, to fields: inout FieldsBuilder) {
        var facility = Self.facilityNames[Int(facility)]
        facility.withUTF8 { fields.append(name: "facility", value: UnsafeRawBufferPointer($0)) }
        if let procID { fields.append(name: "procid", value: UnsafeRawBufferPointer(rebasing: line[procID])) }
        if let msgID { fields.append(name: "msgid", value: UnsafeRawBufferPointer(rebasing: line[msgID])) }
        if let structuredData {
            Self.forEachParameter(in: UnsafeRawBufferPointer(rebasing: line[structuredData])) { id, name, value in
                fields.beginField(structuredDataID: id, param: name)
                fields.appendStructuredDataValue(value)
            }
        }
    }

    /// The message's own time in milliseconds, if it has a timestamp we can read.
    public func sourceTimeMilliseconds(in line: UnsafeRawBufferPointer, receivedAt: Int64) -> Int64? {
        // The parser only sets a timestamp it has checked: RFC 3339 (already read) or BSD.
        if let rfc3339Milliseconds { return rfc3339Milliseconds }
        return timestamp.flatMap { Timestamp.milliseconds(bsd: UnsafeRawBufferPointer(rebasing: line[$0]), near: receivedAt) }
    }

    /// Visits `[id name="value" ...]` elements that the parser already validated; values are still escaped.
    static func forEachParameter(in data: UnsafeRawBufferPointer,
                                 _ body: (_ id: UnsafeRawBufferPointer, _ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> Void) {
        var index = 0
        func run(while condition: (UInt8) -> Bool) -> UnsafeRawBufferPointer {
            let start = index
            while index < data.count, condition(data[index]) { index += 1 }
            return UnsafeRawBufferPointer(rebasing: data[start..<index])
        }
        while index < data.count, data[index] == UInt8(ascii: "[") {
            index += 1
            let id = run { $0 != 0x20 && $0 != UInt8(ascii: "]") }
            while index < data.count, data[index] == 0x20 {
                index += 1
                let name = run { $0 != UInt8(ascii: "=") }
                index += 2  // `="`
                let valueStart = index
                while index < data.count, data[index] != UInt8(ascii: "\"") { index += data[index] == UInt8(ascii: "\\") ? 2 : 1 }
                guard index <= data.count else { return }
                body(id, name, UnsafeRawBufferPointer(rebasing: data[valueStart..<min(index, data.count)]))
                index += 1  // closing quote
            }
            index += 1  // `]`
        }
    }
}
