// Several sources seen as one history, stitched by id: the newest tier first (the ring), then older ones (the
// disk, later ClickHouse). A walk goes down the newest source until it no longer holds what is asked for, and
// continues in the next one from exactly the id where the last stopped, so each record is visited once even
// when the ring evicts it mid-walk.

public final class MergedSource: RecordSource, @unchecked Sendable {
    /// Newest first.
    public let parts: [any RecordSource]

    public init(newestFirst parts: [any RecordSource]) {
        precondition(!parts.isEmpty)
        self.parts = parts
    }

    public var storedIDs: Range<UInt64> {
        let ranges = parts.map(\.storedIDs).filter { !$0.isEmpty }
        guard let lowest = ranges.map(\.lowerBound).min(), let highest = ranges.map(\.upperBound).max() else {
            return parts[0].storedIDs
        }
        return lowest..<highest
    }

    public func read<Result>(_ id: UInt64, _ body: (LogRecord) -> Result) -> Result? {
        for part in parts {
            if let result = part.read(id, body) { return result }
        }
        return nil
    }

    public func walkNewestFirst(_ ids: Range<UInt64>, hints: ScanHints, _ visit: (LogRecord) -> Bool,
                                discardTorn: () -> Void) -> WalkEnd {
        stitched(ids) { part, remaining in part.walkNewestFirst(remaining, hints: hints, visit, discardTorn: discardTorn) }
    }

    public func forEachSummaryBatch(newestFirstIn ids: Range<UInt64>, includingNames: Bool,
                                    _ body: (UnsafeBufferPointer<RecordSummary>) -> Bool) -> WalkEnd {
        stitched(ids) { part, remaining in part.forEachSummaryBatch(newestFirstIn: remaining, includingNames: includingNames, body) }
    }

    public func countLevels(newestFirstIn ids: Range<UInt64>, in buckets: TimeBuckets, levels: UInt64,
                            into counts: UnsafeMutableBufferPointer<UInt64>) -> WalkEnd {
        stitched(ids) { part, remaining in part.countLevels(newestFirstIn: remaining, in: buckets, levels: levels, into: counts) }
    }

    public func firstID(receivedSince time: Int64, among ids: Range<UInt64>) -> UInt64 {
        // Times grow with ids across parts too: the oldest part holding a match has the first one.
        for part in parts.reversed() {
            let held = ids.clamped(to: part.storedIDs)
            guard !held.isEmpty else { continue }
            let first = part.firstID(receivedSince: time, among: held)
            if first < held.upperBound { return first }
        }
        return ids.upperBound
    }

    public func firstHeldID(among ids: Range<UInt64>) -> UInt64 {
        parts.map { $0.firstHeldID(among: ids) }.min() ?? ids.upperBound
    }

    /// Runs `walk` over each part in turn, each over what the newer parts left: a part that ends with
    /// `.gone(below:)` hands the ids below that bound to the next.
    private func stitched(_ ids: Range<UInt64>, _ walk: (any RecordSource, Range<UInt64>) -> WalkEnd) -> WalkEnd {
        var remaining = ids
        var end = WalkEnd.exhausted
        for part in parts {
            guard !remaining.isEmpty else { return .exhausted }
            end = walk(part, remaining)
            guard case .gone(let below) = end else { return end }
            remaining = remaining.lowerBound..<min(remaining.upperBound, max(remaining.lowerBound, below))
        }
        return remaining.isEmpty ? .exhausted : end
    }
}
