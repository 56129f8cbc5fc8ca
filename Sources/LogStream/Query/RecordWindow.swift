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
        let (back, overflow) = amount.multipliedReportingOverflow(by: unit)
        return overflow ? nil : now - back
    }

    /// Records arrive in receive order, so a newest-first scan may stop at the first one older than `since`.
    func isBeforeWindow(_ record: LogRecord) -> Bool {
        since.map { record.receivedAtMilliseconds < $0 } ?? false
    }

    func isAfterWindow(_ record: LogRecord) -> Bool {
        until.map { record.receivedAtMilliseconds > $0 } ?? false
    }

    /// The ids the window covers among those `ring` has given out (the oldest may be evicted by now).
    func ids(in ring: LogRing) -> Range<UInt64> {
        let after = afterID ?? 0
        let lowest = after < .max ? after + 1 : .max  // hostile input: after=2^64-1 must not overflow
        let highest = min(beforeID ?? .max, ring.storedIDs.upperBound)
        return lowest < highest ? lowest..<highest : highest..<highest
    }

    /// Calls `body` with the records of `ring` inside the window that `filter` matches, newest first, while it
    /// returns true. The walk ends at the first record older than `since`, and at the first one evicted (all
    /// older ones are gone too); if that one was evicted while `body` read it, `discardTorn` is told to drop
    /// what `body` took from it. Returns whether no record of the window was left unvisited.
    ///
    /// When every match must contain some text (a word, a phrase, a regex's literal), only the records whose
    /// bytes hold it are read: the ring's text scan finds them (LogRing+TextScan.swift). Otherwise blocks of
    /// records whose levels and services cannot match are skipped unread (BlockSummaries).
    @discardableResult
    func walkNewestFirst(in ring: LogRing, matching filter: RecordFilter, _ body: (LogRecord) -> Bool,
                         discardTorn: () -> Void = {}) -> Bool {
        // Ids below the oldest stored are gone: never walk (or skip) through them.
        var ids = ids(in: ring)
        ids = max(ids.lowerBound, min(ring.storedIDs.lowerBound, ids.upperBound))..<ids.upperBound
        enum Step { case next, end(isComplete: Bool) }
        func visit(_ id: UInt64) -> Step {
            var (visited, keepGoing, isPast) = (false, true, false)
            let stored: Void? = ring.read(id) { record in
                if isBeforeWindow(record) { isPast = true; return }
                guard !isAfterWindow(record), filter.matches(record) else { return }
                visited = true
                keepGoing = body(record)
            }
            if stored == nil {
                if visited { discardTorn() }
                return .end(isComplete: true)
            }
            if isPast { return .end(isComplete: true) }
            return keepGoing ? .next : .end(isComplete: id == ids.lowerBound)
        }

        if let needle = filter.requiredText, needle.count >= Self.minimumScanBytes {
            ids = ids.clamped(to: firstID(receivedSince: since, in: ring, among: ids)..<ids.upperBound)
            var isComplete = true
            ring.forEachRecord(containing: needle, in: ids) { id in
                guard case .end(let complete) = visit(id) else { return true }
                isComplete = complete
                return false
            }
            return isComplete
        }
        // Record by record, skipping the blocks whose summaries rule out a match.
        let key = filter.blockKey
        var current = ids.upperBound
        while current > ids.lowerBound {
            let block = (current - 1) >> BlockSummaries.idsPerBlockShift
            let blockStart = max(block << BlockSummaries.idsPerBlockShift, ids.lowerBound)
            guard key.isAny || ring.blockSummaries.mayHold(block: block, key) else {
                current = blockStart
                continue
            }
            while current > blockStart {
                current -= 1
                if case .end(let isComplete) = visit(current) { return isComplete }
            }
        }
        return true
    }

    /// Shorter needles are so common that reading each record is as quick as searching the text.
    static let minimumScanBytes = 3

    /// The first id among `ids` received at or after `since` (receive times grow with ids: one writer stamps
    /// them from the clock), so that a text scan need not read older bytes.
    private func firstID(receivedSince since: Int64?, in ring: LogRing, among ids: Range<UInt64>) -> UInt64 {
        guard let since else { return ids.lowerBound }
        var (low, high) = (ids.lowerBound, ids.upperBound)
        while low < high {
            let middle = low + (high - low) / 2
            // An evicted record counts as older than the window.
            if let time = ring.read(middle, { $0.receivedAtMilliseconds }), time >= since { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
