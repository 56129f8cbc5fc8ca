// The ring as a record source, with its fast paths: a text scan over the arena when every match needs some
// text (LogRing+TextScan.swift), block summaries that skip blocks of ids whose levels and services cannot
// match, and summaries read from two words of each slot (forEachSummaryBatch, in LogRing.swift).

extension LogRing: RecordSource {
    public func walkNewestFirst(_ wanted: Range<UInt64>, hints: ScanHints, _ visit: (LogRecord) -> Bool,
                                discardTorn: () -> Void) -> WalkEnd {
        // Ids below the oldest stored are gone: never walk (or skip) through them.
        var (ids, goneBefore) = held(wanted)

        enum Step { case next, end(WalkEnd) }
        func step(_ id: UInt64) -> Step {
            var (visited, keepGoing) = (false, true)
            let held: Void? = read(id) { record in
                visited = true
                keepGoing = visit(record)
            }
            guard held != nil else {
                if visited { discardTorn() }
                return .end(.gone(below: id + 1))
            }
            return keepGoing ? .next : .end(.stopped(at: id))
        }

        if let needle = hints.requiredText, needle.count >= Self.minimumScanBytes {
            if let since = hints.receivedSince { ids = ids.clamped(to: firstID(receivedSince: since, among: ids)..<ids.upperBound) }
            var end = WalkEnd.exhausted
            let scan = forEachRecord(containing: needle, in: ids) { id in
                guard case .end(let reason) = step(id) else { return true }
                end = reason
                return false
            }
            if case .gone = scan { return scan }
            return end == .exhausted ? goneBefore : end
        }
        // Record by record, skipping the blocks whose summaries rule out a match.
        let key = hints.blockKey
        var current = ids.upperBound
        while current > ids.lowerBound {
            let block = (current - 1) >> BlockSummaries.idsPerBlockShift
            let blockStart = max(block << BlockSummaries.idsPerBlockShift, ids.lowerBound)
            guard key.isAny || blockSummaries.mayHold(block: block, key) else {
                current = blockStart
                continue
            }
            while current > blockStart {
                current -= 1
                if case .end(let reason) = step(current) { return reason }
            }
        }
        return goneBefore
    }

    /// Shorter needles are so common that reading each record is as quick as searching the text.
    static let minimumScanBytes = 3

    /// Receive times grow with ids (one writer stamps them from the clock): a binary search. An evicted record
    /// counts as older than any time.
    public func firstID(receivedSince time: Int64, among ids: Range<UInt64>) -> UInt64 {
        var (low, high) = (ids.lowerBound, ids.upperBound)
        while low < high {
            let middle = low + (high - low) / 2
            if let received = read(middle, { $0.receivedAtMilliseconds }), received >= time { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
