// The shipping worker's half: a batch read from the local history (oldest unshipped ids first), sent as
// RowBinary, and the cursor moved on disk once ClickHouse has taken it. A batch that fails is kept, bytes and
// all, and sent again unchanged, so a retried row is identical to the first copy (same day partition, same
// (node, id)) and the table merges the two. A batch ClickHouse rejects is split in halves until the rows it
// cannot take are found: those are counted and left out, the rest goes in. Runs on the shipping worker only.

final class ClickHouseShipment: @unchecked Sendable {
    let client: ClickHouseClient
    let source: any RecordSource
    let cursor: ShippingCursor?
    private let node: [UInt8]
    private var tableReady = false
    private var batch: Batch?

    struct Batch {
        var ids: Range<UInt64>
        var rows = RowBinaryWriter()
        /// Each row's record id, for the log line that names a rejected one.
        var rowIDs: [UInt64] = []
        /// Ids from the start below this had left the history before the walk reached them. (Other ids may be
        /// missing too without loss: after a crash, ids reserved and never handed out are skipped.)
        var goneBelow: UInt64 = 0
    }

    /// What one turn did, for the reactor's figures and log.
    struct Report: Sendable {
        /// The first id not shipped, after this turn.
        var shippedUpTo: UInt64
        var rowsShipped = 0
        var bytesShipped = 0
        var rowsRejected = 0
        /// Records never shipped that the local history no longer holds (removed by retention first).
        var lost = 0
        var failure: ClickHouseClient.Failure?
        /// Receive time of the oldest record not shipped, when it is already held.
        var oldestUnshippedMilliseconds: Int64?
        var notes: [String] = []
    }

    /// Splits of a rejected batch allowed per turn: enough to isolate a few bad rows in a 100,000-row batch
    /// (about 34 requests each); a rejection of every row ends it, and the batch waits for the operator.
    static let maxSplitsPerTurn = 200

    init(client: ClickHouseClient, source: any RecordSource, cursor: ShippingCursor?) {
        self.client = client
        self.source = source
        self.cursor = cursor
        node = Array(client.configuration.node.utf8)
    }

    /// Ships ids from `start` up to `end` (at most `batchRows` of them), or fails and keeps the batch.
    func run(from start: UInt64, upTo end: UInt64, batchRows: Int) -> Report {
        var report = turn(from: start, upTo: end, batchRows: batchRows)
        report.oldestUnshippedMilliseconds = source.read(report.shippedUpTo) { $0.receivedAtMilliseconds }
        return report
    }

    private func turn(from start: UInt64, upTo end: UInt64, batchRows: Int) -> Report {
        var report = Report(shippedUpTo: start)
        var start = start
        let oldestHeld = source.storedIDs.lowerBound
        if start < oldestHeld {
            let lostEnd = min(oldestHeld, end)
            report.lost = Int(lostEnd - start)
            report.notes.append("ids \(start)-\(lostEnd - 1) left the local history before they were shipped: \(report.lost) records lost to ClickHouse")
            start = lostEnd
            report.shippedUpTo = start
            batch = nil
        }
        // Past ids never handed out (reserved before a crash): nothing to ship there.
        start = source.firstHeldID(among: start..<end)
        report.shippedUpTo = start
        guard start < end else { return storingCursor(report) }
        do throws(ClickHouseClient.Failure) {
            if !tableReady { try prepareTable(&report) }
            if batch?.ids.lowerBound != start { batch = read(start..<min(end, start + UInt64(batchRows))) }
            guard let batch else { return report }
            var splits = Self.maxSplitsPerTurn
            var rejected: [(row: Int, failure: ClickHouseClient.Failure)] = []
            if batch.rows.rowCount > 0 { try send(0..<batch.rows.rowCount, of: batch, splits: &splits, rejected: &rejected) }
            for (row, failure) in rejected {
                report.notes.append("ClickHouse cannot take record \(batch.rowIDs[row]); left out of ClickHouse: \(failure.message)")
            }
            report.rowsRejected = rejected.count
            report.rowsShipped = batch.rows.rowCount - rejected.count
            report.bytesShipped = batch.rows.bytes.count
            if batch.goneBelow > batch.ids.lowerBound {
                let missing = Int(batch.goneBelow - batch.ids.lowerBound)
                report.lost += missing
                report.notes.append("ids \(batch.ids.lowerBound)-\(batch.goneBelow - 1) left the local history while they were read: \(missing) records lost to ClickHouse")
            }
            report.shippedUpTo = batch.ids.upperBound
            self.batch = nil
        } catch {
            if error.kind == .schema { tableReady = false }
            if error.kind == .unreachable { client.disconnect() }
            report.failure = error
            return report
        }
        return storingCursor(report)
    }

    private func storingCursor(_ report: Report) -> Report {
        var report = report
        do { try cursor?.store(report.shippedUpTo) } catch {
            report.notes.append("cannot keep the shipping cursor on disk (\(error)): a restart ships again from the last one kept")
        }
        return report
    }

    /// Creates the database and the table if missing, and checks that the table's columns take our rows.
    private func prepareTable(_ report: inout Report) throws(ClickHouseClient.Failure) {
        let configuration = client.configuration
        var described = String(decoding: try client.execute(ClickHouseSchema.describeColumns(configuration)), as: UTF8.self)
        if described.isEmpty {
            _ = try client.execute(ClickHouseSchema.createDatabase(configuration))
            _ = try client.execute(ClickHouseSchema.createTable(configuration))
            report.notes.append("created table \(configuration.database).\(configuration.table)")
            described = String(decoding: try client.execute(ClickHouseSchema.describeColumns(configuration)), as: UTF8.self)
        }
        if let mismatch = ClickHouseSchema.mismatch(described) {
            throw ClickHouseClient.Failure(kind: .schema, code: nil,
                                           message: "table \(configuration.database).\(configuration.table) cannot take LogStream's rows: \(mismatch)")
        }
        tableReady = true
    }

    /// The records among `ids` as rows; ids the history no longer holds are left out.
    private func read(_ ids: Range<UInt64>) -> Batch {
        var batch = Batch(ids: ids)
        batch.rowIDs.reserveCapacity(ids.count)
        node.withUnsafeBytes { node in
            let end = source.walkNewestFirst(ids, hints: .none, { record in
                ClickHouseSchema.append(record, node: node, to: &batch.rows)
                batch.rowIDs.append(record.id)
                return true
            }, discardTorn: {
                batch.rows.removeLastRow()
                batch.rowIDs.removeLast()
            })
            if case .gone(let below) = end { batch.goneBelow = below }
        }
        return batch
    }

    /// Sends rows `range` of `batch`; when ClickHouse rejects them, sends each half on its own, down to single
    /// rows, which are the ones it cannot take.
    private func send(_ range: Range<Int>, of batch: Batch, splits: inout Int,
                      rejected: inout [(row: Int, failure: ClickHouseClient.Failure)]) throws(ClickHouseClient.Failure) {
        do { try client.insert(ClickHouseSchema.insert(client.configuration), rows: batch.rows.bytes(ofRows: range)) } catch {
            guard error.kind == .rejected else { throw error }
            guard range.count > 1 else {
                rejected.append((range.lowerBound, error))
                return
            }
            guard splits > 0 else { throw error }
            splits -= 1
            let middle = range.lowerBound + range.count / 2
            try send(range.lowerBound..<middle, of: batch, splits: &splits, rejected: &rejected)
            try send(middle..<range.upperBound, of: batch, splits: &splits, rejected: &rejected)
        }
    }
}
