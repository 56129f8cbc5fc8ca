// Where searches read records from: the ring today; the disk history and ClickHouse next. Listings,
// histograms, facets, WebSocket histories and the live tail read through this protocol alone, so that a new
// tier is a new conformance, not a change to them. Ids grow with receive time in every source, and every
// source answers newest first.

public protocol RecordSource: AnyObject, Sendable {
    /// The ids the source holds now: older ones are gone from it, newer ones not given out yet.
    var storedIDs: Range<UInt64> { get }

    /// Calls `body` with record `id` and returns its result, or nil when the source does not hold it (any more).
    /// `body` may see a record torn by eviction; its result is then discarded.
    func read<Result>(_ id: UInt64, _ body: (LogRecord) -> Result) -> Result?

    /// Calls `visit` with the records among `ids` that may satisfy `hints`, newest first, while it returns true.
    /// A superset: records the hints cannot rule out are visited, and the caller checks each. If the record just
    /// visited turns out torn, `discardTorn` is called and the walk ends with `.gone`.
    func walkNewestFirst(_ ids: Range<UInt64>, hints: ScanHints, _ visit: (LogRecord) -> Bool, discardTorn: () -> Void) -> WalkEnd

    /// Calls `body` with what the source knows of the records among `ids` without reading their text, newest
    /// first, a batch at a time, while it returns true: what histograms and facets of levels, hosts, services,
    /// protocols and formats need. (Batches, so that a count over millions of records is not a call each.)
    /// Without `includingNames`, hosts and services are left empty: a histogram needs times and levels only.
    func forEachSummaryBatch(newestFirstIn ids: Range<UInt64>, includingNames: Bool,
                             _ body: (UnsafeBufferPointer<RecordSummary>) -> Bool) -> WalkEnd

    /// Adds to `counts[bucket * 6 + level]` the records among `ids` whose level is in `levels` (bits by raw
    /// value), by receive time in `buckets`: the histogram of everything, or of levels only, counted where the
    /// records are (the ring from its slots; a column store by its own query) instead of one by one here.
    func countLevels(newestFirstIn ids: Range<UInt64>, in buckets: TimeBuckets, levels: UInt64,
                     into counts: UnsafeMutableBufferPointer<UInt64>) -> WalkEnd

    /// The first id among `ids` received at or after `time` (`ids.upperBound` when none is).
    func firstID(receivedSince time: Int64, among ids: Range<UInt64>) -> UInt64

    /// The first id among `ids` the source may hold, found without reading records (`ids.upperBound` when
    /// none): ids reserved and never handed out before a crash leave gaps a reader in id order jumps over.
    func firstHeldID(among ids: Range<UInt64>) -> UInt64
}

extension RecordSource {
    /// A source whose ids run without gaps from its oldest to its newest.
    public func firstHeldID(among ids: Range<UInt64>) -> UInt64 {
        let held = ids.clamped(to: storedIDs)
        return held.isEmpty ? ids.upperBound : held.lowerBound
    }

    /// The summaries one at a time.
    @discardableResult
    public func forEachSummary(newestFirstIn ids: Range<UInt64>, _ body: (RecordSummary) -> Bool) -> WalkEnd {
        forEachSummaryBatch(newestFirstIn: ids, includingNames: true) { batch in batch.allSatisfy(body) }
    }
}

/// What a search tells a source so that it can pass over records that cannot match without reading them.
public struct ScanHints: Sendable, Equatable {
    /// Lower-cased bytes every match contains (ASCII case aside), if any are known.
    public var requiredText: [UInt8]?
    /// The levels and services a match can have.
    public var blockKey: BlockKey
    /// No match was received before this.
    public var receivedSince: Int64?
    /// Hashes (`Tokens.hash`) of whole words every match holds: a disk block whose word filter lacks one is
    /// passed over.
    public var requiredWords: [UInt64]

    public init(requiredText: [UInt8]? = nil, blockKey: BlockKey = .any, receivedSince: Int64? = nil, requiredWords: [UInt64] = []) {
        self.requiredText = requiredText
        self.blockKey = blockKey
        self.receivedSince = receivedSince
        self.requiredWords = requiredWords
    }

    public static let none = ScanHints()
}

/// Equal spans of receive time: bucket `b` holds `since + b * width ..< since + (b + 1) * width`, up to `until`.
public struct TimeBuckets: Sendable {
    public var since: Int64
    public var until: Int64
    public var width: Int64
    public var count: Int

    public init(since: Int64, until: Int64, width: Int64, count: Int) {
        precondition(width > 0 && count > 0)
        (self.since, self.until, self.width, self.count) = (since, until, width, count)
    }

    /// Counts per bucket: one for each level.
    static let levelCount = LogLevel.allCases.count

    /// The bucket a record received at `time` falls in, if any.
    @inline(__always) func bucket(of time: Int64) -> Int? {
        guard time >= since, time <= until else { return nil }
        let bucket = (time - since) / width
        return bucket < count ? Int(bucket) : nil
    }

    /// Adds a record of `level` received at `time` to `counts[bucket * 6 + level]`, when it falls in a bucket
    /// and `levels` (bits by raw value) holds its level: what every source's `countLevels` does per record.
    @inline(__always) func count(receivedAt time: Int64, level: LogLevel, levels: UInt64, into counts: UnsafeMutableBufferPointer<UInt64>) {
        let level = Int(level.rawValue)
        guard levels & 1 << UInt64(level) != 0, let bucket = bucket(of: time) else { return }
        counts[bucket * Self.levelCount + level] += 1
    }
}

/// How a walk over a source ended.
public enum WalkEnd: Equatable, Sendable {
    /// Every id asked for was looked at or ruled out.
    case exhausted
    /// The visitor stopped it at this id.
    case stopped(at: UInt64)
    /// Ids below this were not visited because the source no longer holds them: an older source may.
    case gone(below: UInt64)
}

/// A record as its slot describes it, without its text. The views live as long as the call that hands it out.
public struct RecordSummary {
    public var receivedAtMilliseconds: Int64
    /// The slot's attribute word: level, protocol and format are decoded from it only when asked for (a
    /// histogram reads the level alone, over millions of summaries).
    let attributes: UInt64
    public var host: UnsafeRawBufferPointer
    /// Empty when the record has no service ("unknown").
    public var service: UnsafeRawBufferPointer

    public var level: LogLevel { SlotSummary.level(attributes) }
    public var ingestProtocol: IngestProtocol { SlotSummary.ingestProtocol(attributes) }
    public var format: LogFormat { SlotSummary.format(attributes) }
}
