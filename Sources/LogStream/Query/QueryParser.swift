// The query language, read by recursive descent over the bytes of `q`:
//
//   query   = or
//   or      = and ("OR" and)*
//   and     = unary ("AND"? unary)*          -- juxtaposition is AND
//   unary   = ("-" | "NOT") unary | primary
//   primary = "(" or ")" | term
//   term    = word | "quoted phrase" | key ":" value | /regex/ | /regex/i
//   key     = level | service | host | field.<name>      -- other `a:b` words are plain words
//   value   = word | "quoted phrase"; level values may start with >=, >, <=, <
//
// Input is hostile: the text, the nesting and the number of terms are bounded, and every mistake is a
// QueryError that says what is wrong and where (the API answers it with 400).

public struct QueryError: Error, Equatable, CustomStringConvertible {
    public var message: String
    /// Byte offset in the query text.
    public var position: Int
    public var description: String { "\(message) at position \(position)" }
}

public enum QueryParser {
    public static let maxBytes = 4096
    public static let maxDepth = 32
    public static let maxTerms = 256

    /// Nil for a query with no terms (blank): it matches everything.
    public static func parse(_ text: String) throws(QueryError) -> Query? {
        let bytes = Array(text.utf8)
        guard bytes.count <= maxBytes else { throw QueryError(message: "the query is longer than \(maxBytes) bytes", position: maxBytes) }
        var parser = Parser(tokens: try tokenize(bytes), end: bytes.count)
        guard !parser.tokens.isEmpty else { return nil }
        let query = try parser.or(depth: 0)
        if let extra = parser.peek {
            throw QueryError(message: extra.kind == .close ? "unbalanced ')'" : "unexpected \(extra.kind)", position: extra.position)
        }
        return query
    }

    // MARK: Tokens

    struct Token: Equatable {
        enum Kind: Equatable, CustomStringConvertible {
            case open, close, not, and, or
            /// A word or phrase; `quoted` phrases are never keywords or `key:value`.
            case term(bytes: [UInt8], quoted: Bool)
            /// `key:` followed by its value.
            case keyed(key: [UInt8], value: [UInt8])
            /// `/pattern/` or `/pattern/i`, the pattern as written.
            case regex(pattern: [UInt8], ignoringCase: Bool)

            var description: String {
                switch self {
                case .open: "'('"
                case .close: "')'"
                case .not: "NOT"
                case .and: "AND"
                case .or: "OR"
                case .term, .keyed, .regex: "term"
                }
            }
        }
        var kind: Kind
        var position: Int
    }

    static func tokenize(_ bytes: [UInt8]) throws(QueryError) -> [Token] {
        var tokens: [Token] = []
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            let start = index
            switch byte {
            case 0x20, 0x09, 0x0A, 0x0D:
                index += 1
                continue
            case UInt8(ascii: "("):
                tokens.append(Token(kind: .open, position: start))
                index += 1
            case UInt8(ascii: ")"):
                tokens.append(Token(kind: .close, position: start))
                index += 1
            case UInt8(ascii: "\""):
                let phrase = try quoted(bytes, at: &index)
                guard !phrase.isEmpty else { throw QueryError(message: "empty phrase", position: start) }
                tokens.append(Token(kind: .term(bytes: phrase, quoted: true), position: start))
            case UInt8(ascii: "/"):
                index += 1
                while index < bytes.count, bytes[index] != UInt8(ascii: "/") { index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1 }
                guard index < bytes.count else { throw QueryError(message: "unclosed regular expression", position: start) }
                let pattern = Array(bytes[(start + 1)..<index])
                index += 1
                let ignoringCase = index < bytes.count && bytes[index] == UInt8(ascii: "i")
                if ignoringCase { index += 1 }
                guard index == bytes.count || isSeparator(bytes[index]) else {
                    throw QueryError(message: "unexpected text after a regular expression", position: index)
                }
                guard !pattern.isEmpty else { throw QueryError(message: "empty regular expression", position: start) }
                tokens.append(Token(kind: .regex(pattern: pattern, ignoringCase: ignoringCase), position: start))
            case UInt8(ascii: "-") where index + 1 < bytes.count && !isWhitespace(bytes[index + 1]) && bytes[index + 1] != UInt8(ascii: ")"):
                tokens.append(Token(kind: .not, position: start))
                index += 1
            default:
                while index < bytes.count, !isSeparator(bytes[index]), bytes[index] != UInt8(ascii: "\"") { index += 1 }
                let word = Array(bytes[start..<index])
                if let colon = word.firstIndex(of: UInt8(ascii: ":")), isKey(word[..<colon]) {
                    var value = Array(word[(colon + 1)...])
                    if value.isEmpty, index < bytes.count, bytes[index] == UInt8(ascii: "\"") { value = try quoted(bytes, at: &index) }
                    guard !value.isEmpty else { throw QueryError(message: "'\(String(decoding: word, as: UTF8.self))' needs a value", position: start) }
                    tokens.append(Token(kind: .keyed(key: Array(word[..<colon]), value: value), position: start))
                } else {
                    tokens.append(Token(kind: keyword(word) ?? .term(bytes: word, quoted: false), position: start))
                }
            }
            guard tokens.count <= maxTerms * 2 else { throw QueryError(message: "the query has too many terms", position: start) }
        }
        return tokens
    }

    /// A `"..."` phrase starting at `index` (`\"` and `\\` escaped); moves `index` past it.
    private static func quoted(_ bytes: [UInt8], at index: inout Int) throws(QueryError) -> [UInt8] {
        let start = index
        var phrase: [UInt8] = []
        index += 1
        while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
            if bytes[index] == UInt8(ascii: "\\"), index + 1 < bytes.count { index += 1 }
            phrase.append(bytes[index])
            index += 1
        }
        guard index < bytes.count else { throw QueryError(message: "unclosed quote", position: start) }
        index += 1
        return phrase
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }

    private static func isSeparator(_ byte: UInt8) -> Bool {
        isWhitespace(byte) || byte == UInt8(ascii: "(") || byte == UInt8(ascii: ")")
    }

    private static func isKey(_ key: ArraySlice<UInt8>) -> Bool {
        let name = String(decoding: key, as: UTF8.self).lowercased()
        return name == "level" || name == "service" || name == "host" || (name.hasPrefix("field.") && name.count > 6)
    }

    private static func keyword(_ word: [UInt8]) -> Token.Kind? {
        switch String(decoding: word, as: UTF8.self) {
        case "AND": .and
        case "OR": .or
        case "NOT": .not
        default: nil
        }
    }

    // MARK: Grammar

    struct Parser {
        let tokens: [Token]
        let end: Int
        var index = 0

        var peek: Token? { index < tokens.count ? tokens[index] : nil }

        mutating func or(depth: Int) throws(QueryError) -> Query {
            var alternatives = [try and(depth: depth)]
            while peek?.kind == .or {
                index += 1
                alternatives.append(try and(depth: depth))
            }
            return alternatives.count == 1 ? alternatives[0] : .or(alternatives)
        }

        mutating func and(depth: Int) throws(QueryError) -> Query {
            var parts = [try unary(depth: depth)]
            while let next = peek, next.kind != .or, next.kind != .close {
                if next.kind == .and { index += 1 }
                parts.append(try unary(depth: depth))
            }
            return parts.count == 1 ? parts[0] : .and(parts)
        }

        mutating func unary(depth: Int) throws(QueryError) -> Query {
            guard depth < QueryParser.maxDepth else {
                throw QueryError(message: "the query nests deeper than \(QueryParser.maxDepth) levels", position: peek?.position ?? end)
            }
            guard let token = peek else { throw QueryError(message: "a term is missing", position: end) }
            switch token.kind {
            case .not:
                index += 1
                return .not(try unary(depth: depth + 1))
            case .open:
                index += 1
                guard peek?.kind != .close else { throw QueryError(message: "empty parentheses", position: token.position) }
                let inner = try or(depth: depth + 1)
                guard peek?.kind == .close else { throw QueryError(message: "unbalanced '('", position: token.position) }
                index += 1
                return inner
            case .term(let bytes, let quoted):
                index += 1
                return QueryParser.text(bytes.map(ASCII.lowercased), quoted: quoted)
            case .keyed(let key, let value):
                index += 1
                return try QueryParser.keyed(key: key, value: value, at: token.position)
            case .regex(let pattern, let ignoringCase):
                index += 1
                do {
                    return .regex(try Regex(String(decoding: pattern, as: UTF8.self), ignoringCase: ignoringCase))
                } catch {
                    throw QueryError(message: "the regular expression \(error.message)", position: token.position)
                }
            case .close, .and, .or:
                throw QueryError(message: "a term is missing before \(token.kind)", position: token.position)
            }
        }
    }

    /// A free word or a quoted phrase: whole words, unless a bare word begins or ends with `*` (a lone `*`,
    /// or `*` inside a word, is an ordinary byte).
    static func text(_ bytes: [UInt8], quoted: Bool) -> Query {
        let star = UInt8(ascii: "*")
        guard !quoted, bytes.count > 1, bytes.first == star || bytes.last == star else { return .text(bytes) }
        let openStart = bytes.first == star
        let openEnd = bytes.last == star
        let inner = Array(bytes[(openStart ? 1 : 0)..<(bytes.count - (openEnd ? 1 : 0))])
        return inner.isEmpty ? .text(bytes) : .partialText(inner, wordStart: !openStart, wordEnd: !openEnd)
    }

    static func keyed(key: [UInt8], value: [UInt8], at position: Int) throws(QueryError) -> Query {
        let name = String(decoding: key, as: UTF8.self).lowercased()
        switch name {
        case "level":
            var text = String(decoding: value, as: UTF8.self)
            var comparison = Query.LevelComparison.equal
            for (prefix, kind) in [(">=", Query.LevelComparison.atLeast), ("<=", .atMost), (">", .above), ("<", .below)] where text.hasPrefix(prefix) {
                comparison = kind
                text.removeFirst(prefix.count)
                break
            }
            guard let level = LogLevel(name: text) else {
                throw QueryError(message: "unknown level '\(text)' (trace, debug, info, warn, error, fatal)", position: position)
            }
            return .level(comparison, level)
        case "service":
            return .service(Pattern(value))
        case "host":
            return .host(Pattern(value))
        default:
            return .field(name: Array(key.dropFirst(6)), Pattern(value))
        }
    }
}
