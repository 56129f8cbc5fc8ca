// The disk history as the rest of the server sees it: opened and recovered at start (the newest records back
// into a new ring, ids continuing), then a RecordStore on the reactor: each record is copied into a batch in
// the turn it arrives (so the ring may evict it at once), the batch goes to the disk worker after the turn,
// a sync is asked for every half interval, and `hasRoom` says no while too much waits for the disk, so that
// TCP senders are held back (and HTTP ingestion answers 503). The reactor never touches a file: every write,
// sync, creation and removal runs on the `disk` worker.

public final class DiskHistory: RecordStore {
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
    /// The history on disk, and the records on their way there.
    public let source: SegmentSource
    public let pending = PendingRecords()
    public let catalog: SegmentCatalog
    let directory: DataDirectory
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
    /// Records copied and not yet published; published batches the worker has not taken yet.
    private var staged = RecordBatch()
    private var untaken: [PublishedBatch] = []
    /// Retired batches whose memory may be used again once no search holds them.
    private var recyclable: [PublishedBatch] = []
    /// Bytes published and not yet retired (the worker's figure, as of its last job) plus those published since.
    private var waitingBytes = 0
    /// A staged batch is published before it holds this many records or bytes: a quarter of the ring, so that
    /// the ring never evicts a record no search can find elsewhere.
    private var publishRecords = 0
    private var publishBytes = 0
    /// Bytes that may wait for the disk before senders are held back.
    public static let maxWaitingBytes = 64 << 20
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
        // Start-up read a header of every block (and the ring's blocks whole); searches read again what they need.
        defer { for segment in recovered.segments { segment.file.mapping.releaseResidentPages() } }
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
        let decompressor = ZstdDecompressor()
        for (segment, block, from) in chosen.reversed() {
            guard let decoded = DecodedBlock(header: block.header, body: segment.body(of: block), text: true, decompressor: decompressor) else {
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
        (publishRecords, publishBytes) = (max(1, ring.capacity / 4), max(4096, min(ring.arenaBytes / 4, 4 << 20)))
        staged = freshBatch()
        let next = ring.storedIDs.upperBound
        let reserved = next + DiskWriter.reservationAhead
        try directory.writeReservation(reserved)
        writer = try DiskWriter(directory: directory, catalog: catalog, next: next, retention: configuration.retention,
                                recovered: recovered, reservedUpTo: reserved, report: report)
        progress = writer.progress
        worker = try reactor.startWorker(named: "disk")
        let interval = configuration.syncIntervalMilliseconds
        if interval > 0 {
            reactor.addTimer(everyMilliseconds: max(1, interval / 2)) { [unowned self] in syncDue = true }
        }
    }

    /// Copies a record for the disk (reactor thread, in its arrival turn).
    @inline(__always)
    public func append(_ record: NewRecord, id: UInt64) {
        staged.append(record, id: id)
        if staged.count >= publishRecords || staged.byteCount >= publishBytes { publish() }
    }

    /// Makes the staged records visible to searches and queues them for the worker.
    private func publish() {
        guard !staged.isEmpty else { return }
        let published = PublishedBatch(staged)
        staged = reusedBatch() ?? freshBatch()
        pending.publish(published)
        untaken.append(published)
        waitingBytes += published.batch.byteCount
    }

    /// A new batch starts small: one is published every turn, and a quiet server's turns hold a few records
    /// each (reserving a full batch for each held gigabytes of address space, all waiting for the next sync).
    /// Under a flood the batches grow, and their memory is reused.
    private func freshBatch() -> RecordBatch {
        RecordBatch(reservingBytes: 64 << 10, records: 512)
    }

    /// A retired batch's memory, emptied, if one is held by nothing else now.
    private func reusedBatch() -> RecordBatch? {
        guard let index = recyclable.indices.first(where: { isKnownUniquelyReferenced(&recyclable[$0]) }) else { return nil }
        let box = recyclable.remove(at: index)
        var batch = RecordBatch()
        swap(&batch, &box.batch)
        batch.removeAll()
        return batch
    }

    /// After each turn of the reactor: publishes what was copied and hands it (and a due sync) to the worker,
    /// one job at a time.
    public func pump() {
        publish()
        guard !jobInFlight else { return }
        let sync = syncDue || configuration.syncIntervalMilliseconds == 0
        guard !untaken.isEmpty || (sync && progress.durableUpTo < progress.consumedUpTo) || syncDue else { return }
        jobInFlight = true
        syncDue = false
        let (writer, pending, batches, next) = (writer!, pending, untaken, ring.storedIDs.upperBound)
        untaken.removeAll()
        worker.submit({
            for published in batches { writer.take(published.batch) }
            if sync { writer.synchronize(next: next, now: Clock.wallMilliseconds) }
            let retired = pending.retire(below: writer.writtenUpTo)
            return (writer.progress, pending.byteCount, retired)
        }, then: { [unowned self] (progress: DiskProgress, stillWaiting: Int, retired: [PublishedBatch]) in
            self.progress = progress
            recyclable = Array((recyclable + retired).suffix(3))
            waitingBytes = stillWaiting + untaken.reduce(0) { $0 + $1.batch.byteCount }
            jobInFlight = false
        })
    }

    /// Whether more records may come now: false while too many bytes wait for the disk, or while the ring's
    /// ids come near the reservation on disk.
    public var hasRoom: Bool {
        waitingBytes + staged.byteCount < Self.maxWaitingBytes
            && ring.storedIDs.upperBound + DiskWriter.reservationAhead / 4 < progress.reservedUpTo
    }

    /// At exit, after the reactor stopped: writes and syncs everything and records the exact next id.
    /// Blocks until the worker is done.
    public func finish() {
        guard let worker, let done = try? EventCounter(nonBlocking: false) else { return }
        publish()
        let (writer, next, batches) = (self.writer!, ring.storedIDs.upperBound, untaken)
        worker.submit({
            for published in batches { writer.take(published.batch) }
            writer.synchronize(next: next, final: true, now: Clock.wallMilliseconds)
            done.signal()
            return writer.progress
        }, then: { _ in })
        _ = done.take()
        progress = writer.progress
        done.close()
    }
}
