// A search as ClickHouse SQL, for `source=cluster`: the query language, the original filters and the window
// as one WHERE condition over the shipped table (ClickHouseSchema's columns), meaning what they mean locally.
// Pure and table-tested. The SQL runs the same on 18.16 and current releases (../shared/CLICKHOUSE.md): no
// ILIKE, no `true`, regexes case-insensitive only as `(?i:…)`. Every user string goes through SQLText.
//
// Locally, words match ignoring ASCII case at word boundaries (a word byte is a letter, a digit, `_` or any
// byte of a non-ASCII character); here `positionCaseInsensitive` (ASCII case, like ours) finds the bytes and a
// regex checks the boundaries. Services and hosts compare with ASCII case folded (`lower`), wildcards as LIKE.

public enum ClickHouseSQL {
    /// The condition selecting the records `filter` matches inside `window`.
    public static func condition(_ filter: RecordFilter, _ window: ClusterWindow) -> String {
        var terms = window.conditions
        if filter.matchesNothing { terms.append("0") }
        if let level = filter.level { terms.append("level = \(SQLText.literal(level.name))") }
        if let service = filter.service { terms.append(service.isEmpty ? "service = ''" : "lower(service) = \(text(service))") }
        for field in filter.fields {
            let name = text(field.name)
            terms.append("has(field_keys, \(name)) AND field_values[indexOf(field_keys, \(name))] = \(text(field.value))")
        }
        if !filter.query.isEmpty { terms.append("positionCaseInsensitive(msg, \(text(filter.query))) > 0") }
        if let expression = filter.expression { terms.append(condition(expression)) }
        return terms.isEmpty ? "1" : terms.map { "(\($0))" }.joined(separator: " AND ")
    }

    static func condition(_ query: Query) -> String {
        switch query {
        case .text(let needle):
            return words(needle, wordStart: true, wordEnd: true)
        case .partialText(let needle, let wordStart, let wordEnd):
            return words(needle, wordStart: wordStart, wordEnd: wordEnd)
        case .level(let comparison, let level):
            let names = LogLevel.allCases.filter { comparison.holds($0, level) }.map { SQLText.literal($0.name) }
            return names.isEmpty ? "0" : "level IN (\(names.joined(separator: ", ")))"
        case .service(let pattern):
            // A record without a service is "unknown", as the API shows it.
            let unknown = Array("unknown".utf8).withUnsafeBytes { pattern.matches($0) }
            return "lower(service) LIKE \(like(pattern))" + (unknown ? " OR service = ''" : "")
        case .host(let pattern):
            return "lower(host) LIKE \(like(pattern))"
        case .field(let name, let pattern):
            let key = text(name)
            return "has(field_keys, \(key)) AND lower(field_values[indexOf(field_keys, \(key))]) LIKE \(like(pattern))"
        case .regex(let regex):
            return "match(msg, \(SQLText.literal(regex.ignoringCase ? "(?i:\(regex.pattern))" : regex.pattern)))"
        case .not(let query):
            return "NOT (\(condition(query)))"
        case .and(let queries):
            return queries.isEmpty ? "1" : queries.map { "(\(condition($0)))" }.joined(separator: " AND ")
        case .or(let queries):
            return queries.isEmpty ? "0" : queries.map { "(\(condition($0)))" }.joined(separator: " OR ")
        }
    }

    /// Lower-cased `needle` in the text, beginning and ending at word boundaries where asked (and where the
    /// needle's own first or last byte is a word byte: a needle ending in `-` ends at a boundary already).
    private static func words(_ needle: [UInt8], wordStart: Bool, wordEnd: Bool) -> String {
        let found = "positionCaseInsensitive(msg, \(text(needle))) > 0"
        guard let first = needle.first, let last = needle.last else { return "1" }
        let (checkStart, checkEnd) = (wordStart && Tokens.isWordByte(first), wordEnd && Tokens.isWordByte(last))
        guard checkStart || checkEnd else { return found }
        let pattern = (checkStart ? "(?:^|\(nonWord))" : "") + regexLiteral(needle) + (checkEnd ? "(?:\(nonWord)|$)" : "")
        return "\(found) AND match(msg, \(SQLText.literal("(?i:\(pattern))")))"
    }

    /// Not a word character: any ASCII byte but letters, digits and `_` (non-ASCII characters are word bytes).
    private static let nonWord = #"[^0-9A-Za-z_\x{80}-\x{10FFFF}]"#

    /// `bytes` as a regex matching them literally: letters and digits as they are, other ASCII as hex escapes.
    static func regexLiteral(_ bytes: [UInt8]) -> String {
        var pattern = ""
        for scalar in String(decoding: bytes, as: UTF8.self).unicodeScalars {
            if scalar.isASCII, !(scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)) {
                pattern += "\\x{" + String(scalar.value, radix: 16) + "}"
            } else {
                pattern.unicodeScalars.append(scalar)
            }
        }
        return pattern
    }

    /// A wildcard pattern (lower-cased, `*` for any run) as a LIKE literal.
    private static func like(_ pattern: Pattern) -> String {
        var like = ""
        for scalar in String(decoding: pattern.bytes, as: UTF8.self).unicodeScalars {
            switch scalar {
            case "*": like += "%"
            case "%", "_", "\\": like += "\\" + String(scalar)
            default: like.unicodeScalars.append(scalar)
            }
        }
        return SQLText.literal(like)
    }

    private static func text(_ bytes: [UInt8]) -> String { SQLText.literal(String(decoding: bytes, as: UTF8.self)) }
}

/// Which stretch of the cluster's history a search covers: receive times, and either a cursor for paging
/// newest first across nodes, or one node's ids (a permalink's neighbours).
public struct ClusterWindow: Equatable, Sendable {
    public var since: Int64?
    public var until: Int64?
    /// Only records ordered after this one, newest first: older receive time, then node, then id.
    public var before: ClusterCursor?
    /// Only this node's records.
    public var node: String?
    /// Only ids above / below these (with `node`).
    public var afterID: UInt64?
    public var beforeID: UInt64?

    public init(since: Int64? = nil, until: Int64? = nil, before: ClusterCursor? = nil, node: String? = nil,
                afterID: UInt64? = nil, beforeID: UInt64? = nil) {
        (self.since, self.until, self.before, self.node, self.afterID, self.beforeID) = (since, until, before, node, afterID, beforeID)
    }

    /// `ts` (whole seconds, the partition and sorting key) narrows first; `ts_ms` decides exactly.
    var conditions: [String] {
        var terms: [String] = []
        if let since {
            terms.append("ts >= toDateTime(\(max(0, since) / 1000), 'UTC') AND ts_ms >= \(max(0, since))")
        }
        if let until {
            terms.append("ts <= toDateTime(\(max(0, until) / 1000), 'UTC') AND ts_ms <= \(max(0, until))")
        }
        if let before {
            let node = SQLText.literal(before.node)
            terms.append("ts <= toDateTime(\(max(0, before.time) / 1000), 'UTC') AND (ts_ms < \(max(0, before.time)) OR (ts_ms = \(max(0, before.time)) "
                + "AND (node < \(node) OR (node = \(node) AND id < \(before.id)))))")
        }
        if let node { terms.append("node = \(SQLText.literal(node))") }
        if let afterID { terms.append("id > \(afterID)") }
        if let beforeID { terms.append("id < \(beforeID)") }
        return terms
    }
}

/// Where a newest-first listing of the cluster stopped: `<receive ms>:<id>:<node>` in the API.
public struct ClusterCursor: Equatable, Sendable {
    public var time: Int64
    public var id: UInt64
    public var node: String

    public init(time: Int64, id: UInt64, node: String) { (self.time, self.id, self.node) = (time, id, node) }

    public init?(_ text: String) {
        let parts = text.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let time = Int64(parts[0]), time >= 0, let id = UInt64(parts[1]), !parts[2].isEmpty else { return nil }
        self.init(time: time, id: id, node: String(parts[2]))
    }

    public var text: String { "\(time):\(id):\(node)" }
}
