// The disk history as a RecordSource: searches, histograms and facets read it as they read the ring, newest
// first. Block headers rule blocks out by ids, levels, services and time before any byte is decompressed;
// what remains is decoded (checked by CRC) and walked. A block that does not check out is skipped, counted
// and logged once: the rest of the history is still served.
import Glibc

public final class SegmentSource: RecordSource, @unchecked Sendable {
    let catalog: SegmentCatalog
    private let report: @Sendable (String) -> Void
    /// Blocks found corrupt when read (each counted once).
    private let corrupt = Locked<Set<BlockKeyPath>>([])
    private let cache = Locked<DecodedCache>(DecodedCache())
    public var corruptBlocksSkipped: Int { corrupt.withLock { $0.count } }

    init(catalog: SegmentCatalog, report: @escaping @Sendable (String) -> Void) {
        self.catalog = catalog
        self.report = report
    }

    struct BlockKeyPath: Hashable {
        var segment: UInt64
        var offset: Int
    }

    public var storedIDs: Range<UInt64> {
        let segments = catalog.snapshot()
        guard let first = segments.lazy.compactMap(\.blocks.first).first,
              let last = segments.last(where: { !$0.blocks.isEmpty })?.blocks.last else { return 1..<1 }
        return first.header.firstID..<last.header.lastID + 1
    }

    // MARK: Blocks newest first

    /// Calls `body` with each block overlapping `ids`, newest first, while it returns true.
    private func forEachBlock(newestFirstIn ids: Range<UInt64>, _ body: (SegmentView, BlockEntry) -> Bool) -> Bool {
        let segments = catalog.snapshot()
        for segment in segments.reversed() where segment.ids.overlaps(ids) {
            for block in segment.blocks.reversed() where block.header.ids.overlaps(ids) {
                guard body(segment, block) else { return false }
            }
        }
        return true
    }

    /// The block decoded, from the cache when it is there; nil (counted and logged) when it does not check out.
    private func decoded(_ segment: SegmentView, _ block: BlockEntry, text: Bool) -> DecodedBlock? {
        let key = BlockKeyPath(segment: segment.file.firstID, offset: block.offset)
        if let hit = cache.withLock({ $0.find(key, text: text) }) { return hit }
        guard let fresh = DecodedBlock(header: block.header, body: segment.body(of: block), text: text, decompressor: Self.decompressor) else {
            if corrupt.withLock({ $0.insert(key).inserted }) {
                report("corrupt block skipped: \(segment.file.path) at byte \(block.offset), ids \(block.header.firstID)-\(block.header.lastID)")
            }
            return nil
        }
        cache.withLock { $0.keep(fresh, as: key) }
        return fresh
    }

    /// A decompression context per thread that reads (zstd contexts are not shared).
    private static var decompressor: ZstdDecompressor { ThreadDecompressor.current }

    private func endOfWalk(_ ids: Range<UInt64>) -> WalkEnd {
        let stored = storedIDs
        return ids.lowerBound < stored.lowerBound && !stored.isEmpty ? .gone(below: stored.lowerBound) : .exhausted
    }

    // MARK: RecordSource

    public func read<Result>(_ id: UInt64, _ body: (LogRecord) -> Result) -> Result? {
        var result: Result?
        _ = forEachBlock(newestFirstIn: id..<id + 1) { segment, block in
            guard let decoded = decoded(segment, block, text: true) else { return false }
            let index = decoded.index(ofFirstAtLeast: id)
            if index < decoded.count, decoded.id(at: index) == id { result = decoded.withRecord(at: index, body) }
            return false
        }
        return result
    }

    public func walkNewestFirst(_ ids: Range<UInt64>, hints: ScanHints, _ visit: (LogRecord) -> Bool,
                                discardTorn: () -> Void) -> WalkEnd {
        var stoppedAt: UInt64?
        let finished = forEachBlock(newestFirstIn: ids) { segment, block in
            let header = block.header
            if header.levelBits & hints.blockKey.levels == 0 || header.serviceBits & hints.blockKey.services == 0 { return true }
            if let since = hints.receivedSince, header.newestReceivedAt < since { return true }
            if !hints.requiredWords.isEmpty {
                let bloom = UnsafeRawBufferPointer(rebasing: segment.body(of: block)[..<header.bloomBytes])
                if !hints.requiredWords.allSatisfy({ TokenBloom.mayContain($0, in: bloom) }) { return true }
            }
            guard let decoded = decoded(segment, block, text: true) else { return true }
            var index = decoded.index(ofFirstAtLeast: ids.upperBound)
            while index > 0 {
                index -= 1
                let id = decoded.id(at: index)
                guard id >= ids.lowerBound else { break }
                if let since = hints.receivedSince, decoded.receivedAt(at: index) < since { continue }
                guard decoded.withRecord(at: index, visit) else {
                    stoppedAt = id
                    return false
                }
            }
            return true
        }
        if !finished, let stoppedAt { return .stopped(at: stoppedAt) }
        return endOfWalk(ids)
    }

    public func forEachSummaryBatch(newestFirstIn ids: Range<UInt64>, includingNames: Bool,
                                    _ body: (UnsafeBufferPointer<RecordSummary>) -> Bool) -> WalkEnd {
        var stoppedAt: UInt64?
        var batch: [RecordSummary] = []
        let finished = forEachBlock(newestFirstIn: ids) { segment, block in
            guard let decoded = decoded(segment, block, text: false) else { return true }
            var index = decoded.index(ofFirstAtLeast: ids.upperBound)
            let lowest = decoded.index(ofFirstAtLeast: ids.lowerBound)
            // The summaries' name views point into the decoded block: hand them over while it is held.
            return withExtendedLifetime(decoded) {
                while index > lowest {
                    batch.removeAll(keepingCapacity: true)
                    let start = max(lowest, index - 512)
                    for position in (start..<index).reversed() { batch.append(decoded.summaryView(at: position, includingNames: includingNames)) }
                    index = start
                    guard batch.withUnsafeBufferPointer(body) else {
                        stoppedAt = decoded.id(at: start)
                        return false
                    }
                }
                return true
            }
        }
        if !finished, let stoppedAt { return .stopped(at: stoppedAt) }
        return endOfWalk(ids)
    }

    public func countLevels(newestFirstIn ids: Range<UInt64>, in buckets: TimeBuckets, levels: UInt64,
                            into counts: UnsafeMutableBufferPointer<UInt64>) -> WalkEnd {
        _ = forEachBlock(newestFirstIn: ids) { segment, block in
            let header = block.header
            if header.newestReceivedAt < buckets.since || header.oldestReceivedAt > buckets.until { return true }
            // A block wholly inside the ids and one bucket is counted from its header alone.
            if let bucket = buckets.bucket(of: header.oldestReceivedAt), bucket == buckets.bucket(of: header.newestReceivedAt),
               ids.lowerBound <= header.firstID, header.lastID < ids.upperBound {
                for level in 0..<TimeBuckets.levelCount where levels & 1 << UInt64(level) != 0 {
                    counts[bucket * TimeBuckets.levelCount + level] += UInt64(header.levelCounts[level])
                }
                return true
            }
            guard let decoded = decoded(segment, block, text: false) else { return true }
            for index in decoded.index(ofFirstAtLeast: ids.lowerBound)..<decoded.index(ofFirstAtLeast: ids.upperBound) {
                buckets.count(receivedAt: decoded.receivedAt(at: index), level: decoded.level(at: index), levels: levels, into: counts)
            }
            return true
        }
        return endOfWalk(ids)
    }

    /// From block headers alone: the oldest block reaching into `ids` holds it (ids run without gaps inside
    /// a block; between blocks, a crash may have left one).
    public func firstHeldID(among ids: Range<UInt64>) -> UInt64 {
        for segment in catalog.snapshot() where segment.ids.overlaps(ids) {
            if let block = segment.blocks.first(where: { $0.header.ids.overlaps(ids) }) { return max(ids.lowerBound, block.header.firstID) }
        }
        return ids.upperBound
    }

    public func firstID(receivedSince time: Int64, among ids: Range<UInt64>) -> UInt64 {
        // Receive times grow with ids (within a clock step): the oldest block whose newest record is recent
        // enough holds the first such record.
        var first = ids.upperBound
        _ = forEachBlock(newestFirstIn: ids) { segment, block in
            guard block.header.newestReceivedAt >= time else { return false }
            guard let decoded = decoded(segment, block, text: false) else { return true }
            for index in decoded.index(ofFirstAtLeast: ids.lowerBound)..<decoded.index(ofFirstAtLeast: ids.upperBound)
            where decoded.receivedAt(at: index) >= time {
                first = min(first, decoded.id(at: index))
                break
            }
            return true
        }
        return first
    }
}

/// The last few blocks decoded, so that paging through a search (`before=`) or reading records one by one
/// does not decompress a block again for each page. Bounded by bytes.
struct DecodedCache {
    private var entries: [(key: SegmentSource.BlockKeyPath, block: DecodedBlock)] = []
    static let maxBytes = 32 << 20

    func find(_ key: SegmentSource.BlockKeyPath, text: Bool) -> DecodedBlock? {
        entries.last { $0.key == key && ($0.block.hasText || !text) }?.block
    }

    mutating func keep(_ block: DecodedBlock, as key: SegmentSource.BlockKeyPath) {
        entries.removeAll { $0.key == key }
        entries.append((key, block))
        var bytes = entries.reduce(0) { $0 + $1.block.residentBytes }
        while bytes > Self.maxBytes, entries.count > 1 {
            bytes -= entries.removeFirst().block.residentBytes
        }
    }
}

/// One zstd decompression context per reading thread.
enum ThreadDecompressor {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { Unmanaged<ZstdDecompressor>.fromOpaque($0!).release() }
        return key
    }()

    static var current: ZstdDecompressor {
        if let existing = pthread_getspecific(key) { return Unmanaged<ZstdDecompressor>.fromOpaque(existing).takeUnretainedValue() }
        let fresh = ZstdDecompressor()
        pthread_setspecific(key, Unmanaged.passRetained(fresh).toOpaque())
        return fresh
    }
}
