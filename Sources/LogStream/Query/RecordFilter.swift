// The original LogStream's filters: a case-insensitive substring of the line, an exact level and an exact
// service (both case-insensitive here, unlike the original); exact structured-field values; and a parsed
// query (`q`). All parts must match; empty parts match everything.

public struct RecordFilter: Equatable, Sendable {
    /// Lower-cased needle.
    public private(set) var query: [UInt8]
    public var level: LogLevel?
    /// Lower-cased service name.
    public private(set) var service: [UInt8]?
    /// Field name and exact value pairs that must all be present.
    public private(set) var fields: [(name: [UInt8], value: [UInt8])] = []
    /// A level or service was asked for that no record can have.
    public private(set) var matchesNothing = false
    /// The query language's expression, if one was given.
    public var expression: Query?

    public static func == (lhs: RecordFilter, rhs: RecordFilter) -> Bool {
        lhs.query == rhs.query && lhs.level == rhs.level && lhs.service == rhs.service
            && lhs.matchesNothing == rhs.matchesNothing && lhs.expression == rhs.expression
            && lhs.fields.elementsEqual(rhs.fields) { $0.name == $1.name && $0.value == $1.value }
    }

    public static let everything = RecordFilter()

    public init(query: String? = nil, level: String? = nil, service: String? = nil, fields: [String: String] = [:],
                expression: Query? = nil) {
        self.expression = expression
        self.fields = fields.sorted { $0.key < $1.key }.map { (Array($0.key.utf8), Array($0.value.utf8)) }
        self.query = Array((query ?? "").utf8).map(ASCII.lowercased)
        if let level, !level.isEmpty {
            if let parsed = LogLevel(name: level) { self.level = parsed } else { matchesNothing = true }
        }
        if let service, !service.isEmpty {
            self.service = service.lowercased() == "unknown" ? [] : Array(service.utf8).map(ASCII.lowercased)
        }
    }

    /// Lower-cased bytes every matching line contains, the longest known (see `Query.requiredText`), or nil.
    public var requiredText: [UInt8]? {
        let candidates = [query.isEmpty ? nil : query, expression?.requiredText].compactMap { $0 }
        return candidates.max { $0.count < $1.count }
    }

    /// The levels and services a match can have, for skipping whole blocks of records (BlockSummaries).
    /// Whole words every match holds, for the disk's word filters (the original `query=` is a substring:
    /// it gives none).
    var requiredWords: [UInt64] { expression?.requiredWords ?? [] }

    var blockKey: BlockKey {
        if matchesNothing { return BlockKey(levels: 0, services: 0) }
        var key = expression?.blockKey ?? .any
        if let level { key = key.intersection(BlockKey(levels: 1 << UInt64(level.rawValue), services: ~0)) }
        if let service {
            key = key.intersection(BlockKey(levels: ~0, services: BlockSummaries.serviceBit(service.isEmpty ? Array("unknown".utf8) : service)))
        }
        return key
    }

    /// The levels a record must have when nothing but its level decides a match (`level:>=warn`, the
    /// original's `level=`), as BlockKey level bits; nil when anything else counts too.
    var levelsWhenOnlyLevelCounts: UInt64? {
        guard query.isEmpty, service == nil, fields.isEmpty, !matchesNothing else { return matchesNothing ? 0 : nil }
        guard var levels = expression.map({ $0.matchingLevels }) ?? ~0 else { return nil }
        if let level { levels &= 1 << UInt64(level.rawValue) }
        return levels
    }

    public func matches(_ record: LogRecord) -> Bool {
        if matchesNothing { return false }
        if let level, record.level != level { return false }
        if let service, !ASCII.equalsIgnoringCase(record.service, service) { return false }
        for field in fields {
            guard let value = record.fields.value(named: field.name), value.elementsEqual(field.value) else { return false }
        }
        if !query.isEmpty, !ASCII.contains(record.line, lowercasedNeedle: query) { return false }
        return expression?.matches(record) ?? true
    }
}
