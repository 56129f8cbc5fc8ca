// Finds a plain-text line's level and service in place, without copying or allocating.
import Glibc

/// What the parser learned about a line; ranges are byte offsets into the line it was given.
public struct ParsedLine: Equatable {
    /// The line without leading and trailing whitespace.
    public var content: Range<Int>
    public var level: LogLevel
    /// The name inside the first `[name]`, or nil for "unknown".
    public var service: Range<Int>?
    /// The time of a leading RFC 3339 timestamp (`2026-11-28T18:00:00.123Z INFO ...`).
    public var sourceTimeMilliseconds: Int64? = nil
    /// A level word was found (`level` is INFO otherwise).
    public var namesLevel = false
}

public enum LineParser {
    /// How many word tokens from the start a level word may stand in: loggers put it near the front, and a
    /// word like "error" deep in the message ("INFO no errors found") is not the line's level.
    static let levelTokenWindow = 6
    static let maxServiceBytes = 128

    /// Nil for a line that is empty or only whitespace.
    public static func parse(_ line: UnsafeRawBufferPointer) -> ParsedLine? {
        trimmed(line).map { parse(line, content: $0) }
    }

    /// The line without leading and trailing whitespace; nil if nothing is left.
    @inline(__always) public static func trimmed(_ line: UnsafeRawBufferPointer) -> Range<Int>? {
        var start = 0
        var end = line.count
        while start < end, isWhitespace(line[start]) { start += 1 }
        while end > start, isWhitespace(line[end - 1]) { end -= 1 }
        return start < end ? start..<end : nil
    }

    /// Level and service of the already trimmed `content` of `line`, and its time if it starts with one.
    public static func parse(_ line: UnsafeRawBufferPointer, content range: Range<Int>) -> ParsedLine {
        var recent = RecentMinute()
        return parse(line, content: range, recentMinute: &recent)
    }

    /// The same, reusing the minute of the previous line's timestamp when this one shares it.
    @inline(__always)
    public static func parse(_ line: UnsafeRawBufferPointer, content range: Range<Int>, recentMinute: inout RecentMinute) -> ParsedLine {
        var parsed = ParsedLine(content: range, level: .info, service: nil)
        var words = range
        // A leading timestamp is read as one (it is the source time) rather than as a string of number tokens,
        // whose varied lengths cost the word scan a branch mispredicted per token.
        if let (time, end) = leadingTimestamp(UnsafeRawBufferPointer(rebasing: line[range]), recentMinute: &recentMinute) {
            parsed.sourceTimeMilliseconds = time
            words = (range.lowerBound + end)..<range.upperBound
        }
        let text = UnsafeRawBufferPointer(rebasing: line[words])
        let named = namedLevel(in: text)
        parsed.level = named ?? .info
        parsed.namesLevel = named != nil
        parsed.service = findService(in: text).map { ($0.lowerBound + words.lowerBound)..<($0.upperBound + words.lowerBound) }
        return parsed
    }

    /// An RFC 3339 timestamp followed by a space at the start of `line`: its time, and where the rest begins.
    @inline(__always)
    static func leadingTimestamp(_ line: UnsafeRawBufferPointer, recentMinute: inout RecentMinute) -> (milliseconds: Int64, end: Int)? {
        guard line.count > 20, line[0] &- 0x30 < 10, let (time, length) = Timestamp.rfc3339Prefix(line, recent: &recentMinute),
              length < line.count, line[length] == 0x20 || line[length] == 0x09 else { return nil }
        return (time, length + 1)
    }

    /// The first level word among the leading word tokens. Tokens are runs of letters, digits, `_` and `-`;
    /// only those starting with a letter count (timestamps, counters and `-` placeholders are skipped). Nil
    /// when the line names none.
    static func namedLevel(in line: UnsafeRawBufferPointer) -> LogLevel? {
        let tokenBytes = ASCIISet.tokenBytes
        var index = 0
        var wordsSeen = 0
        while index < line.count, wordsSeen < levelTokenWindow {
            while index < line.count, !tokenBytes.contains(line[index]) { index += 1 }
            let tokenStart = index
            while index < line.count, tokenBytes.contains(line[index]) { index += 1 }
            guard tokenStart < index else { break }
            guard ASCIISet.letters.contains(line[tokenStart]) else { continue }
            wordsSeen += 1
            if let level = LogLevel(word: UnsafeRawBufferPointer(rebasing: line[tokenStart..<index])) { return level }
        }
        return nil
    }

    /// The first `[name]` that stands alone (at the start or after a non-word byte, so `sshd[1234]` is not
    /// one) and whose name holds a letter (so `[2024-01-01]` is not one).
    static func findService(in line: UnsafeRawBufferPointer) -> Range<Int>? {
        guard let base = line.baseAddress else { return nil }
        let serviceBytes = ASCIISet.serviceBytes
        var index = 0
        // memchr: most lines have one bracket or none, and a byte loop over the rest is several times slower.
        while let found = memchr(base + index, Int32(UInt8(ascii: "[")), line.count - index) {
            let nameStart = base.distance(to: UnsafeRawPointer(found)) + 1
            index = nameStart
            if nameStart > 1, ASCIISet.tokenBytes.contains(line[nameStart - 2]) { continue }
            let limit = min(line.count, nameStart + maxServiceBytes + 1)
            var nameEnd = nameStart
            while nameEnd < limit, serviceBytes.contains(line[nameEnd]) { nameEnd += 1 }
            guard nameEnd < line.count, line[nameEnd] == UInt8(ascii: "]"), nameEnd - nameStart <= maxServiceBytes else { continue }
            if UnsafeRawBufferPointer(rebasing: line[nameStart..<nameEnd]).contains(where: ASCIISet.letters.contains) {
                return nameStart..<nameEnd
            }
        }
        return nil
    }

    /// Spaces, tabs, line ends, and NUL, which some syslog senders put after each message.
    @inline(__always) static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (byte >= 0x09 && byte <= 0x0D) || byte == 0
    }
}
