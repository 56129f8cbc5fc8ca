// The history of every node, held elsewhere (ClickHouse, which every node ships to): what `source=cluster`
// searches. The same questions the local history answers, asked of a store that answers them itself; called
// on a worker of its own, since an answer may take as long as the store's timeout.

public protocol ClusterHistory: AnyObject, Sendable {
    /// Calls `body` with the records `filter` matches inside `window`, newest first (receive time, then node,
    /// then id), each once however often it was shipped, at most `limit`, with the node that took it in.
    func newest(matching filter: RecordFilter, in window: ClusterWindow, limit: Int,
                _ body: (LogRecord, _ node: UnsafeRawBufferPointer) -> Void) throws(ClusterError)

    /// Records per level per bucket over `since...until`, as `LevelHistogram` counts them locally.
    func histogram(matching filter: RecordFilter, in window: ClusterWindow, since: Int64, until: Int64,
                   buckets: Int) throws(ClusterError) -> LevelHistogram

    /// The oldest and newest receive times held, for a histogram asked without a window; nil when empty.
    func timeSpan() throws(ClusterError) -> ClosedRange<Int64>?

    func facets(matching filter: RecordFilter, in window: ClusterWindow, attribute: Facets.Attribute,
                limit: Int) throws(ClusterError) -> Facets
}

/// Why the cluster could not answer: the status to answer with (400: the store refused the query; 503: it
/// could not be reached or is missing a part; 504: it did not answer in time) and what it said.
public struct ClusterError: Error, Sendable {
    public var status: Int
    public var message: String

    public init(status: Int, message: String) { (self.status, self.message) = (status, message) }
}

extension LevelHistogram {
    /// Buckets as the store counted them.
    public init(since: Int64, bucketMilliseconds: Int64, counts: [[UInt64]]) {
        (self.since, self.bucketMilliseconds, self.counts) = (since, bucketMilliseconds, counts)
    }

    /// The width `buckets` buckets over `since...until` have (at least a millisecond).
    public static func bucketWidth(since: Int64, until: Int64, buckets: Int) -> (width: Int64, count: Int) {
        let count = max(1, min(buckets, maxBuckets))
        let span = max(until - since + 1, 1)
        return (max(1, (span + Int64(count) - 1) / Int64(count)), count)
    }
}

extension Facets {
    /// Values as the store counted them (most common first).
    public init(top: [(value: String, count: UInt64)], others: UInt64, total: UInt64) {
        (self.top, self.others, self.total) = (top, others, total)
    }
}
