// The cluster's history as ClickHouse holds it: searches, histograms and facets translated to SQL
// (ClickHouseSQL) over the shipped table, a Distributed one in a cluster. Records come back as RowBinary and
// are handed out as views into the answer, so the API renders them as it renders local ones. Duplicates left by
// retried batches are hidden in every answer (`LIMIT 1 BY node, id`, `uniqExact(node, id)`). Runs on the
// `cluster` worker: one request at a time, each bounded by --clickhouse-timeout.

final class ClickHouseSearch: ClusterHistory, @unchecked Sendable {
    private let client: ClickHouseClient
    private let table: String
    /// Answers are bounded: a page of 10,000 records of 64 KiB each stays under it.
    static let maxAnswerBytes = 1 << 30

    init(_ configuration: ClickHouseConfiguration) {
        client = ClickHouseClient(configuration, maxResponseBytes: Self.maxAnswerBytes)
        table = configuration.qualifiedTable
    }

    func newest(matching filter: RecordFilter, in window: ClusterWindow, limit: Int,
                _ body: (LogRecord, UnsafeRawBufferPointer) -> Void) throws(ClusterError) {
        let sql = "SELECT \(ClickHouseSchema.columnList) FROM \(table) WHERE \(ClickHouseSQL.condition(filter, window)) "
            + "ORDER BY ts_ms DESC, node DESC, id DESC LIMIT 1 BY node, id LIMIT \(limit) FORMAT RowBinary"
        try run(sql).withUnsafeBytes { ClickHouseSchema.forEachRow(in: $0, body) }
    }

    func histogram(matching filter: RecordFilter, in window: ClusterWindow, since: Int64, until: Int64,
                   buckets: Int) throws(ClusterError) -> LevelHistogram {
        let (width, count) = LevelHistogram.bucketWidth(since: since, until: until, buckets: buckets)
        var covered = window
        (covered.since, covered.until) = (since, until)
        let sql = "SELECT toUInt64(intDiv(ts_ms - \(since), \(width))) AS bucket, level, uniqExact(node, id) AS n FROM \(table) "
            + "WHERE \(ClickHouseSQL.condition(filter, covered)) GROUP BY bucket, level FORMAT RowBinary"
        var counts = [[UInt64]](repeating: [UInt64](repeating: 0, count: LogLevel.allCases.count), count: count)
        try run(sql).withUnsafeBytes { raw in
            var reader = RowBinaryReader(raw)
            while !reader.isAtEnd {
                let bucket = reader.uint64(), level = reader.string(), n = reader.uint64()
                guard !reader.failed else { return }
                if bucket < UInt64(count), let level = LogLevel(word: level) { counts[Int(bucket)][Int(level.rawValue)] += n }
            }
        }
        return LevelHistogram(since: since, bucketMilliseconds: width, counts: counts)
    }

    func timeSpan() throws(ClusterError) -> ClosedRange<Int64>? {
        let answer = try run("SELECT count() AS n, min(ts_ms), max(ts_ms) FROM \(table) FORMAT RowBinary")
        return answer.withUnsafeBytes { raw -> ClosedRange<Int64>? in
            var reader = RowBinaryReader(raw)
            let (rows, oldest, newest) = (reader.uint64(), reader.uint64(), reader.uint64())
            guard !reader.failed, rows > 0, oldest <= newest else { return nil }
            return Int64(clamping: oldest)...Int64(clamping: newest)
        }
    }

    func facets(matching filter: RecordFilter, in window: ClusterWindow, attribute: Facets.Attribute,
                limit: Int) throws(ClusterError) -> Facets {
        let condition = ClickHouseSQL.condition(filter, window)
        let value: String, holds: String
        switch attribute {
        case .service: (value, holds) = ("if(service = '', 'unknown', service)", "1")
        case .level: (value, holds) = ("level", "1")
        case .host: (value, holds) = ("host", "1")
        case .protocolName: (value, holds) = ("protocol", "1")
        case .format: (value, holds) = ("format", "1")
        case .field(let name):
            let key = SQLText.literal(String(decoding: name, as: UTF8.self))
            (value, holds) = ("field_values[indexOf(field_keys, \(key))]", "has(field_keys, \(key))")
        }
        let total = try run("SELECT uniqExact(node, id) FROM \(table) WHERE \(condition) FORMAT RowBinary").withUnsafeBytes { raw in
            var reader = RowBinaryReader(raw)
            return reader.uint64()
        }
        let sql = "SELECT \(value) AS value, uniqExact(node, id) AS n FROM \(table) WHERE (\(condition)) AND \(holds) "
            + "GROUP BY value ORDER BY n DESC, value LIMIT \(max(0, limit)) FORMAT RowBinary"
        var top: [(value: String, count: UInt64)] = []
        try run(sql).withUnsafeBytes { raw in
            var reader = RowBinaryReader(raw)
            while !reader.isAtEnd {
                let name = String(decoding: reader.string(), as: UTF8.self), n = reader.uint64()
                guard !reader.failed else { return }
                top.append((name, n))
            }
        }
        let counted = top.reduce(0) { $0 + $1.count }
        return Facets(top: top, others: total - min(total, counted), total: total)
    }

    /// The answer to `sql`, or the error to answer the client with.
    private func run(_ sql: String) throws(ClusterError) -> [UInt8] {
        do { return try client.execute(sql) } catch {
            let seconds = Double(client.configuration.timeoutMilliseconds) / 1000
            switch error.kind {
            case .rejected: throw ClusterError(status: 400, message: "ClickHouse refused the query: \(error.message)")
            case .unreachable where error.message.contains("timed out"):
                throw ClusterError(status: 504, message: "ClickHouse did not answer within \(seconds) s (--clickhouse-timeout): \(error.message)")
            case .unreachable, .tls, .unavailable, .authentication, .schema:
                throw ClusterError(status: 503, message: "the cluster's history is unavailable: \(error.message)")
            }
        }
    }
}
