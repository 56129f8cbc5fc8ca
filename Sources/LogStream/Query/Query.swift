// A parsed search (`q=`): free words and phrases, `level:`, `service:`, `host:`, `field.<name>:`, `/regex/`,
// NOT, AND, OR and parentheses. Pure: it reads a record through the views the ring hands out and never copies it.

public indirect enum Query: Equatable, Sendable {
    /// Words or a phrase of the line, ignoring ASCII case (already lower-cased): a match begins and ends at
    /// word boundaries, so `time` does not match `timeout` (words as `Tokens` cuts them for disk filters).
    case text([UInt8])
    /// The same with a `*` at either end: `time*` matches `timeout`, `*out` and `*meo*` match it too.
    case partialText([UInt8], wordStart: Bool, wordEnd: Bool)
    /// The record's level compared with one (`level:warn`, `level:>=warn`).
    case level(LevelComparison, LogLevel)
    case service(Pattern)
    case host(Pattern)
    /// A structured field by exact name, its value matched by a pattern.
    case field(name: [UInt8], Pattern)
    /// `/regex/` anywhere in the line.
    case regex(Regex)
    case not(Query)
    case and([Query])
    case or([Query])

    public enum LevelComparison: Equatable, Sendable {
        case equal, atLeast, above, atMost, below

        func holds(_ actual: LogLevel, _ wanted: LogLevel) -> Bool {
            switch self {
            case .equal: actual.rawValue == wanted.rawValue
            case .atLeast: actual.rawValue >= wanted.rawValue
            case .above: actual.rawValue > wanted.rawValue
            case .atMost: actual.rawValue <= wanted.rawValue
            case .below: actual.rawValue < wanted.rawValue
            }
        }
    }

    public func matches(_ record: LogRecord) -> Bool {
        switch self {
        case .text(let needle):
            return ASCII.contains(record.line, lowercasedNeedle: needle, wordStart: true, wordEnd: true)
        case .partialText(let needle, let wordStart, let wordEnd):
            return ASCII.contains(record.line, lowercasedNeedle: needle, wordStart: wordStart, wordEnd: wordEnd)
        case .level(let comparison, let level):
            return comparison.holds(record.level, level)
        case .service(let pattern):
            // A record without a service is "unknown", as the API shows it.
            return record.service.isEmpty ? Self.unknown.withUnsafeBytes { pattern.matches($0) } : pattern.matches(record.service)
        case .host(let pattern):
            return pattern.matches(record.host)
        case .field(let name, let pattern):
            guard let value = record.fields.value(named: name) else { return false }
            return pattern.matches(value)
        case .regex(let regex):
            return regex.matches(record.line)
        case .not(let query):
            return !query.matches(record)
        case .and(let queries):
            return queries.allSatisfy { $0.matches(record) }
        case .or(let queries):
            return queries.contains { $0.matches(record) }
        }
    }

    private static let unknown: [UInt8] = Array("unknown".utf8)

    /// The levels and services a match can have, for skipping blocks (BlockSummaries): exact levels, and a
    /// service only when it is named without wildcards.
    var blockKey: BlockKey {
        // Level terms, and NOT/AND/OR of them alone, have exact levels.
        if let levels = matchingLevels { return BlockKey(levels: levels, services: ~0) }
        switch self {
        case .service(let pattern) where !pattern.bytes.contains(UInt8(ascii: "*")):
            return BlockKey(levels: ~0, services: BlockSummaries.serviceBit(pattern.bytes))
        case .and(let queries):
            return queries.reduce(.any) { $0.intersection($1.blockKey) }
        case .or(let queries):
            return queries.reduce(BlockKey(levels: 0, services: 0)) { $0.union($1.blockKey) }
        case .level, .text, .partialText, .service, .host, .field, .regex, .not:
            return .any
        }
    }

    /// When only the record's level decides a match, the levels that match (as bits by raw value); else nil.
    var matchingLevels: UInt64? {
        switch self {
        case .level(let comparison, let level): return Self.levelBits { comparison.holds($0, level) }
        case .not(let query): return query.matchingLevels.map { ~$0 & Self.levelBits { _ in true } }
        case .and(let queries):
            return queries.reduce(Self.levelBits { _ in true } as UInt64?) { all, query in query.matchingLevels.flatMap { level in all.map { $0 & level } } }
        case .or(let queries):
            return queries.reduce(0 as UInt64?) { all, query in query.matchingLevels.flatMap { level in all.map { $0 | level } } }
        case .text, .partialText, .service, .host, .field, .regex: return nil
        }
    }

    private static func levelBits(where holds: (LogLevel) -> Bool) -> UInt64 {
        LogLevel.allCases.reduce(0) { holds($1) ? $0 | 1 << UInt64($1.rawValue) : $0 }
    }

    /// Lower-cased bytes that every matching line contains (ASCII case aside), the longest such that is known,
    /// or nil: lets a search look for the bytes first and read only the records that hold them.
    public var requiredText: [UInt8]? {
        switch self {
        case .text(let needle), .partialText(let needle, _, _): return needle.isEmpty ? nil : needle
        case .regex(let regex): return regex.requiredLiteral.isEmpty ? nil : regex.requiredLiteral
        case .and(let queries): return queries.compactMap(\.requiredText).max { $0.count < $1.count }
        case .level, .service, .host, .field, .not, .or: return nil
        }
    }

    /// Hashes of whole words every matching line holds (`Tokens.hash`): the disk passes over blocks whose
    /// word filter lacks one. A phrase's inner words are whole; its first and last are whole unless a `*`
    /// leaves that end open.
    public var requiredWords: [UInt64] {
        switch self {
        case .text(let needle): return Self.wholeWords(needle, openStart: false, openEnd: false)
        case .partialText(let needle, let wordStart, let wordEnd): return Self.wholeWords(needle, openStart: !wordStart, openEnd: !wordEnd)
        case .and(let queries): return Array(Set(queries.flatMap(\.requiredWords)))
        case .level, .service, .host, .field, .regex, .not, .or: return []
        }
    }

    private static func wholeWords(_ needle: [UInt8], openStart: Bool, openEnd: Bool) -> [UInt64] {
        var words: [UInt64] = []
        var start = 0
        while start < needle.count {
            guard Tokens.isWordByte(needle[start]) else { start += 1; continue }
            var end = start
            while end < needle.count, Tokens.isWordByte(needle[end]) { end += 1 }
            if !(start == 0 && openStart) && !(end == needle.count && openEnd) {
                words.append(needle[start..<end].withUnsafeBytes { Tokens.hash($0) })
            }
            start = end
        }
        return words
    }
}

/// A value with `*` wildcards (`payment*`, `*-db`, `a*b`), compared without regard to ASCII case. Matching is
/// the two-pointer wildcard walk: at most (value length × pattern length) steps, whatever the input.
public struct Pattern: Equatable, Sendable {
    /// Lower-cased pattern bytes; `*` is the wildcard.
    public let bytes: [UInt8]

    public init(_ text: [UInt8]) { bytes = text.map(ASCII.lowercased) }

    public func matches(_ value: UnsafeRawBufferPointer) -> Bool {
        let star = UInt8(ascii: "*")
        var (valueIndex, patternIndex) = (0, 0)
        var resume: (pattern: Int, value: Int)?  // after the last star: where to retry from
        while valueIndex < value.count {
            if patternIndex < bytes.count, bytes[patternIndex] == star {
                resume = (patternIndex + 1, valueIndex)
                patternIndex += 1
            } else if patternIndex < bytes.count, bytes[patternIndex] == ASCII.lowercased(value[valueIndex]) {
                patternIndex += 1
                valueIndex += 1
            } else if let last = resume {
                // Let the last star swallow one more byte and try again from there.
                resume = (last.pattern, last.value + 1)
                patternIndex = last.pattern
                valueIndex = last.value + 1
            } else {
                return false
            }
        }
        while patternIndex < bytes.count, bytes[patternIndex] == star { patternIndex += 1 }
        return patternIndex == bytes.count
    }
}
