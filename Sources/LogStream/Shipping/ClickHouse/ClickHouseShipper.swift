// Shipping to ClickHouse, the reactor's half: when a batch is due, how long to wait after a failure, the
// figures (/metrics, /api/stats, the dashboard's header) and the log. The work itself, reading the history
// and talking to ClickHouse, runs on the `shipping` worker (ClickHouseShipment), one turn at a time, so
// the reactor never waits for ClickHouse, however slow or frozen it is.

final class ClickHouseShipper {
    let configuration: ClickHouseConfiguration
    private let shipment: ClickHouseShipment
    private let worker: WorkerThread
    /// The first id not taken in yet, and the first not yet durable on disk (what may be shipped: shipping
    /// reads the durable history, so what ClickHouse holds the local disk holds too).
    private let takenInUpTo: () -> UInt64
    private let shippableUpTo: () -> UInt64

    /// The first id not shipped yet.
    private(set) var shippedUpTo: UInt64
    private var inFlight = false
    private var retryAtNanoseconds: UInt64 = 0
    private var backoffMilliseconds = 0
    private var lastTurnNanoseconds: UInt64 = 0
    private var oldestUnshipped: (milliseconds: Int64?, reportedAt: Int64) = (nil, 0)

    private(set) var recordsShipped = 0
    private(set) var batchesShipped = 0
    private(set) var bytesShipped = 0
    private(set) var rowsRejected = 0
    private(set) var recordsLost = 0
    private(set) var failures: [ClickHouseClient.Failure.Kind: Int] = [:]
    /// The failure shipping is stuck on, if any (the dashboard shows it).
    private(set) var lastFailure: ClickHouseClient.Failure?
    private var lastLogged: [ClickHouseClient.Failure.Kind: Int64] = [:]
    private let retention: ClickHouseRetention?
    private var retentionDueNanoseconds: UInt64 = 0
    private(set) var partitionsDropped = 0
    static let retentionEveryNanoseconds: UInt64 = 3_600_000_000_000

    static let tickMilliseconds = 50
    static let firstBackoffMilliseconds = 250
    static let maxBackoffMilliseconds = 5000
    /// The same kind of failure is logged at most this often.
    static let logEveryMilliseconds: Int64 = 60_000

    init(configuration: ClickHouseConfiguration, source: any RecordSource, cursor: ShippingCursor?, worker: WorkerThread,
         takenInUpTo: @escaping () -> UInt64, shippableUpTo: @escaping () -> UInt64) {
        self.configuration = configuration
        self.worker = worker
        self.takenInUpTo = takenInUpTo
        self.shippableUpTo = shippableUpTo
        shipment = ClickHouseShipment(client: ClickHouseClient(configuration), source: source, cursor: cursor)
        retention = configuration.retentionMilliseconds.map { period in
            ClickHouseRetention(servers: [configuration] + configuration.otherShards.map(configuration.on), retentionMilliseconds: period)
        }
        // A node that never shipped starts with the oldest record it holds: its whole history goes.
        shippedUpTo = min(cursor?.load() ?? source.storedIDs.lowerBound, takenInUpTo())
    }

    /// Records taken in and not shipped yet.
    var lagRecords: Int { Int(takenInUpTo() - min(shippedUpTo, takenInUpTo())) }

    /// Seconds since the oldest record not shipped yet was taken in.
    var lagSeconds: Double {
        guard lagRecords > 0 else { return 0 }
        // Not known until a turn has seen it: it came after the last report.
        let since = oldestUnshipped.milliseconds ?? oldestUnshipped.reportedAt
        return Double(max(0, Clock.wallMilliseconds - since)) / 1000
    }

    /// Called every `tickMilliseconds`: hands the worker a turn when one is due.
    func tick() {
        let now = Clock.monotonicNanoseconds
        guard !inFlight else { return }
        if let retention, now >= retentionDueNanoseconds {
            inFlight = true
            retentionDueNanoseconds = now + Self.retentionEveryNanoseconds
            worker.submit({ retention.run(now: Clock.wallMilliseconds) }, then: { [weak self] report in self?.take(report) })
            return
        }
        guard now >= retryAtNanoseconds else { return }
        let end = shippableUpTo()
        let waiting = end > shippedUpTo ? Int(end - shippedUpTo) : 0
        let intervalPassed = now - lastTurnNanoseconds >= UInt64(configuration.intervalMilliseconds) * 1_000_000
        // After a failure, the next try goes when the backoff has passed.
        guard waiting >= configuration.batchRows || (waiting > 0 && (intervalPassed || lastFailure != nil)) else { return }
        inFlight = true
        lastTurnNanoseconds = now
        let (shipment, start, rows) = (shipment, shippedUpTo, configuration.batchRows)
        worker.submit({ shipment.run(from: start, upTo: end, batchRows: rows) }, then: { [weak self] report in self?.take(report) })
    }

    private func take(_ report: ClickHouseRetention.Report) {
        inFlight = false
        partitionsDropped += report.dropped.count
        for day in report.dropped { log("clickhouse: retention dropped day \(day)") }
        for failure in report.failures { log("clickhouse: retention failed on \(failure); tried again in an hour") }
    }

    private func take(_ report: ClickHouseShipment.Report) {
        inFlight = false
        shippedUpTo = max(shippedUpTo, report.shippedUpTo)
        oldestUnshipped = (report.oldestUnshippedMilliseconds, Clock.wallMilliseconds)
        recordsShipped += report.rowsShipped
        bytesShipped += report.bytesShipped
        rowsRejected += report.rowsRejected
        recordsLost += report.lost
        for note in report.notes { log("clickhouse: \(note)") }
        if let failure = report.failure {
            failures[failure.kind, default: 0] += 1
            let now = Clock.wallMilliseconds
            if now - (lastLogged[failure.kind] ?? .min / 2) >= Self.logEveryMilliseconds {
                lastLogged[failure.kind] = now
                log("clickhouse: shipping held up (\(failure.kind.rawValue)), retrying: \(failure.message)")
            }
            lastFailure = failure
            backoffMilliseconds = min(Self.maxBackoffMilliseconds, max(Self.firstBackoffMilliseconds, backoffMilliseconds * 2))
            retryAtNanoseconds = Clock.monotonicNanoseconds + UInt64(backoffMilliseconds) * 1_000_000
            return
        }
        if report.rowsShipped > 0 || report.rowsRejected > 0 { batchesShipped += 1 }
        if lastFailure != nil {
            log("clickhouse: shipping again; \(lagRecords) records to catch up")
            lastFailure = nil
            lastLogged = [:]
        }
        backoffMilliseconds = 0
        // A full batch waiting goes at once; otherwise at the next interval.
        if shippableUpTo() - min(shippedUpTo, shippableUpTo()) >= UInt64(configuration.batchRows) { lastTurnNanoseconds = 0 }
    }
}
