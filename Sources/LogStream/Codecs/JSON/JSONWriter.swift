// Appends JSON to a byte buffer. Strings come from attacker-controlled bytes: they are escaped for JSON and
// invalid UTF-8 is replaced with U+FFFD, so any input yields valid JSON.

public struct JSONWriter {
    public var bytes: [UInt8]

    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Syntax and keys we write ourselves, appended verbatim.
    public mutating func raw(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    public mutating func integer<T: BinaryInteger>(_ value: T) {
        bytes.append(contentsOf: String(value).utf8)
    }

    public mutating func number(_ value: Double) {
        bytes.append(contentsOf: (value.isFinite ? String(value) : "0").utf8)
    }

    public mutating func boolean(_ value: Bool) {
        value ? raw("true") : raw("false")
    }

    /// `"key":` — the key is ours, written verbatim.
    public mutating func key(_ name: StaticString) {
        bytes.append(UInt8(ascii: "\""))
        raw(name)
        raw("\":")
    }

    /// `{"a":1,"b":2}` from names (escaped) and counts.
    public mutating func counts(_ pairs: some Sequence<(String, UInt64)>) {
        bytes.append(UInt8(ascii: "{"))
        for (index, pair) in pairs.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            string(pair.0)
            bytes.append(UInt8(ascii: ":"))
            integer(pair.1)
        }
        bytes.append(UInt8(ascii: "}"))
    }

    public mutating func string(_ value: String) {
        var copy = value
        copy.withUTF8 { string(UnsafeRawBufferPointer($0)) }
    }

    /// A quoted string from raw bytes.
    public mutating func string(_ value: UnsafeRawBufferPointer) {
        bytes.append(UInt8(ascii: "\""))
        var index = 0
        var runStart = 0
        while index < value.count {
            let byte = value[index]
            if byte >= 0x20, byte < 0x80, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\") {
                index += 1
                continue
            }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: value[runStart..<index]))
            if byte < 0x80 {
                appendEscaped(byte)
                index += 1
            } else {
                let length = UTF8Validation.sequenceLength(in: value, at: index)
                if length > 0 {
                    bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: value[index..<(index + length)]))
                    index += length
                } else {
                    bytes.append(contentsOf: [0xEF, 0xBF, 0xBD])
                    index += 1
                }
            }
            runStart = index
        }
        bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: value[runStart..<index]))
        bytes.append(UInt8(ascii: "\""))
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    private mutating func appendEscaped(_ byte: UInt8) {
        switch byte {
        case UInt8(ascii: "\""): raw("\\\"")
        case UInt8(ascii: "\\"): raw("\\\\")
        case 0x0A: raw("\\n")
        case 0x0D: raw("\\r")
        case 0x09: raw("\\t")
        default:
            raw("\\u00")
            bytes.append(Self.hexDigits[Int(byte >> 4)])
            bytes.append(Self.hexDigits[Int(byte & 0x0F)])
        }
    }
}

enum UTF8Validation {
    /// The length of the well-formed UTF-8 sequence starting at `index` (2–4), or 0 if it is ill-formed
    /// (overlong forms, surrogates and values above U+10FFFF included), per the Unicode standard's table 3-7.
    static func sequenceLength(in bytes: UnsafeRawBufferPointer, at index: Int) -> Int {
        let lead = bytes[index]
        let remaining = bytes.count - index
        func continuation(_ offset: Int, _ low: UInt8 = 0x80, _ high: UInt8 = 0xBF) -> Bool {
            offset < remaining && bytes[index + offset] >= low && bytes[index + offset] <= high
        }
        switch lead {
        case 0xC2...0xDF:
            return continuation(1) ? 2 : 0
        case 0xE0:
            return continuation(1, 0xA0) && continuation(2) ? 3 : 0
        case 0xE1...0xEC, 0xEE...0xEF:
            return continuation(1) && continuation(2) ? 3 : 0
        case 0xED:
            return continuation(1, 0x80, 0x9F) && continuation(2) ? 3 : 0
        case 0xF0:
            return continuation(1, 0x90) && continuation(2) && continuation(3) ? 4 : 0
        case 0xF1...0xF3:
            return continuation(1) && continuation(2) && continuation(3) ? 4 : 0
        case 0xF4:
            return continuation(1, 0x80, 0x8F) && continuation(2) && continuation(3) ? 4 : 0
        default:
            return 0
        }
    }
}
