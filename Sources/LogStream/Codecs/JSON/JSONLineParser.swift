// JSON log lines (pino, bunyan, zap, structlog, logrus shapes) read in place: the object is validated by a
// small scanner with a depth bound, and its top-level members are visited as byte ranges, without building a
// dictionary. A line that is not one valid JSON object is not JSON, and stays plain text.

public struct JSONLine: Equatable {
    public var level: LogLevel?
    /// The service name's string content, when it needs no unescaping.
    public var service: Range<Int>?
    /// The message's string content, as written (escapes not decoded).
    public var message: Range<Int>?
    /// The time member's value, as written (a string's content, or a number).
    public var time: Range<Int>?
}

public enum JSONValueKind: Equatable {
    case string(hasEscapes: Bool), number, boolean, null, object, array
}

public enum JSONLineParser {
    static let maxDepth = 32
    // Member names read for the record itself; kept static so no array is built per line.
    static let levelKeys: [StaticString] = ["level", "lvl", "severity", "log.level"]
    static let serviceKeys: [StaticString] = ["service", "service.name", "app", "logger", "name"]
    static let messageKeys: [StaticString] = ["msg", "message"]
    static let timeKeys: [StaticString] = ["time", "ts", "timestamp", "@timestamp"]

    /// Parses a JSON object line; other top-level scalar members are added to `fields` (strings decoded,
    /// numbers, booleans and null as literals). Nil, with `fields` as it was, if the line is not one valid object.
    public static func parse(_ line: UnsafeRawBufferPointer, fields: inout FieldsBuilder) -> JSONLine? {
        let mark = fields.mark
        var result = JSONLine()
        let isValid = forEachMember(in: line) { key, value, kind in
            let name = UnsafeRawBufferPointer(rebasing: line[key])
            switch kind {
            case .object where ASCII.equals(name, "log"), .object where ASCII.equals(name, "service"):
                // Elastic's nested form: {"log":{"level":"warn"}}, {"service":{"name":"api"}}.
                let inner = UnsafeRawBufferPointer(rebasing: line[value])
                _ = forEachMember(in: inner) { innerKey, innerValue, innerKind in
                    let innerName = UnsafeRawBufferPointer(rebasing: inner[innerKey])
                    let shifted = (innerValue.lowerBound + value.lowerBound)..<(innerValue.upperBound + value.lowerBound)
                    if ASCII.equals(name, "log"), ASCII.equals(innerName, "level") { result.level = result.level ?? level(line, shifted, innerKind) }
                    if ASCII.equals(name, "service"), ASCII.equals(innerName, "name"), innerKind == .string(hasEscapes: false) {
                        result.service = result.service ?? shifted
                    }
                }
            default:
                if levelKeys.contains(where: { ASCII.equals(name, $0) }) {
                    result.level = result.level ?? level(line, value, kind)
                } else if serviceKeys.contains(where: { ASCII.equals(name, $0) }),
                          kind == .string(hasEscapes: false), !value.isEmpty {
                    result.service = result.service ?? value
                } else if messageKeys.contains(where: { ASCII.equals(name, $0) }), case .string = kind {
                    result.message = result.message ?? value
                } else if timeKeys.contains(where: { ASCII.equals(name, $0) }),
                          kind == .number || kind == .string(hasEscapes: false) {
                    result.time = result.time ?? value
                } else {
                    switch kind {
                    case .string:
                        fields.beginField(name: name)
                        fields.appendJSONStringValue(UnsafeRawBufferPointer(rebasing: line[value]))
                    case .number, .boolean, .null:
                        fields.append(name: name, value: UnsafeRawBufferPointer(rebasing: line[value]), kind: .literal)
                    case .object, .array:
                        break
                    }
                }
            }
        }
        guard isValid else {
            fields.rollBack(to: mark)
            return nil
        }
        return result
    }

    /// Without fields, for callers that need only level, service, message and time.
    public static func parse(_ line: UnsafeRawBufferPointer) -> JSONLine? {
        var fields = FieldsBuilder()
        return parse(line, fields: &fields)
    }

    /// Calls `body` with each top-level member's key (string content) and value (a string's content, or the
    /// whole value). Returns false, possibly after some calls, if `object` is not exactly one valid JSON object.
    @discardableResult
    public static func forEachMember(in object: UnsafeRawBufferPointer,
                                     _ body: (_ key: Range<Int>, _ value: Range<Int>, _ kind: JSONValueKind) -> Void) -> Bool {
        var scanner = JSONScanner(bytes: object)
        scanner.skipWhitespace()
        guard scanner.take(UInt8(ascii: "{")) else { return false }
        scanner.skipWhitespace()
        if scanner.take(UInt8(ascii: "}")) { return scanner.isAtEnd() }
        while true {
            scanner.skipWhitespace()
            guard let (key, _) = scanner.string() else { return false }
            scanner.skipWhitespace()
            guard scanner.take(UInt8(ascii: ":")) else { return false }
            scanner.skipWhitespace()
            let valueStart = scanner.index
            guard let kind = scanner.value(depth: 1) else { return false }
            var value = valueStart..<scanner.index
            if case .string = kind { value = (value.lowerBound + 1)..<(value.upperBound - 1) }
            body(key, value, kind)
            scanner.skipWhitespace()
            if scanner.take(UInt8(ascii: "}")) { return scanner.isAtEnd() }
            guard scanner.take(UInt8(ascii: ",")) else { return false }
        }
    }

    /// A level from a word ("warn", "Error") or a pino/bunyan number (10 trace … 60 fatal).
    static func level(_ line: UnsafeRawBufferPointer, _ value: Range<Int>, _ kind: JSONValueKind) -> LogLevel? {
        switch kind {
        case .string(hasEscapes: false):
            return LogLevel(word: UnsafeRawBufferPointer(rebasing: line[value]))
        case .number:
            var number = 0
            for byte in line[value] {
                guard byte &- 0x30 < 10, number < 1000 else { break }
                number = number * 10 + Int(byte - 0x30)
            }
            switch number {
            case ...10: return .trace
            case ...20: return .debug
            case ...30: return .info
            case ...40: return .warn
            case ...50: return .error
            default: return .fatal
            }
        default:
            return nil
        }
    }
}

/// A validating JSON scanner over bytes (RFC 8259), recursive with a depth bound.
struct JSONScanner {
    let bytes: UnsafeRawBufferPointer
    var index = 0

    func isAtEnd() -> Bool {
        var position = index
        while position < bytes.count, isWhitespace(bytes[position]) { position += 1 }
        return position == bytes.count
    }

    mutating func take(_ byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    mutating func skipWhitespace() {
        while index < bytes.count, isWhitespace(bytes[index]) { index += 1 }
    }

    private func isWhitespace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }

    mutating func value(depth: Int) -> JSONValueKind? {
        guard index < bytes.count, depth <= JSONLineParser.maxDepth else { return nil }
        switch bytes[index] {
        case UInt8(ascii: "\""):
            return string().map { .string(hasEscapes: $0.hasEscapes) }
        case UInt8(ascii: "{"):
            return container(close: UInt8(ascii: "}"), depth: depth, hasKeys: true) ? .object : nil
        case UInt8(ascii: "["):
            return container(close: UInt8(ascii: "]"), depth: depth, hasKeys: false) ? .array : nil
        case UInt8(ascii: "t"): return literal("true") ? .boolean : nil
        case UInt8(ascii: "f"): return literal("false") ? .boolean : nil
        case UInt8(ascii: "n"): return literal("null") ? .null : nil
        default: return number() ? .number : nil
        }
    }

    private mutating func container(close: UInt8, depth: Int, hasKeys: Bool) -> Bool {
        index += 1
        skipWhitespace()
        if take(close) { return true }
        while true {
            skipWhitespace()
            if hasKeys {
                guard string() != nil else { return false }
                skipWhitespace()
                guard take(UInt8(ascii: ":")) else { return false }
                skipWhitespace()
            }
            guard value(depth: depth + 1) != nil else { return false }
            skipWhitespace()
            if take(close) { return true }
            guard take(UInt8(ascii: ",")) else { return false }
        }
    }

    /// A string: returns its content's range and whether it holds escapes. Control bytes are refused; invalid
    /// UTF-8 is let through (the JSON writer replaces it on the way out).
    /// Whether a byte of `word` may be `"`, `\\` or below 0x20: the has-zero-byte test (Hacker's Delight 6-1)
    /// on the word xor'ed with each of the two, and its has-less-than form for the control bytes. It can be
    /// wrong only towards yes, which costs a byte-by-byte look and nothing else.
    @inline(__always)
    static func mayHoldSpecialByte(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        let found = ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((word &- ones &* 0x20) & ~word)
        return found & highs != 0
    }

    mutating func string() -> (Range<Int>, hasEscapes: Bool)? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        let start = index
        var hasEscapes = false
        // Byte by byte for the first eight bytes (most keys and values are shorter, and pay nothing more);
        // then eight bytes at a time past plain text, and the word that may hold a quote, a backslash or a
        // control byte walked byte by byte, all of it, before the next word is tested.
        var wordEnd = min(index + 8, bytes.count)
        while true {
            while index < wordEnd {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    index += 1
                    return (start..<(index - 1), hasEscapes)
                }
                if byte < 0x20 { return nil }
                if byte == UInt8(ascii: "\\") {
                    hasEscapes = true
                    guard index + 1 < bytes.count else { return nil }
                    switch bytes[index + 1] {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                         UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                        index += 2
                    case UInt8(ascii: "u"):
                        guard index + 6 <= bytes.count, (2..<6).allSatisfy({ isHexDigit(bytes[index + $0]) }) else { return nil }
                        index += 6
                    default:
                        return nil
                    }
                    continue
                }
                index += 1
            }
            guard index < bytes.count else { return nil }
            while index + 8 <= bytes.count, !Self.mayHoldSpecialByte(bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)) {
                index += 8
            }
            wordEnd = min(index + 8, bytes.count)
        }
    }

    private func isHexDigit(_ byte: UInt8) -> Bool {
        byte &- 0x30 < 10 || (byte | 0x20) &- 0x61 < 6
    }

    mutating func literal(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count,
              bytes[index..<(index + count)].elementsEqual(UnsafeBufferPointer(start: word.utf8Start, count: count)) else {
            return false
        }
        index += count
        return true
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    mutating func number() -> Bool {
        _ = take(UInt8(ascii: "-"))
        guard index < bytes.count else { return false }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            guard digits() else { return false }
        }
        if take(UInt8(ascii: ".")) { guard digits() else { return false } }
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            if !take(UInt8(ascii: "+")) { _ = take(UInt8(ascii: "-")) }
            guard digits() else { return false }
        }
        return true
    }

    private mutating func digits() -> Bool {
        let start = index
        while index < bytes.count, bytes[index] &- 0x30 < 10 { index += 1 }
        return index > start
    }
}
