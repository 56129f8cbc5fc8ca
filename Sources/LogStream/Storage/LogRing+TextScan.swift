// Finding records by a word without visiting every record: the arena holds records' bytes back to back in id
// order, so one SIMD search runs over it a chunk at a time (newest chunk first) and each hit is mapped to its
// record by the slots' start offsets. A rare word over a million records then costs a pass over their bytes
// instead of a million record reads.
import CSearch

extension LogRing {
    /// Bytes searched at once; a chunk's hits (at most one per byte) are then visited newest first.
    static let textScanChunkBytes = 64 * 1024

    /// Calls `body` with the ids in `ids`, newest first, whose stored bytes contain `needle` (lower-case; ASCII
    /// letters match either case), while it returns true. The walk ends at the first record found evicted, as
    /// all older ones are gone too: `.gone` then says below which id nothing was scanned. A superset: a needle
    /// lying across two records or in a record's host, service or fields names a record too, so callers still
    /// check each one.
    @discardableResult
    func forEachRecord(containing needle: [UInt8], in wanted: Range<UInt64>, _ body: (UInt64) -> Bool) -> WalkEnd {
        // The ids still stored, and where their bytes begin and end (the oldest may be evicted as we look).
        var ids = wanted.clamped(to: storedIDs)
        var bounds: (UInt64, UInt64)?
        while !ids.isEmpty, bounds == nil {
            if let start = startOffset(of: ids.lowerBound), let end = endOffset(of: ids.upperBound - 1) {
                bounds = (start, end)
            } else {
                ids = wanted.clamped(to: storedIDs)
            }
        }
        guard !needle.isEmpty, let (spanStart, spanEnd) = bounds, spanStart < spanEnd else { return .exhausted }
        let hits = UnsafeMutableBufferPointer<Int>.allocate(capacity: Self.textScanChunkBytes)
        defer { hits.deallocate() }
        let arenaSize = UInt64(arenaBytes), chunkBytes = UInt64(Self.textScanChunkBytes)
        var end = spanEnd  // hits starting below `end` are still to be visited
        var upperID = ids.upperBound  // and lie in records below this id
        while end > spanStart {
            // A chunk never crosses the arena's end (no record does), and it reaches needle.count - 1 bytes past
            // its own end so that a needle across the seam with the newer chunk is found.
            let wrapStart = (end - 1) / arenaSize * arenaSize
            let chunkStart = max(spanStart, wrapStart, end >= chunkBytes ? end - chunkBytes : 0)
            let searchEnd = min(end + UInt64(needle.count - 1), spanEnd, wrapStart + arenaSize)
            let text = arenaText(chunkStart..<searchEnd)
            let count = needle.withUnsafeBufferPointer { needle in
                csearch_find_all_folded(text.baseAddress!.assumingMemoryBound(to: UInt8.self), text.count,
                                        needle.baseAddress, needle.count, hits.baseAddress, hits.count)
            }
            var index = count
            while index > 0 {
                index -= 1
                let hit = chunkStart + UInt64(hits[index])
                guard hit < end else { continue }  // in the newer chunk, or in a record already visited
                guard let (id, start) = record(containing: hit, in: ids.lowerBound..<upperID) else { return .gone(below: upperID) }
                guard body(id) else { return .stopped(at: id) }
                upperID = id
                end = start
            }
            end = min(end, chunkStart)
        }
        return .exhausted
    }

    /// The newest id in `ids` starting at or before logical offset `offset`, and its start; nil when a record
    /// it had to look at was evicted. Searches down from the top in growing steps, then halves: hits close
    /// together cost a probe or two, hits far apart a logarithm.
    private func record(containing offset: UInt64, in ids: Range<UInt64>) -> (UInt64, UInt64)? {
        guard !ids.isEmpty else { return nil }
        var (low, high) = (ids.lowerBound, ids.upperBound - 1)  // the answer lies in low...high
        var step: UInt64 = 1
        while true {
            guard let start = startOffset(of: high) else { return nil }
            if start <= offset { return (high, start) }
            guard high > low else { return nil }
            let probe = high - min(step, high - low)
            guard let probeStart = startOffset(of: probe) else { return nil }
            if probeStart <= offset {
                low = probe
                high -= 1
                break
            }
            if probe == low { return nil }  // the offset lies before the first record
            high = probe - 1
            step *= 2
        }
        // start(low) <= offset; the answer is the largest id in low...high (or low) whose start is <= offset.
        while low < high {
            let middle = low + (high - low + 1) / 2
            guard let start = startOffset(of: middle) else { return nil }
            if start <= offset { low = middle } else { high = middle - 1 }
        }
        guard let start = startOffset(of: low) else { return nil }
        return (low, start)
    }
}
