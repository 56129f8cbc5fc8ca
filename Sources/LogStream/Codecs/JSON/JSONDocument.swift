// A whole JSON document (an OTLP or Loki push, an Elasticsearch document) parsed once into a flat tape of
// nodes, simdjson's shape: each node is a value's kind and byte range, and the index just past its subtree, so
// walking members and elements is a jump, not a re-scan, and nothing is copied until a decoder asks for a
// string. JSONLineParser stays the faster path for log lines, which are read once, top level only.

public struct JSONError: Error, Equatable, CustomStringConvertible {
    public var reason: String
    public var offset: Int

    public var description: String { "\(reason) at byte \(offset)" }
}

public struct JSONDocument {
    public enum Kind: UInt8, Sendable { case object, array, string, number, boolean, null }

    struct Node {
        var kind: Kind
        var hasEscapes: Bool
        /// A string's content (without quotes), or the value's whole text.
        var start: Int32
        var end: Int32
        /// The index of the node after this value's subtree.
        var after: Int32
    }

    let bytes: UnsafeRawBufferPointer
    private(set) var nodes: [Node] = []
    public static let maxDepth = 64

    /// Parses `bytes` (which must outlive the document) as exactly one JSON value; bodies over 2 GiB are refused.
    public init(parsing bytes: UnsafeRawBufferPointer) throws(JSONError) {
        guard bytes.count < Int(Int32.max) else { throw JSONError(reason: "document over 2 GiB", offset: 0) }
        self.bytes = bytes
        var scanner = JSONScanner(bytes: bytes)
        scanner.skipWhitespace()
        try parseValue(&scanner, depth: 0)
        scanner.skipWhitespace()
        guard scanner.index == bytes.count else { throw JSONError(reason: "unexpected bytes after the document", offset: scanner.index) }
    }

    public var root: JSONValue { JSONValue(document: self, index: 0) }

    private mutating func parseValue(_ scanner: inout JSONScanner, depth: Int) throws(JSONError) {
        guard scanner.index < bytes.count else { throw JSONError(reason: "unexpected end of the document", offset: scanner.index) }
        guard depth < Self.maxDepth else { throw JSONError(reason: "nested deeper than \(Self.maxDepth)", offset: scanner.index) }
        let start = scanner.index
        let node = nodes.count
        func fail(_ what: String) -> JSONError { JSONError(reason: what, offset: scanner.index) }
        switch bytes[start] {
        case UInt8(ascii: "\""):
            guard let (content, hasEscapes) = scanner.string() else { throw fail("invalid string") }
            append(.string, hasEscapes, content.lowerBound, content.upperBound)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let isObject = bytes[start] == UInt8(ascii: "{")
            append(isObject ? .object : .array, false, start, start)
            scanner.index += 1
            scanner.skipWhitespace()
            let close = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
            if !scanner.take(close) {
                while true {
                    scanner.skipWhitespace()
                    if isObject {
                        guard scanner.index < bytes.count, bytes[scanner.index] == UInt8(ascii: "\""),
                              let (key, hasEscapes) = scanner.string() else { throw fail("expected a member name") }
                        append(.string, hasEscapes, key.lowerBound, key.upperBound)
                        scanner.skipWhitespace()
                        guard scanner.take(UInt8(ascii: ":")) else { throw fail("expected ':'") }
                        scanner.skipWhitespace()
                    }
                    try parseValue(&scanner, depth: depth + 1)
                    scanner.skipWhitespace()
                    if scanner.take(close) { break }
                    guard scanner.take(UInt8(ascii: ",")) else { throw fail(isObject ? "expected ',' or '}'" : "expected ',' or ']'") }
                }
            }
            nodes[node].end = Int32(scanner.index)
        case UInt8(ascii: "t"), UInt8(ascii: "f"):
            guard scanner.literal(bytes[start] == UInt8(ascii: "t") ? "true" : "false") else { throw fail("invalid literal") }
            append(.boolean, false, start, scanner.index)
        case UInt8(ascii: "n"):
            guard scanner.literal("null") else { throw fail("invalid literal") }
            append(.null, false, start, scanner.index)
        default:
            guard scanner.number() else { throw fail("invalid value") }
            append(.number, false, start, scanner.index)
        }
        nodes[node].after = Int32(nodes.count)
    }

    private mutating func append(_ kind: Kind, _ hasEscapes: Bool, _ start: Int, _ end: Int) {
        nodes.append(Node(kind: kind, hasEscapes: hasEscapes, start: Int32(start), end: Int32(end), after: Int32(nodes.count + 1)))
    }
}

/// One value of a document; valid while the document's bytes are.
public struct JSONValue {
    let document: JSONDocument
    let index: Int

    private var node: JSONDocument.Node { document.nodes[index] }

    public var kind: JSONDocument.Kind { node.kind }
    /// A string's content as written (escapes not decoded), or a scalar's text, or a container's whole text.
    public var raw: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: document.bytes[Int(node.start)..<Int(node.end)])
    }
    public var hasEscapes: Bool { node.hasEscapes }
    /// The whole value as written, quotes included for a string.
    public var text: UnsafeRawBufferPointer {
        kind == .string ? UnsafeRawBufferPointer(rebasing: document.bytes[Int(node.start - 1)..<Int(node.end + 1)]) : raw
    }

    /// Calls `body` with each member, without building an array.
    public func forEachMember(_ body: (_ name: JSONValue, _ value: JSONValue) throws -> Void) rethrows {
        guard kind == .object else { return }
        var child = index + 1
        let end = Int(node.after)
        while child < end {
            let value = child + 1
            try body(JSONValue(document: document, index: child), JSONValue(document: document, index: value))
            child = Int(document.nodes[value].after)
        }
    }

    /// Calls `body` with each element of an array.
    public func forEachElement(_ body: (JSONValue) throws -> Void) rethrows {
        guard kind == .array else { return }
        var child = index + 1
        let end = Int(node.after)
        while child < end {
            try body(JSONValue(document: document, index: child))
            child = Int(document.nodes[child].after)
        }
    }

    /// The first member called `name` (compared as written: names with escapes never match).
    public subscript(_ name: StaticString) -> JSONValue? {
        var found: JSONValue?
        forEachMember { key, value in
            if found == nil, !key.hasEscapes, key.raw.elementsEqual(UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount)) {
                found = value
            }
        }
        return found
    }

    /// Whether this is a string equal to `text`.
    public func isString(_ text: StaticString) -> Bool {
        kind == .string && !hasEscapes && raw.elementsEqual(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// A string's decoded bytes; nil for other kinds.
    public var stringBytes: [UInt8]? {
        guard kind == .string else { return nil }
        return hasEscapes ? JSONUnescaping.decoded(raw) : Array(raw)
    }

    /// A number, or a string holding one (OTLP's JSON writes 64-bit integers as strings), as an integer.
    public var int64: Int64? {
        guard kind == .number || kind == .string else { return nil }
        return Int64(String(decoding: raw, as: UTF8.self)) ?? Double(String(decoding: raw, as: UTF8.self)).flatMap {
            $0.isFinite && abs($0) < 9.2e18 ? Int64($0) : nil
        }
    }

    public var double: Double? {
        guard kind == .number || kind == .string else { return nil }
        return Double(String(decoding: raw, as: UTF8.self))
    }
}
