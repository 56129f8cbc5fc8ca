// The disk history's writer, on its own worker thread: it takes the batches of records the reactor copied
// for it, gathers them into blocks, writes each block when it is full, and at each sync seals the open block,
// writes it and fdatasyncs. It also rotates segments, removes the oldest ones past retention, and keeps the id reservation
// ahead of the ring. A write that fails (a full disk, an I/O error) loses that block's records to the disk
// only (they stay in memory), is counted and logged once, and the next block tries again.
import Glibc

/// What the writer has done, handed to the reactor after each job.
public struct DiskProgress: Sendable {
    /// Ids below this have been taken from the reactor (written, in the open block, or lost to a write error).
    public var consumedUpTo: UInt64
    /// Ids below this are on disk and synced (or were lost to a write error): what an acknowledgement waits for.
    public var durableUpTo: UInt64
    /// Ids below this may be handed out: the reservation on disk.
    public var reservedUpTo: UInt64
    public var recordsPersisted: UInt64 = 0
    /// Records that never reached the disk: their block's write failed.
    public var recordsNotPersisted: UInt64 = 0
    public var writeErrors: UInt64 = 0
    public var syncs: UInt64 = 0
    public var syncNanoseconds: UInt64 = 0
    public var slowestSyncNanoseconds: UInt64 = 0
    public var retentionRemovals: UInt64 = 0
    public var retentionRemovedBytes: UInt64 = 0
    /// The error persisting stopped at, while it lasts.
    public var failing: String?
}

public struct RetentionPolicy: Sendable {
    public var maxBytes: Int
    public var maxAgeMilliseconds: Int64

    /// Segment files are at most an eighth of the byte bound (64 KiB to 256 MiB): removing whole files, oldest
    /// first, before each write keeps the directory within the bound.
    public var segmentBytes: Int { min(256 << 20, max(64 << 10, maxBytes / 8)) }

    public init(maxBytes: Int, maxAgeMilliseconds: Int64) {
        (self.maxBytes, self.maxAgeMilliseconds) = (maxBytes, maxAgeMilliseconds)
    }

    /// How many of the oldest segments (sizes and newest receive times, oldest first; the last is the one being
    /// written and is never removed) must go so that `incoming` more bytes fit and nothing is older than the age
    /// bound at `now`.
    public func segmentsToRemove(sizes: [Int], newest: [Int64?], incoming: Int, now: Int64) -> Int {
        var total = sizes.reduce(0, +) + incoming
        var count = 0
        while count < sizes.count - 1 {
            let expired = newest[count].map { $0 < now - maxAgeMilliseconds } ?? true
            guard total > maxBytes || expired else { break }
            total -= sizes[count]
            count += 1
        }
        return count
    }
}

final class DiskWriter: @unchecked Sendable {
    private let directory: DataDirectory
    private let catalog: SegmentCatalog
    private let retention: RetentionPolicy
    private let builder = BlockBuilder()
    private let report: @Sendable (String) -> Void
    private(set) var progress: DiskProgress

    /// The segment being written, where its next block goes, and how far its mapping reaches.
    private var segment: File?
    private var segmentOffset = 0
    private var segmentMapped = 0
    private var segmentFirstReceivedAt: Int64?
    private var unsynced = false
    /// Ids are reserved this far ahead of the ring, so that a crash never makes a restart hand one out twice.
    static let reservationAhead: UInt64 = 16 << 20

    init(directory: DataDirectory, catalog: SegmentCatalog, next: UInt64, retention: RetentionPolicy,
         recovered: RecoveredHistory, reservedUpTo: UInt64, report: @escaping @Sendable (String) -> Void) throws(SystemError) {
        (self.directory, self.catalog, self.retention, self.report) = (directory, catalog, retention, report)
        progress = DiskProgress(consumedUpTo: next, durableUpTo: next, reservedUpTo: reservedUpTo)
        if let (path, offset) = recovered.appendable, offset < retention.segmentBytes {
            segment = try File(path, for: .writing)
            segmentOffset = offset
            segmentMapped = max(offset, retention.segmentBytes)
            segmentFirstReceivedAt = recovered.segments.last?.blocks.first?.header.oldestReceivedAt
        }
    }

    // MARK: Jobs (the disk worker's thread)

    /// Ids below this are in written blocks (or were lost to a failed write): no longer only in memory.
    var writtenUpTo: UInt64 { builder.isEmpty ? progress.consumedUpTo : builder.ids.lowerBound }

    /// Takes a batch of records into blocks, writing those that fill up.
    func take(_ batch: RecordBatch) {
        guard !batch.isEmpty else { return }
        batch.forEach { record in
            builder.add(record)
            if builder.isFull { write(builder.seal()) }
        }
        progress.consumedUpTo = batch.lastID + 1
    }

    /// Writes the open block and makes everything written durable; renews the reservation when `next`, the
    /// ring's next id, comes near it. With `final`, the reservation is set to exactly `next` (a clean stop).
    func synchronize(next: UInt64, final: Bool = false, now: Int64) {
        if !builder.isEmpty { write(builder.seal()) }
        if unsynced {
            let start = Clock.monotonicNanoseconds
            do {
                try segment?.synchronizeData()
                unsynced = false
                let took = Clock.monotonicNanoseconds - start
                progress.syncs += 1
                progress.syncNanoseconds += took
                progress.slowestSyncNanoseconds = max(progress.slowestSyncNanoseconds, took)
            } catch {
                failed("fdatasync \(directory.path)", error)
                return
            }
        }
        progress.durableUpTo = progress.consumedUpTo
        if final || progress.reservedUpTo - min(progress.reservedUpTo, next) < Self.reservationAhead / 2 {
            let reserved = final ? max(next, progress.consumedUpTo) : next + Self.reservationAhead
            do {
                try directory.writeReservation(reserved)
                progress.reservedUpTo = reserved
            } catch {
                failed("writing the id reservation", error)
            }
        }
        if let first = segmentFirstReceivedAt, now - first > retention.maxAgeMilliseconds / 4 { closeSegment() }
        removeExpired(incoming: 0, now: now)
    }

    // MARK: Blocks and segments

    private func write(_ block: (header: BlockHeader, bytes: [UInt8])) {
        removeExpired(incoming: block.bytes.count, now: Clock.wallMilliseconds)
        if segment != nil, segmentOffset + block.bytes.count > segmentMapped { closeSegment() }
        do {
            if segment == nil { try openSegment(firstID: block.header.firstID, atLeast: block.bytes.count) }
            try segment!.write(block.bytes, at: segmentOffset)
        } catch {
            try? segment?.truncate(to: segmentOffset)
            progress.recordsNotPersisted += UInt64(block.header.recordCount)
            failed("writing \(directory.path)", error)
            return
        }
        if let failing = progress.failing {
            report("persisting again after: \(failing)")
            progress.failing = nil
        }
        catalog.addBlock(BlockEntry(offset: segmentOffset, header: block.header), segmentBytes: segmentOffset + block.bytes.count)
        segmentOffset += block.bytes.count
        segmentFirstReceivedAt = segmentFirstReceivedAt ?? block.header.oldestReceivedAt
        unsynced = true
        progress.recordsPersisted += UInt64(block.header.recordCount)
        if segmentOffset >= retention.segmentBytes { closeSegment() }
    }

    /// Starts a new segment file for blocks from `firstID` on, with room for at least `bytes`.
    private func openSegment(firstID: UInt64, atLeast bytes: Int) throws(SystemError) {
        let path = directory.segmentPath(firstID: firstID)
        let file = try File(path, for: .creatingNew)
        do {
            try file.write(SegmentFormat.fileMagic, at: 0)
            try file.synchronizeData()
            try FileSystem.synchronizeDirectory(directory.path)
        } catch {
            try? FileSystem.removeFile(path)
            throw error
        }
        let mapped = max(retention.segmentBytes, SegmentFormat.fileMagic.count + bytes)
        let mapping = try MappedFile(file, length: mapped)
        catalog.addSegment(SegmentView(file: SegmentFile(firstID: firstID, path: path, mapping: mapping), blocks: [], bytes: SegmentFormat.fileMagic.count))
        segment = consume file
        (segmentOffset, segmentMapped, segmentFirstReceivedAt) = (SegmentFormat.fileMagic.count, mapped, nil)
    }

    /// Syncs and closes the segment being written, and writes its index; the next block starts a new one.
    private func closeSegment() {
        guard let file = segment.take() else { return }
        if unsynced {
            do { try file.synchronizeData() } catch { failed("fdatasync \(directory.path)", error) }
            unsynced = false
        }
        guard let closed = catalog.snapshot().last, !closed.blocks.isEmpty else { return }
        let index = SegmentIndex.encode(closed.blocks, segmentBytes: closed.bytes)
        do { try directory.writeIndex(firstID: closed.file.firstID, index) } catch { failed("writing the index of \(closed.file.path)", error) }
    }

    /// Removes the oldest segments that retention no longer keeps, so that `incoming` bytes fit.
    private func removeExpired(incoming: Int, now: Int64) {
        let segments = catalog.snapshot()
        // The segment being written is never removed; without one, every segment is old.
        let count = retention.segmentsToRemove(sizes: segments.map(\.bytes) + (segment == nil ? [0] : []),
                                               newest: segments.map(\.newestReceivedAt) + (segment == nil ? [nil] : []),
                                               incoming: incoming, now: now)
        guard count > 0 else { return }
        for _ in 0..<count {
            guard let removed = catalog.removeOldest() else { break }
            do {
                try FileSystem.removeFile(removed.file.path)
                try? FileSystem.removeFile(directory.indexPath(firstID: removed.file.firstID))
                progress.retentionRemovals += 1
                progress.retentionRemovedBytes += UInt64(removed.bytes)
            } catch {
                failed("removing \(removed.file.path)", error)
            }
        }
        try? FileSystem.synchronizeDirectory(directory.path)
    }

    private func failed(_ what: String, _ error: SystemError) {
        progress.writeErrors += 1
        if progress.failing == nil {
            report("persisting stopped (\(what): \(error.errno)); records are kept in memory and writes are retried")
        }
        progress.failing = "\(what): \(error.errno)"
    }
}
