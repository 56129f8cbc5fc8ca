// Retention in ClickHouse (--clickhouse-retention): whole days dropped, since 18.16 has no TTL. A day
// partition goes once all of it is older than the retention; behind a Distributed table the days live in each
// shard's local table, which no statement on the Distributed one can drop, so the drop runs on every server
// named by --clickhouse-url. Runs on the shipping worker, hourly.

final class ClickHouseRetention: @unchecked Sendable {
    private let clients: [ClickHouseClient]
    let retentionMilliseconds: Int64

    struct Report: Sendable {
        var dropped: [String] = []
        var failures: [String] = []
    }

    init(servers: [ClickHouseConfiguration], retentionMilliseconds: Int64) {
        clients = servers.map { ClickHouseClient($0) }
        self.retentionMilliseconds = retentionMilliseconds
    }

    /// Drops, on every server, the day partitions older than the retention as of `now`.
    func run(now: Int64) -> Report {
        var report = Report()
        let cutoff = Self.day(of: now - retentionMilliseconds)
        for client in clients {
            let configuration = client.configuration
            let server = "\(configuration.host):\(configuration.port)"
            do throws(ClickHouseClient.Failure) {
                let (database, table) = try physicalTable(client)
                let list = "SELECT DISTINCT partition_id FROM system.parts WHERE database = \(SQLText.literal(database)) AND table = "
                    + "\(SQLText.literal(table)) AND active AND partition_id < \(SQLText.literal(cutoff)) ORDER BY partition_id FORMAT TabSeparated"
                let days = String(decoding: try client.execute(list), as: UTF8.self).split(separator: "\n").map(String.init)
                for day in days where day.utf8.count == 8 && day.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
                    _ = try client.execute("ALTER TABLE \(SQLText.identifier(database)).\(SQLText.identifier(table)) DROP PARTITION ID \(SQLText.literal(day))")
                    report.dropped.append("\(day) of \(database).\(table) on \(server)")
                }
            } catch {
                report.failures.append("\(server): \(error.message)")
            }
        }
        return report
    }

    /// The table holding the rows: the one shipped to, or the local table behind it if it is Distributed.
    private func physicalTable(_ client: ClickHouseClient) throws(ClickHouseClient.Failure) -> (String, String) {
        let configuration = client.configuration
        let sql = "SELECT engine, engine_full FROM system.tables WHERE database = \(SQLText.literal(configuration.database)) "
            + "AND name = \(SQLText.literal(configuration.table)) FORMAT TabSeparated"
        let line = String(decoding: try client.execute(sql), as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
        let parts = line.split(separator: "\t", maxSplits: 1).map(String.init)
        guard parts.first == "Distributed", parts.count == 2 else { return (configuration.database, configuration.table) }
        guard let local = Self.distributedTarget(parts[1], defaultDatabase: configuration.database) else {
            throw ClickHouseClient.Failure(kind: .schema, code: nil, message: "cannot read the local table behind \(parts[1])")
        }
        return local
    }

    /// `Distributed(cluster, database, table[, key])` as written in system.tables: the database and table.
    static func distributedTarget(_ engine: String, defaultDatabase: String) -> (String, String)? {
        guard let open = engine.firstIndex(of: "("), let close = engine.lastIndex(of: ")"), open < close else { return nil }
        let arguments = engine[engine.index(after: open)..<close].split(separator: ",", maxSplits: 3).map {
            $0.trimmingCharacters(in: " ").trimmingCharacters(in: "'`\"")
        }
        guard arguments.count >= 3, !arguments[2].isEmpty else { return nil }
        let database = arguments[1] == "currentDatabase()" || arguments[1].isEmpty ? defaultDatabase : arguments[1]
        return (database, arguments[2])
    }

    /// The partition id of the day (UTC) holding `milliseconds`: YYYYMMDD, the date of its ISO 8601 time.
    static func day(of milliseconds: Int64) -> String {
        String(Timestamp.iso8601(milliseconds: max(0, milliseconds)).prefix(10).filter { $0 != "-" })
    }
}
