// Unescaping field values into a FieldsBuilder: JSON strings (RFC 8259) and RFC 5424 structured-data values.

extension FieldsBuilder {
    /// Appends the decoded content of a JSON string (escapes resolved; a lone surrogate or a `\u` without four
    /// hex digits becomes U+FFFD).
    public mutating func appendJSONStringValue(_ content: UnsafeRawBufferPointer) {
        JSONUnescaping.unescape(content, run: { appendValueBytes($0) }, byte: { appendValueByte($0) })
    }

    /// Appends an RFC 5424 PARAM-VALUE with `\"`, `\\` and `\]` resolved (other backslashes are kept).
    public mutating func appendStructuredDataValue(_ raw: UnsafeRawBufferPointer) {
        var index = 0
        var runStart = 0
        while index + 1 < raw.count {
            let next = raw[index + 1]
            if raw[index] == UInt8(ascii: "\\"), next == UInt8(ascii: "\"") || next == UInt8(ascii: "\\") || next == UInt8(ascii: "]") {
                appendValueBytes(UnsafeRawBufferPointer(rebasing: raw[runStart..<index]))
                appendValueByte(next)
                index += 2
                runStart = index
            } else {
                index += 1
            }
        }
        appendValueBytes(UnsafeRawBufferPointer(rebasing: raw[runStart..<raw.count]))
    }
}

/// JSON string unescaping (RFC 8259 7), written once for every caller: into a record's fields, or into bytes.
enum JSONUnescaping {
    /// Calls `run` with unescaped stretches and `byte` with each byte an escape stands for.
    @inline(__always)
    static func unescape(_ content: UnsafeRawBufferPointer, run: (UnsafeRawBufferPointer) -> Void, byte: (UInt8) -> Void) {
        var index = 0
        var runStart = 0
        while index < content.count {
            guard content[index] == UInt8(ascii: "\\"), index + 1 < content.count else { index += 1; continue }
            run(UnsafeRawBufferPointer(rebasing: content[runStart..<index]))
            let escaped = content[index + 1]
            index += 2
            switch escaped {
            case UInt8(ascii: "b"): byte(0x08)
            case UInt8(ascii: "f"): byte(0x0C)
            case UInt8(ascii: "n"): byte(0x0A)
            case UInt8(ascii: "r"): byte(0x0D)
            case UInt8(ascii: "t"): byte(0x09)
            case UInt8(ascii: "u"):
                // Four hex digits (JSON lines were validated; a logfmt value was not): without them, U+FFFD, and
                // what follows is kept as it is.
                guard var scalar = hex4(content, index) else {
                    for unit in UTF8.encode("\u{FFFD}")! { byte(unit) }
                    break
                }
                index += 4
                if (0xD800...0xDBFF).contains(scalar), index + 6 <= content.count, content[index] == UInt8(ascii: "\\"),
                   content[index + 1] == UInt8(ascii: "u"), let low = hex4(content, index + 2), (0xDC00...0xDFFF).contains(low) {
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    index += 6
                }
                for unit in UTF8.encode(Unicode.Scalar(scalar) ?? "\u{FFFD}")! { byte(unit) }
            default: byte(escaped)  // \" \\ \/
            }
            runStart = index
        }
        run(UnsafeRawBufferPointer(rebasing: content[runStart..<content.count]))
    }

    /// The decoded bytes of a JSON string's content.
    static func decoded(_ content: UnsafeRawBufferPointer) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(content.count)
        unescape(content, run: { bytes.append(contentsOf: $0) }, byte: { bytes.append($0) })
        return bytes
    }

    static func hex4(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> UInt32? {
        guard at + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for byte in bytes[at..<(at + 4)] {
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - 0x30)
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - 0x61 + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - 0x41 + 10)
            default: return nil
            }
            value = value << 4 | digit
        }
        return value
    }
}
