// The disk history as the rest of the server sees it: opened and recovered at start (the newest records back
// into a new ring, ids continuing), then driven from the reactor: after each turn it hands the new ids to the
// disk worker, every half sync interval it asks for a sync, and it says when the ring is getting too far
// ahead of the disk (`hasRoom`), so that senders are held back before a record could be evicted unwritten.
// The reactor never touches a file: every write, sync, creation and removal runs on the `disk` worker.

public final class DiskHistory {
    public struct Configuration: Sendable {
        public var path: String
        public var retention: RetentionPolicy
        /// 0: sync after every batch of writes.
        public var syncIntervalMilliseconds: Int

        public init(path: String, retention: RetentionPolicy, syncIntervalMilliseconds: Int) {
            (self.path, self.retention, self.syncIntervalMilliseconds) = (path, retention, syncIntervalMilliseconds)
        }
    }

    public let configuration: Configuration
    public let source: SegmentSource
    public let catalog: SegmentCatalog
    private let directory: DataDirectory
    private let recovered: RecoveredHistory
    private let report: @Sendable (String) -> Void
    /// Bytes cut from a torn tail and corrupt stretches passed over at start.
    public var tornBytesRecovered: Int { recovered.tornBytesCut }
    public var corruptStretchesAtStart: Int { recovered.corruptStretches }
    public private(set) var recordsLoaded = 0

    // Set by `start`.
    private var ring: LogRing!
    private var writer: DiskWriter!
    private var worker: WorkerThread!
    private var jobInFlight = false
    private var syncDue = false
    public private(set) var progress = DiskProgress(consumedUpTo: 0, durableUpTo: 0, reservedUpTo: 0)

    /// Opens (creating) and locks the directory and reads back what it holds. Blocking: before the reactor runs.
    public init(_ configuration: Configuration, report: @escaping @Sendable (String) -> Void) throws(DataDirectoryError) {
        self.configuration = configuration
        self.report = report
        directory = try DataDirectory(path: configuration.path)
        do {
            recovered = try Recovery.recover(directory, segmentBytes: configuration.retention.segmentBytes, report: report)
        } catch {
            throw DataDirectoryError(description: "cannot read data directory \(configuration.path): \(error)")
        }
        catalog = SegmentCatalog(recovered.segments)
        source = SegmentSource(catalog: catalog, report: report)
    }

    /// A ring that continues the history: after a clean stop it holds the newest records again (as many as
    /// fit), after a crash it starts empty past every id that may have been handed out. Either way new ids
    /// are larger than every id before.
    public func makeRing(capacity: Int, arenaBytes: Int) -> LogRing {
        guard recovered.stoppedCleanly else { return LogRing(capacity: capacity, arenaBytes: arenaBytes, firstID: recovered.firstNewID) }
        // The newest blocks whose ids run without a gap up to the next id, as many records as the ring holds
        // (of the oldest block taken, its newest records only).
        var chosen: [(segment: SegmentView, block: BlockEntry, from: UInt64)] = []
        var (records, bytes, expected) = (0, 0, recovered.nextIDOnDisk)
        outer: for segment in recovered.segments.reversed() {
            for block in segment.blocks.reversed() {
                let header = block.header
                guard header.lastID + 1 == expected, UInt64(header.recordCount) == header.lastID - header.firstID + 1,
                      records < capacity, bytes < arenaBytes / 2 else { break outer }
                let taken = min(header.recordCount, capacity - records)
                let from = header.lastID + 1 - UInt64(taken)
                chosen.append((segment, block, from))
                (records, bytes, expected) = (records + taken, bytes + header.textRawBytes, from)
                if from != header.firstID { break outer }
            }
        }
        let ring = LogRing(capacity: capacity, arenaBytes: arenaBytes, firstID: expected)
        for (segment, block, from) in chosen.reversed() {
            guard let decoded = DecodedBlock(header: block.header, body: segment.body(of: block), text: true, decompressor: ZstdDecompressor()) else {
                report("corrupt block at \(segment.file.path) byte \(block.offset): the memory tier starts after it")
                return LogRing(capacity: capacity, arenaBytes: arenaBytes, firstID: recovered.firstNewID)
            }
            for index in decoded.index(ofFirstAtLeast: from)..<decoded.count {
                decoded.withRecord(at: index) { record in
                    let id = ring.append(NewRecord(line: record.line, host: record.host, level: record.level, service: record.service,
                                                   ingestProtocol: record.ingestProtocol, isTruncated: record.isTruncated,
                                                   receivedAtMilliseconds: record.receivedAtMilliseconds, fields: record.fields.blob,
                                                   format: record.format, sourceTimeMilliseconds: record.sourceTimeMilliseconds))
                    precondition(id == record.id, "a loaded record must keep its id")
                }
            }
        }
        recordsLoaded = records
        return ring
    }

    /// Starts the disk worker, having made the id reservation durable (blocking, before the reactor runs).
    public func start(ring: LogRing, reactor: Reactor) throws(SystemError) {
        self.ring = ring
        let next = ring.storedIDs.upperBound
        let reserved = next + DiskWriter.reservationAhead
        try directory.writeReservation(reserved)
        writer = try DiskWriter(directory: directory, catalog: catalog, ring: ring, retention: configuration.retention,
                                recovered: recovered, reservedUpTo: reserved, report: report)
        progress = writer.progress
        worker = try reactor.startWorker(named: "disk")
        let interval = configuration.syncIntervalMilliseconds
        if interval > 0 {
            reactor.addTimer(everyMilliseconds: max(1, interval / 2)) { [unowned self] in syncDue = true }
        }
    }

    /// After each turn of the reactor: hands the new records (and a due sync) to the worker, one job at a time.
    public func pump() {
        guard !jobInFlight else { return }
        let next = ring.storedIDs.upperBound
        let sync = syncDue || configuration.syncIntervalMilliseconds == 0
        guard next > progress.consumedUpTo || (sync && progress.durableUpTo < progress.consumedUpTo) || syncDue else { return }
        jobInFlight = true
        syncDue = false
        let writer = writer!
        worker.submit({
            writer.take(upTo: next)
            if sync { writer.synchronize(now: Clock.wallMilliseconds) }
            return writer.progress
        }, then: { [unowned self] progress in
            self.progress = progress
            jobInFlight = false
        })
    }

    /// Whether the ring may take more: false while the disk is so far behind that the ring could evict records
    /// not yet read for it, or ids near the reservation. TCP senders are then not read, and HTTP ingestion
    /// answers 503.
    public var hasRoom: Bool {
        let next = ring.storedIDs.upperBound
        let behind = progress.consumedUpTo
        return next - min(next, behind) < UInt64(ring.capacity / 2) && ring.storedBytes(from: behind) < ring.arenaBytes / 2
            && next + DiskWriter.reservationAhead / 4 < progress.reservedUpTo
    }

    /// At exit, after the reactor stopped: writes and syncs everything and records the exact next id.
    /// Blocks until the worker is done.
    public func finish() {
        guard let worker, let done = try? EventCounter(nonBlocking: false) else { return }
        let (writer, next) = (self.writer!, ring.storedIDs.upperBound)
        worker.submit({
            writer.take(upTo: next)
            writer.synchronize(final: true, now: Clock.wallMilliseconds)
            done.signal()
            return writer.progress
        }, then: { _ in })
        _ = done.take()
        progress = writer.progress
        done.close()
    }
}
