// logfmt lines (`time=... level=warn msg="disk almost full" service=api free=2.1GB`), read in place. A line is
// logfmt only if every word is a key=value pair and there are at least two: `INFO user=bob logged in` is not.

public struct LogfmtLine: Equatable {
    public var level: LogLevel?
    public var service: Range<Int>?
    /// The message, as written (quotes removed, escapes not decoded).
    public var message: Range<Int>?
    public var time: Range<Int>?
}

public enum LogfmtParser {
    /// Parses a logfmt line; pairs other than level, service, msg and time are added to `fields` (quoted values
    /// decoded). Nil, with `fields` as it was, if the line is not logfmt.
    public static func parse(_ line: UnsafeRawBufferPointer, fields: inout FieldsBuilder) -> LogfmtLine? {
        let mark = fields.mark
        var result = LogfmtLine()
        var index = 0
        var pairs = 0
        while true {
            while index < line.count, line[index] == 0x20 || line[index] == 0x09 { index += 1 }
            guard index < line.count else { break }
            let keyStart = index
            while index < line.count, isKeyByte(line[index]) { index += 1 }
            let key = UnsafeRawBufferPointer(rebasing: line[keyStart..<index])
            guard !key.isEmpty, index < line.count, line[index] == UInt8(ascii: "=") else {
                fields.rollBack(to: mark)
                return nil
            }
            index += 1
            var value: Range<Int>
            var isQuoted = false
            if index < line.count, line[index] == UInt8(ascii: "\"") {
                isQuoted = true
                let valueStart = index + 1
                index = valueStart
                while index < line.count, line[index] != UInt8(ascii: "\"") { index += line[index] == UInt8(ascii: "\\") ? 2 : 1 }
                guard index < line.count else {
                    fields.rollBack(to: mark)
                    return nil
                }
                value = valueStart..<index
                index += 1
            } else {
                let valueStart = index
                while index < line.count, line[index] > 0x20, line[index] != UInt8(ascii: "\"") { index += 1 }
                value = valueStart..<index
            }
            guard index == line.count || line[index] == 0x20 || line[index] == 0x09 else {
                fields.rollBack(to: mark)
                return nil
            }
            pairs += 1
            let text = UnsafeRawBufferPointer(rebasing: line[value])
            if ASCII.equals(key, "level") || ASCII.equals(key, "lvl") {
                result.level = result.level ?? LogLevel(word: text)
            } else if ASCII.equals(key, "service") || ASCII.equals(key, "app"), !isQuoted, !value.isEmpty {
                result.service = result.service ?? value
            } else if ASCII.equals(key, "msg") || ASCII.equals(key, "message") {
                result.message = result.message ?? value
            } else if ASCII.equals(key, "time") || ASCII.equals(key, "ts") {
                result.time = result.time ?? value
            } else {
                fields.beginField(name: key)
                // Quoted logfmt values use JSON's escapes (`\"`, `\\`, `\n`).
                if isQuoted { fields.appendJSONStringValue(text) } else { fields.appendValueBytes(text) }
            }
        }
        guard pairs >= 2 else {
            fields.rollBack(to: mark)
            return nil
        }
        return result
    }

    static func isKeyByte(_ byte: UInt8) -> Bool {
        byte > 0x20 && byte < 0x7F && byte != UInt8(ascii: "=") && byte != UInt8(ascii: "\"")
    }
}
