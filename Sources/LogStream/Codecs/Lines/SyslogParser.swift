// Syslog headers parsed in place: RFC 5424 (`<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG`) and RFC 3164 /
// BSD (`<PRI>Mmm dd hh:mm:ss HOST TAG[PID]: MSG`, with the hostname, the timestamp or the tag missing as many
// senders do). Anything that does not parse is not syslog and stays plain text.

public struct SyslogMessage: Equatable {
    public enum Format: Equatable { case rfc5424, rfc3164 }

    public var format: Format
    public var facility: UInt8
    public var severity: UInt8
    /// The message's own timestamp as sent (nil when absent or `-`).
    public var timestamp: Range<Int>?
    /// Its time, when it is RFC 3339 (read once, while checking it); a BSD timestamp needs the receive year.
    public var rfc3339Milliseconds: Int64? = nil
    public var hostname: Range<Int>?
    /// RFC 5424 APP-NAME or RFC 3164 TAG.
    public var appName: Range<Int>?
    public var procID: Range<Int>?
    public var msgID: Range<Int>?
    /// The structured data, brackets included (nil for `-`).
    public var structuredData: Range<Int>?
    public var message: Range<Int>

    /// Severity 0–2 FATAL, 3 ERROR, 4 WARN, 5–6 INFO, 7 DEBUG.
    public var level: LogLevel {
        switch severity {
        case 0...2: .fatal
        case 3: .error
        case 4: .warn
        case 5, 6: .info
        default: .debug
        }
    }
}

public enum SyslogParser {
    public static func parse(_ line: UnsafeRawBufferPointer) -> SyslogMessage? {
        var cursor = Cursor(bytes: line)
        guard let priority = cursor.priority() else { return nil }
        let afterPriority = cursor.index
        if let message = parse5424(&cursor, priority: priority) { return message }
        cursor.index = afterPriority
        return parse3164(&cursor, priority: priority)
    }

    // MARK: RFC 5424

    private static func parse5424(_ cursor: inout Cursor, priority: UInt8) -> SyslogMessage? {
        guard cursor.take(UInt8(ascii: "1")), cursor.take(0x20) else { return nil }
        guard let timestamp = cursor.field(maxLength: 64), cursor.take(0x20) else { return nil }
        let time = Timestamp.milliseconds(rfc3339: UnsafeRawBufferPointer(rebasing: cursor.bytes[timestamp]))
        guard timestamp.count == 1 || time != nil else { return nil }
        guard let hostname = cursor.field(maxLength: 255), cursor.take(0x20),
              let appName = cursor.field(maxLength: 48), cursor.take(0x20),
              let procID = cursor.field(maxLength: 128), cursor.take(0x20),
              let msgID = cursor.field(maxLength: 32), cursor.take(0x20),
              let structuredData = cursor.structuredData() else { return nil }
        var messageStart = cursor.index
        if messageStart < cursor.bytes.count {
            guard cursor.bytes[messageStart] == 0x20 else { return nil }
            messageStart += 1
        }
        // A UTF-8 byte order mark may open the message (RFC 5424 6.4).
        if cursor.bytes.count - messageStart >= 3, cursor.bytes[messageStart] == 0xEF,
           cursor.bytes[messageStart + 1] == 0xBB, cursor.bytes[messageStart + 2] == 0xBF {
            messageStart += 3
        }
        func value(_ range: Range<Int>) -> Range<Int>? { cursor.isNil(range) ? nil : range }
        return SyslogMessage(
            format: .rfc5424, facility: priority >> 3, severity: priority & 7,
            timestamp: value(timestamp), rfc3339Milliseconds: time, hostname: value(hostname), appName: value(appName),
            procID: value(procID), msgID: value(msgID), structuredData: value(structuredData),
            message: messageStart..<cursor.bytes.count
        )
    }

    // MARK: RFC 3164

    static let months: [[UInt8]] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        .map { Array($0.utf8) }

    private static func parse3164(_ cursor: inout Cursor, priority: UInt8) -> SyslogMessage? {
        let bytes = cursor.bytes
        var timestamp: Range<Int>?
        var time: Int64?
        var hostname: Range<Int>?
        if let end = bsdTimestampEnd(bytes, from: cursor.index) {
            timestamp = cursor.index..<end
        } else if let iso = isoTimestamp(bytes, from: cursor.index) {
            timestamp = cursor.index..<iso.end
            time = iso.milliseconds
        }
        if let timestamp {
            cursor.index = timestamp.upperBound
            guard cursor.take(0x20) else { return nil }
            // After a timestamp comes the hostname, unless the next word is already the tag.
            let word = cursor.peekWord()
            if !word.isEmpty, !isTagWord(bytes, word) {
                hostname = word
                cursor.index = word.upperBound
                _ = cursor.take(0x20)
            }
        }
        var appName: Range<Int>?
        var procID: Range<Int>?
        let tagStart = cursor.index
        var index = tagStart
        while index < bytes.count, index - tagStart <= 48, isTagByte(bytes[index]) { index += 1 }
        if index > tagStart, index < bytes.count {
            var afterTag = index
            var pid: Range<Int>?
            if bytes[afterTag] == UInt8(ascii: "[") {
                var close = afterTag + 1
                while close < bytes.count, close - afterTag <= 129, bytes[close] != UInt8(ascii: "]"), bytes[close] > 0x20 { close += 1 }
                if close < bytes.count, bytes[close] == UInt8(ascii: "]") {
                    pid = (afterTag + 1)..<close
                    afterTag = close + 1
                }
            }
            if afterTag < bytes.count, bytes[afterTag] == UInt8(ascii: ":") {
                appName = tagStart..<index
                procID = pid
                cursor.index = afterTag + 1
                _ = cursor.take(0x20)
            }
        }
        return SyslogMessage(format: .rfc3164, facility: priority >> 3, severity: priority & 7, timestamp: timestamp,
                             rfc3339Milliseconds: time, hostname: hostname, appName: appName, procID: procID, msgID: nil, structuredData: nil,
                             message: cursor.index..<bytes.count)
    }

    /// `Mmm dd hh:mm:ss` with the day space- or zero-padded; returns where it ends.
    private static func bsdTimestampEnd(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard bytes.count - start >= 15, months.contains(where: { $0.elementsEqual(bytes[start..<(start + 3)]) }),
              bytes[start + 3] == 0x20 else { return nil }
        let dayHigh = bytes[start + 4]
        guard dayHigh == 0x20 || dayHigh &- 0x30 < 4, bytes[start + 5] &- 0x30 < 10, bytes[start + 6] == 0x20 else { return nil }
        let time = start + 7
        for offset in [0, 1, 3, 4, 6, 7] where bytes[time + offset] &- 0x30 >= 10 { return nil }
        guard bytes[time + 2] == UInt8(ascii: ":"), bytes[time + 5] == UInt8(ascii: ":") else { return nil }
        return time + 8
    }

    /// An RFC 3339 timestamp where RFC 3164 puts its own (rsyslog's forwarding formats send this): where it
    /// ends, and its time.
    private static func isoTimestamp(_ bytes: UnsafeRawBufferPointer, from start: Int) -> (end: Int, milliseconds: Int64)? {
        var end = start
        while end < bytes.count, end - start < 40, bytes[end] != 0x20 { end += 1 }
        return Timestamp.milliseconds(rfc3339: UnsafeRawBufferPointer(rebasing: bytes[start..<end])).map { (end, $0) }
    }

    /// A word that is a tag: it ends with `:` or `[pid]:`.
    private static func isTagWord(_ bytes: UnsafeRawBufferPointer, _ word: Range<Int>) -> Bool {
        bytes[word.upperBound - 1] == UInt8(ascii: ":")
    }

    private static func isTagByte(_ byte: UInt8) -> Bool {
        byte > 0x20 && byte < 0x7F && byte != UInt8(ascii: "[") && byte != UInt8(ascii: ":")
    }
}

/// A read position in a line, with the small scanning steps both formats share.
private struct Cursor {
    let bytes: UnsafeRawBufferPointer
    var index = 0

    mutating func take(_ byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    /// `<PRI>`: 1–3 digits, no leading zero except `<0>`, at most 191.
    mutating func priority() -> UInt8? {
        guard take(UInt8(ascii: "<")) else { return nil }
        let start = index
        var value = 0
        while index < bytes.count, index - start < 3, bytes[index] &- 0x30 < 10 {
            value = value * 10 + Int(bytes[index] - 0x30)
            index += 1
        }
        let length = index - start
        guard length > 0, value <= 191, length == 1 || bytes[start] != UInt8(ascii: "0"), take(UInt8(ascii: ">")) else {
            return nil
        }
        return UInt8(value)
    }

    /// A header field: 1 to `maxLength` printable ASCII bytes.
    mutating func field(maxLength: Int) -> Range<Int>? {
        let start = index
        while index < bytes.count, index - start <= maxLength, bytes[index] > 0x20, bytes[index] < 0x7F { index += 1 }
        let length = index - start
        return length > 0 && length <= maxLength ? start..<index : nil
    }

    func isNil(_ range: Range<Int>) -> Bool { range.count == 1 && bytes[range.lowerBound] == UInt8(ascii: "-") }

    /// The next run of non-space bytes, without moving.
    func peekWord() -> Range<Int> {
        var end = index
        while end < bytes.count, bytes[end] != 0x20 { end += 1 }
        return index..<end
    }

    /// `-`, or one or more `[ID param="value" ...]` elements; values may hold `\"`, `\\` and `\]`.
    mutating func structuredData() -> Range<Int>? {
        let start = index
        if take(UInt8(ascii: "-")) { return start..<index }
        guard index < bytes.count, bytes[index] == UInt8(ascii: "[") else { return nil }
        while index < bytes.count, bytes[index] == UInt8(ascii: "[") {
            index += 1
            guard sdName() else { return nil }
            while take(0x20) {
                guard sdName(), take(UInt8(ascii: "=")), take(UInt8(ascii: "\"")) else { return nil }
                while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
                    index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1
                }
                guard take(UInt8(ascii: "\"")) else { return nil }
            }
            guard take(UInt8(ascii: "]")) else { return nil }
        }
        return start..<index
    }

    /// SD-NAME: 1–32 printable ASCII bytes other than `=`, space, `]` and `"`.
    private mutating func sdName() -> Bool {
        let start = index
        while index < bytes.count, index - start < 32, bytes[index] > 0x20, bytes[index] < 0x7F,
              bytes[index] != UInt8(ascii: "="), bytes[index] != UInt8(ascii: "]"), bytes[index] != UInt8(ascii: "\"") {
            index += 1
        }
        return index > start
    }
}
