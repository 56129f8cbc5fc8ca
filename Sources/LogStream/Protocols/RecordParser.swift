// Everything the sink learns from one line before storing it: plain text gives its level and service from
// the words (LineParser); a syslog line gives them from its header (SyslogParser), plus the sender's own name;
// a JSON object from its members (JSONLineParser).

public struct ParsedRecord: Equatable {
    /// Ranges are byte offsets into the line given to `RecordParser.parse`.
    public var content: Range<Int>
    public var level: LogLevel
    public var service: Range<Int>?
    /// The hostname the message names itself (syslog), to store instead of the sender's address.
    public var hostname: Range<Int>?
}

public enum RecordParser {
    /// Nil for a blank line.
    public static func parse(_ line: UnsafeRawBufferPointer) -> ParsedRecord? {
        guard let plain = LineParser.parse(line) else { return nil }
        let content = plain.content
        if line[content.lowerBound] == UInt8(ascii: "{") {
            return parseJSON(line, content: content) ?? plain.record
        }
        guard line[content.lowerBound] == UInt8(ascii: "<"),
              let syslog = SyslogParser.parse(UnsafeRawBufferPointer(rebasing: line[content])) else { return plain.record }
        func shifted(_ range: Range<Int>) -> Range<Int> { (range.lowerBound + content.lowerBound)..<(range.upperBound + content.lowerBound) }
        let message = shifted(syslog.message)
        let service = syslog.appName.map(shifted) ?? LineParser.findService(in: UnsafeRawBufferPointer(rebasing: line[message])).map {
            ($0.lowerBound + message.lowerBound)..<($0.upperBound + message.lowerBound)
        }
        return ParsedRecord(content: content, level: syslog.level, service: service, hostname: syslog.hostname.map(shifted))
    }
}

extension RecordParser {
    private static func parseJSON(_ line: UnsafeRawBufferPointer, content: Range<Int>) -> ParsedRecord? {
        guard let json = JSONLineParser.parse(UnsafeRawBufferPointer(rebasing: line[content])) else { return nil }
        let service = json.service.map { ($0.lowerBound + content.lowerBound)..<($0.upperBound + content.lowerBound) }
        return ParsedRecord(content: content, level: json.level ?? .info, service: service, hostname: nil)
    }
}

extension ParsedLine {
    fileprivate var record: ParsedRecord { ParsedRecord(content: content, level: level, service: service, hostname: nil) }
}
