// Everything ingestion learns from one line before storing it, by format: plain text gives its level and
// service from its words (LineParser); syslog from its header (SyslogParser), with the sender's own hostname;
// a JSON object and a logfmt line from their members. Structured parts go into a FieldsBuilder.
import Glibc

public struct ParsedRecord: Equatable {
    /// Ranges are byte offsets into the line given to `RecordParser.parse`.
    public var content: Range<Int>
    public var level: LogLevel
    public var service: Range<Int>?
    /// The hostname the message names itself (syslog), to store instead of the sender's address.
    public var hostname: Range<Int>?
    public var format: LogFormat = .plain
    public var sourceTimeMilliseconds: Int64?
    /// The line names its level (a level word, member or syslog priority); `level` is INFO otherwise.
    public var namesLevel = false
}

public enum RecordParser {
    /// Nil for a blank line. `receivedAt` resolves year-less syslog timestamps.
    public static func parse(_ line: UnsafeRawBufferPointer, receivedAt: Int64, fields: inout FieldsBuilder) -> ParsedRecord? {
        var recent = RecentMinute()
        return parse(line, receivedAt: receivedAt, fields: &fields, recentMinute: &recent)
    }

    /// The same, for a caller that parses line after line: `recentMinute` carries the last timestamp's minute.
    public static func parse(_ line: UnsafeRawBufferPointer, receivedAt: Int64, fields: inout FieldsBuilder,
                             recentMinute: inout RecentMinute) -> ParsedRecord? {
        guard let contentRange = LineParser.trimmed(line) else { return nil }
        let content = UnsafeRawBufferPointer(rebasing: line[contentRange])
        let offset = contentRange.lowerBound
        func shifted(_ range: Range<Int>) -> Range<Int> { (range.lowerBound + offset)..<(range.upperBound + offset) }
        // Structured formats say their own level and service; the word scan is for the rest.
        func plainRecord() -> ParsedRecord {
            let plain = LineParser.parse(line, content: contentRange, recentMinute: &recentMinute)
            return ParsedRecord(content: contentRange, level: plain.level, service: plain.service, hostname: nil,
                                sourceTimeMilliseconds: plain.sourceTimeMilliseconds, namesLevel: plain.namesLevel)
        }

        var record = ParsedRecord(content: contentRange, level: .info, service: nil, hostname: nil)
        switch content[0] {
        case UInt8(ascii: "{"):
            guard let json = JSONLineParser.parse(content, fields: &fields) else { return plainRecord() }
            record.format = .json
            record.level = json.level ?? .info
            record.namesLevel = json.level != nil
            record.service = json.service.map(shifted)
            record.sourceTimeMilliseconds = json.time.flatMap { time(UnsafeRawBufferPointer(rebasing: content[$0])) }
        case UInt8(ascii: "<"):
            guard let syslog = SyslogParser.parse(content) else { return plainRecord() }
            record.format = syslog.format == .rfc5424 ? .rfc5424 : .rfc3164
            record.level = syslog.level
            record.namesLevel = true
            let message = shifted(syslog.message)
            record.service = syslog.appName.map(shifted) ?? LineParser.findService(in: UnsafeRawBufferPointer(rebasing: line[message])).map {
                ($0.lowerBound + message.lowerBound)..<($0.upperBound + message.lowerBound)
            }
            record.hostname = syslog.hostname.map(shifted)
            record.sourceTimeMilliseconds = syslog.sourceTimeMilliseconds(in: content, receivedAt: receivedAt)
            syslog.appendFields(from: content, to: &fields)
        default:
            record = plainRecord()
            // logfmt's first word is a pair (`time=...`, `level=...`): a line whose first word is not is not
            // worth an attempt (`INFO user=bob ...`, a leading timestamp).
            guard record.sourceTimeMilliseconds == nil, startsWithPair(content), let logfmt = LogfmtParser.parse(content, fields: &fields) else { return record }
            record.format = .logfmt
            if let level = logfmt.level { (record.level, record.namesLevel) = (level, true) }
            if let service = logfmt.service { record.service = shifted(service) }
            record.sourceTimeMilliseconds = logfmt.time.flatMap { time(UnsafeRawBufferPointer(rebasing: content[$0])) }
        }
        return record
    }

    /// Without fields, for callers that need only the rest.
    public static func parse(_ line: UnsafeRawBufferPointer) -> ParsedRecord? {
        var fields = FieldsBuilder()
        return parse(line, receivedAt: 0, fields: &fields)
    }

    /// Whether the text starts with a logfmt key and `=`.
    static func startsWithPair(_ text: UnsafeRawBufferPointer) -> Bool {
        var index = 0
        while index < text.count, LogfmtParser.isKeyByte(text[index]) { index += 1 }
        return index > 0 && index < text.count && text[index] == UInt8(ascii: "=")
    }

    /// RFC 3339 text or epoch seconds/milliseconds.
    static func time(_ text: UnsafeRawBufferPointer) -> Int64? {
        Timestamp.milliseconds(rfc3339: text) ?? Timestamp.milliseconds(epoch: text)
    }
}
