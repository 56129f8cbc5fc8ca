// What the disk history holds: its segment files, oldest first, each with the headers of its blocks. The
// disk writer adds blocks and segments and retention removes the oldest; readers on any thread take a
// snapshot under a short lock and then read mapped bytes without one. A segment removed while a search still
// reads it stays mapped until that search lets go of it.

/// One segment file, mapped for readers.
public final class SegmentFile: Sendable {
    public let firstID: UInt64
    public let path: String
    let mapping: MappedFile

    init(firstID: UInt64, path: String, mapping: MappedFile) {
        (self.firstID, self.path, self.mapping) = (firstID, path, mapping)
    }
}

/// A segment as a snapshot sees it: its blocks (oldest first) and its bytes on disk.
public struct SegmentView: Sendable {
    public let file: SegmentFile
    public private(set) var blocks: [BlockEntry]
    public var bytes: Int
    /// Records in its blocks.
    public private(set) var records = 0

    init(file: SegmentFile, blocks: [BlockEntry], bytes: Int) {
        (self.file, self.blocks, self.bytes) = (file, blocks, bytes)
        records = blocks.reduce(0) { $0 + $1.header.recordCount }
    }

    mutating func appendBlock(_ block: BlockEntry) {
        blocks.append(block)
        records += block.header.recordCount
    }

    /// The ids its blocks hold (empty before its first block).
    public var ids: Range<UInt64> {
        guard let first = blocks.first, let last = blocks.last else { return file.firstID..<file.firstID }
        return first.header.firstID..<last.header.lastID + 1
    }

    /// Receive time of its newest record (nil before its first block).
    public var newestReceivedAt: Int64? { blocks.lazy.map(\.header.newestReceivedAt).max() }

    /// A block's bytes after its header, as mapped.
    func body(of block: BlockEntry) -> UnsafeRawBufferPointer { block.body(in: file.mapping.bytes) }
}

public final class SegmentCatalog: Sendable {
    private let segments: Locked<[SegmentView]>

    init(_ segments: [SegmentView]) {
        self.segments = Locked(segments)
    }

    /// The segments now, oldest first.
    public func snapshot() -> [SegmentView] { segments.withLock { $0 } }

    func addSegment(_ segment: SegmentView) { segments.withLock { $0.append(segment) } }

    /// Adds a block written at the end of the newest segment, which now takes `bytes`.
    func addBlock(_ block: BlockEntry, segmentBytes bytes: Int) {
        segments.withLock { list in
            list[list.count - 1].appendBlock(block)
            list[list.count - 1].bytes = bytes
        }
    }

    /// Removes the oldest segment from view (its file is removed by the caller).
    func removeOldest() -> SegmentView? {
        segments.withLock { list in list.isEmpty ? nil : list.removeFirst() }
    }

    /// What /api/stats and /metrics show of it.
    public struct Totals: Sendable {
        public var bytes = 0
        public var files = 0
        public var blocks = 0
        public var records = 0
        public var oldestID: UInt64?
        public var oldestReceivedAt: Int64?
        public var newestID: UInt64?
    }

    public var totals: Totals {
        segments.withLock { list in
            var totals = Totals()
            for segment in list {
                totals.bytes += segment.bytes
                totals.files += 1
                totals.blocks += segment.blocks.count
                totals.records += segment.records
            }
            let firstBlock = list.lazy.compactMap(\.blocks.first).first
            totals.oldestID = firstBlock?.header.firstID
            totals.oldestReceivedAt = firstBlock?.header.oldestReceivedAt
            totals.newestID = list.last(where: { !$0.blocks.isEmpty })?.blocks.last?.header.lastID
            return totals
        }
    }
}
