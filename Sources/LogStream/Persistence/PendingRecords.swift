// Records between the ring and the disk: copied for the disk worker but not yet in a written block. They are
// published here (in batches, before the ring could evict any of them) and retired once the blocks holding
// them are in the catalog, so that a search always finds every record in the ring, here, or on disk: the
// history has no gap while the disk catches up.

/// A batch once published: not changed while published, read by any thread. Once retired and held by no
/// one else, its memory is used again for a later batch (fresh pages for every batch cost the reactor more
/// than copying the records: the kernel zeroes each one).
final class PublishedBatch: @unchecked Sendable {
    var batch: RecordBatch
    init(_ batch: RecordBatch) { self.batch = batch }
}

public final class PendingRecords: RecordSource, @unchecked Sendable {
    /// Oldest first; ids run on from batch to batch.
    private let batches = Locked<[PublishedBatch]>([])

    /// Reactor thread: a batch copied for the disk.
    func publish(_ batch: PublishedBatch) { batches.withLock { $0.append(batch) } }

    /// Disk worker: the records below `id` are in written blocks (or lost to a write error). Returns the
    /// batches retired.
    func retire(below id: UInt64) -> [PublishedBatch] {
        batches.withLock { list in
            let retired = list.prefix { $0.batch.lastID < id }
            list.removeFirst(retired.count)
            return Array(retired)
        }
    }

    public var byteCount: Int { batches.withLock { $0.reduce(0) { $0 + $1.batch.byteCount } } }

    private func snapshot() -> [PublishedBatch] { batches.withLock { $0 } }

    public var storedIDs: Range<UInt64> {
        let list = snapshot()
        guard let first = list.first, let last = list.last else { return 1..<1 }
        return first.batch.firstID..<last.batch.lastID + 1
    }

    public func read<Result>(_ id: UInt64, _ body: (LogRecord) -> Result) -> Result? {
        for published in snapshot() where published.batch.ids.contains(id) { return published.batch.withRecord(id: id, body) }
        return nil
    }

    /// Each record among `ids`, newest first, while `body` returns true; nil when it ran to the end.
    private func forEachNewestFirst(_ ids: Range<UInt64>, _ body: (LogRecord) -> Bool) -> UInt64? {
        for published in snapshot().reversed() {
            let batch = published.batch
            let wanted = batch.ids.clamped(to: ids)
            for id in wanted.reversed() {
                if !batch.withRecord(at: Int(id - batch.firstID), body) { return id }
            }
        }
        return nil
    }

    private func end(_ ids: Range<UInt64>) -> WalkEnd {
        let stored = storedIDs
        if stored.isEmpty { return .gone(below: ids.upperBound) }
        return ids.lowerBound < stored.lowerBound ? .gone(below: stored.lowerBound) : .exhausted
    }

    public func walkNewestFirst(_ ids: Range<UInt64>, hints: ScanHints, _ visit: (LogRecord) -> Bool,
                                discardTorn: () -> Void) -> WalkEnd {
        let end = end(ids)
        if let stopped = forEachNewestFirst(ids, visit) { return .stopped(at: stopped) }
        return end
    }

    public func forEachSummaryBatch(newestFirstIn ids: Range<UInt64>, includingNames: Bool,
                                    _ body: (UnsafeBufferPointer<RecordSummary>) -> Bool) -> WalkEnd {
        let end = end(ids)
        let stopped = forEachNewestFirst(ids) { record in
            var summary = RecordSummary(receivedAtMilliseconds: record.receivedAtMilliseconds,
                                        attributes: SlotWords.attributes(level: record.level, ingestProtocol: record.ingestProtocol, format: record.format),
                                        host: record.host, service: record.service)
            return withUnsafePointer(to: &summary) { body(UnsafeBufferPointer(start: $0, count: 1)) }
        }
        return stopped.map { .stopped(at: $0) } ?? end
    }

    public func countLevels(newestFirstIn ids: Range<UInt64>, in buckets: TimeBuckets, levels: UInt64,
                            into counts: UnsafeMutableBufferPointer<UInt64>) -> WalkEnd {
        let end = end(ids)
        _ = forEachNewestFirst(ids) { record in
            buckets.count(receivedAt: record.receivedAtMilliseconds, level: record.level, levels: levels, into: counts)
            return true
        }
        return end
    }

    public func firstID(receivedSince time: Int64, among ids: Range<UInt64>) -> UInt64 {
        var first = ids.upperBound
        _ = forEachNewestFirst(ids) { record in
            if record.receivedAtMilliseconds >= time { first = record.id }
            return true
        }
        return first
    }
}
