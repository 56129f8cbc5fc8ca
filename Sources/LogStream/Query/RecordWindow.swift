// Which stretch of the ring a listing covers: cursor ids (`before=`, `after=`) and receive times (`since=`,
// `until=`, as RFC 3339 or as a duration back from now: `90s`, `15m`, `2h`, `7d`).

public struct RecordWindow: Equatable, Sendable {
    /// Only ids below this (the next page of a newest-first listing).
    public var beforeID: UInt64?
    /// Only ids above this (what arrived since a client last looked).
    public var afterID: UInt64?
    /// Received at or after, in milliseconds since the epoch.
    public var since: Int64?
    /// Received at or before.
    public var until: Int64?

    public init(beforeID: UInt64? = nil, afterID: UInt64? = nil, since: Int64? = nil, until: Int64? = nil) {
        self.beforeID = beforeID
        self.afterID = afterID
        self.since = since
        self.until = until
    }

    /// From query parameters; the error names the parameter and what it should look like.
    public init(parameters: [String: String], now: Int64) throws(QueryError) {
        func id(_ name: String) throws(QueryError) -> UInt64? {
            guard let text = parameters[name], !text.isEmpty else { return nil }
            guard let value = UInt64(text) else { throw QueryError(message: "\(name) must be a record id", position: 0) }
            return value
        }
        func time(_ name: String) throws(QueryError) -> Int64? {
            guard let text = parameters[name], !text.isEmpty else { return nil }
            guard let value = Self.time(text, now: now) else {
                throw QueryError(message: "\(name) must be an RFC 3339 time or a duration such as 15m, 2h or 7d", position: 0)
            }
            return value
        }
        self.init(beforeID: try id("before"), afterID: try id("after"), since: try time("since"), until: try time("until"))
    }

    /// An RFC 3339 time, or now minus a duration (`500ms`, `90s`, `15m`, `2h`, `7d`).
    static func time(_ text: String, now: Int64) -> Int64? {
        let bytes = Array(text.utf8)
        if let absolute = bytes.withUnsafeBytes({ Timestamp.milliseconds(rfc3339: $0) }) { return absolute }
        return duration(text).map { now - $0 }
    }

    /// A span written as a number and a unit (`250ms`, `90s`, `15m`, `2h`, `7d`) in milliseconds; nil for
    /// anything else. (The flags that take durations read them the same way.)
    public static func duration(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        let digits = bytes.prefix { $0 &- 0x30 < 10 }
        guard !digits.isEmpty, digits.count <= 12, let amount = Int64(String(decoding: digits, as: UTF8.self)) else { return nil }
        let unit: Int64
        switch String(decoding: bytes[digits.count...], as: UTF8.self) {
        case "ms": unit = 1
        case "s": unit = 1000
        case "m": unit = 60_000
        case "h": unit = 3_600_000
        case "d": unit = 86_400_000
        default: return nil
        }
        let (span, overflow) = amount.multipliedReportingOverflow(by: unit)
        return overflow ? nil : span
    }

    /// Records arrive in receive order, so a newest-first scan may stop at the first one older than `since`.
    func isBeforeWindow(_ record: LogRecord) -> Bool {
        since.map { record.receivedAtMilliseconds < $0 } ?? false
    }

    func isAfterWindow(_ record: LogRecord) -> Bool {
        until.map { record.receivedAtMilliseconds > $0 } ?? false
    }

    /// The ids the window covers among those `source` has given out (the oldest may be gone by now).
    func ids(in source: any RecordSource) -> Range<UInt64> {
        let after = afterID ?? 0
        let lowest = after < .max ? after + 1 : .max  // hostile input: after=2^64-1 must not overflow
        let highest = min(beforeID ?? .max, source.storedIDs.upperBound)
        return lowest < highest ? lowest..<highest : highest..<highest
    }

    /// What the source may use to pass over records this window and `filter` rule out.
    func hints(for filter: RecordFilter) -> ScanHints {
        ScanHints(requiredText: filter.requiredText, blockKey: filter.blockKey, receivedSince: since, requiredWords: filter.requiredWords)
    }

    /// Calls `body` with the records of `source` inside the window that `filter` matches, newest first, while
    /// it returns true. The walk ends at the first record older than `since`, and where the source holds no
    /// older records; if the last record was torn by eviction while `body` read it, `discardTorn` is told to
    /// drop what `body` took from it. Returns whether no record of the window was left unvisited.
    ///
    /// The source skips what the hints rule out without reading it (the ring: a text scan when every match
    /// needs some text, block summaries otherwise).
    @discardableResult
    func walkNewestFirst(in source: any RecordSource, matching filter: RecordFilter, _ body: (LogRecord) -> Bool,
                         discardTorn: () -> Void = {}) -> Bool {
        let ids = ids(in: source)
        var (isPast, bodySawIt) = (false, false)
        let end = source.walkNewestFirst(ids, hints: hints(for: filter), { record in
            bodySawIt = false
            // Records arrive in receive order, so a newest-first walk may stop at the first one older than `since`.
            if isBeforeWindow(record) {
                isPast = true
                return false
            }
            guard !isAfterWindow(record), filter.matches(record) else { return true }
            bodySawIt = true
            return body(record)
        }, discardTorn: { if bodySawIt { discardTorn() } })
        switch end {
        case .exhausted, .gone: return true
        case .stopped(let id): return isPast || id == ids.lowerBound
        }
    }
}
