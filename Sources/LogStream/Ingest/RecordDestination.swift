// Where every parsed record goes, whatever brought it (a line, and next an OTLP record or a GELF message):
// numbered, copied once into the ring, handed to the stores that keep their own copy, counted. Like
// VictoriaLogs' LogRowsStorage (MustAddRows, CanWriteData), it can say "not now": senders that can wait ask
// `hasRoom` before reading more and are resumed when the stores have caught up.

public final class RecordDestination {
    public let ring: LogRing
    public let stats: IngestStats
    private var stores: [any RecordStore] = []
    /// Senders held back for want of room, to resume once there is some.
    private var waiting: [() -> Void] = []

    public init(ring: LogRing) {
        self.ring = ring
        stats = IngestStats(serviceNames: ring.services)
    }

    public func add(_ store: any RecordStore) {
        stores.append(store)
    }

    /// Whether records can be taken now. Asked before reading more from a sender that can wait: a TCP socket is
    /// then not read (its sender blocks), an HTTP request is answered 503. What was already read is stored
    /// anyway, so a store's bound is soft by at most one read per sender.
    public var hasRoom: Bool {
        stores.isEmpty || stores.allSatisfy(\.hasRoom)
    }

    /// Runs `resume` once there is room again.
    public func whenRoom(_ resume: @escaping () -> Void) {
        waiting.append(resume)
    }

    /// After each turn of the reactor: resumes the held-back senders if the stores have caught up.
    public func resumeWaitingSenders() {
        guard !waiting.isEmpty, hasRoom else { return }
        let resumed = waiting
        waiting.removeAll()
        for resume in resumed { resume() }
    }

    /// Senders held back now.
    public var waitingCount: Int { waiting.count }

    /// The number of a sender's host in the ring's host table, looked up once per connection or sender.
    public func hostNumber(of host: UnsafeRawBufferPointer) -> Int? {
        ring.hosts.index(of: host)
    }

    /// Stores `record` and returns its id.
    @inline(__always) @discardableResult
    public func store(_ record: NewRecord) -> UInt64 {
        // The service's number is looked up here, once, for the ring and the counters alike.
        let serviceNumber = ring.serviceNumber(of: record)
        let id = ring.append(record, serviceNumber: serviceNumber)
        if !stores.isEmpty {  // no iterator, and no retain of the array, for the common case
            for store in stores { store.append(record, id: id) }
        }
        stats.count(level: record.level, protocol: record.ingestProtocol, serviceNumber: serviceNumber,
                    serviceBytes: record.service.count, isTruncated: record.isTruncated)
        return id
    }
}
