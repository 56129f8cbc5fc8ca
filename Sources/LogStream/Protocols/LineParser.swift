// Finds a plain-text line's level and service in place, without copying or allocating.
import Glibc

/// What the parser learned about a line; ranges are byte offsets into the line it was given.
public struct ParsedLine: Equatable {
    /// The line without leading and trailing whitespace.
    public var content: Range<Int>
    public var level: LogLevel
    /// The name inside the first `[name]`, or nil for "unknown".
    public var service: Range<Int>?
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
    public static func trimmed(_ line: UnsafeRawBufferPointer) -> Range<Int>? {
        var start = 0
        var end = line.count
        while start < end, isWhitespace(line[start]) { start += 1 }
        while end > start, isWhitespace(line[end - 1]) { end -= 1 }
        return start < end ? start..<end : nil
    }

    /// Level and service of the already trimmed `content` of `line`.
    public static func parse(_ line: UnsafeRawBufferPointer, content range: Range<Int>) -> ParsedLine {
        let content = UnsafeRawBufferPointer(rebasing: line[range])
        let service = findService(in: content).map { ($0.lowerBound + range.lowerBound)..<($0.upperBound + range.lowerBound) }
        return ParsedLine(content: range, level: findLevel(in: content), service: service)
    }

    /// The first level word among the leading word tokens. Tokens are runs of letters, digits, `_` and `-`;
    /// only those starting with a letter count (timestamps, counters and `-` placeholders are skipped).
    static func findLevel(in line: UnsafeRawBufferPointer) -> LogLevel {
        var index = 0
        var wordsSeen = 0
        while index < line.count, wordsSeen < levelTokenWindow {
            while index < line.count, !isTokenByte(line[index]) { index += 1 }
            let tokenStart = index
            while index < line.count, isTokenByte(line[index]) { index += 1 }
            guard tokenStart < index else { break }
            if !isLetter(line[tokenStart]) { continue }
            wordsSeen += 1
            if let level = LogLevel(word: UnsafeRawBufferPointer(rebasing: line[tokenStart..<index])) { return level }
        }
        return .info
    }

    /// The first `[name]` that stands alone (at the start or after a non-word byte, so `sshd[1234]` is not
    /// one) and whose name holds a letter (so `[2024-01-01]` is not one).
    static func findService(in line: UnsafeRawBufferPointer) -> Range<Int>? {
        var index = 0
        while index < line.count {
            // memchr: most lines have one bracket or none, and a byte loop over the rest is several times slower.
            guard let base = line.baseAddress, let found = memchr(base + index, Int32(UInt8(ascii: "[")), line.count - index) else {
                return nil
            }
            index = base.distance(to: UnsafeRawPointer(found))
            let nameStart = index + 1
            if index > 0, isTokenByte(line[index - 1]) { index = nameStart; continue }
            var nameEnd = nameStart
            var hasLetter = false
            while nameEnd < line.count, nameEnd - nameStart <= maxServiceBytes, isServiceByte(line[nameEnd]) {
                hasLetter = hasLetter || isLetter(line[nameEnd])
                nameEnd += 1
            }
            if hasLetter, nameEnd < line.count, line[nameEnd] == UInt8(ascii: "]"), nameEnd - nameStart <= maxServiceBytes {
                return nameStart..<nameEnd
            }
            index = nameStart
        }
        return nil
    }

    /// Spaces, tabs, line ends, and NUL, which some syslog senders put after each message.
    @inline(__always) static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (byte >= 0x09 && byte <= 0x0D) || byte == 0
    }

    @inline(__always) static func isDigit(_ byte: UInt8) -> Bool { byte &- 0x30 < 10 }

    @inline(__always) static func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) &- 0x61 < 26 }

    @inline(__always) static func isTokenByte(_ byte: UInt8) -> Bool {
        isLetter(byte) || isDigit(byte) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
    }

    @inline(__always) static func isServiceByte(_ byte: UInt8) -> Bool {
        isTokenByte(byte) || byte == UInt8(ascii: ".")
    }
}
