// The table records are shipped to: its columns, the DDL that creates it, the check that an existing table can
// take our rows, and a record written as one RowBinary row. A schema that runs on Debian 12's ClickHouse
// (18.16) and on current releases alike (../shared/CLICKHOUSE.md): no DateTime64, LowCardinality, Map, TTL or
// CODEC; times as DateTime seconds plus UInt64 milliseconds, fields as parallel arrays.

enum ClickHouseSchema {
    /// Every column we send, in the order of the INSERT and of each row.
    static let columns: [(name: String, type: String)] = [
        ("node", "String"),          // the LogStream node that took the record in
        ("id", "UInt64"),            // its id there: with node, the record's identity; the same on every retry
        ("ts", "DateTime('UTC')"),   // receive time in whole seconds: partitions, time filters, buckets
        ("ts_ms", "UInt64"),         // receive time in milliseconds: exact order
        ("source_ms", "Int64"),      // the time the message gives itself, in milliseconds; 0 when none
        ("level", "String"),         // TRACE … FATAL (text, not Enum8: an unknown value would reject a batch)
        ("service", "String"),       // empty for none
        ("host", "String"),
        ("protocol", "String"),      // UDP, TCP, HTTP
        ("format", "String"),        // plain, rfc5424, json, gelf, …
        ("truncated", "UInt8"),      // 1 when the line was cut at --max-line-bytes
        ("msg", "String"),
        ("field_keys", "Array(String)"),
        ("field_values", "Array(String)"),
        ("field_kinds", "Array(UInt8)"),  // 0: a string; 1: a JSON literal (number, true, false, null)
    ]

    static var columnList: String { columns.map(\.name).joined(separator: ", ") }

    static func createDatabase(_ configuration: ClickHouseConfiguration) -> String {
        "CREATE DATABASE IF NOT EXISTS \(SQLText.identifier(configuration.database))"
    }

    /// A ReplacingMergeTree whose sorting key ends in (node, id): a record shipped twice (a retry after a
    /// timeout that had in fact been written) is merged away in time, and queries hide it until then
    /// (`LIMIT 1 BY node, id`, `uniqExact(node, id)`). Day partitions: retention drops whole days.
    static func createTable(_ configuration: ClickHouseConfiguration) -> String {
        let definitions = columns.map { "    \($0.name) \($0.type)" }.joined(separator: ",\n")
        return """
            CREATE TABLE IF NOT EXISTS \(configuration.qualifiedTable)
            (
            \(definitions)
            )
            ENGINE = ReplacingMergeTree
            PARTITION BY toYYYYMMDD(ts)
            ORDER BY (service, ts, node, id)
            """
    }

    /// The existing table's columns, as `name\ttype` lines.
    static func describeColumns(_ configuration: ClickHouseConfiguration) -> String {
        "SELECT name, type FROM system.columns WHERE database = \(SQLText.literal(configuration.database)) AND table = "
            + "\(SQLText.literal(configuration.table)) FORMAT TabSeparated"
    }

    static func insert(_ configuration: ClickHouseConfiguration) -> String {
        "INSERT INTO \(configuration.qualifiedTable) (\(columnList)) FORMAT RowBinary"
    }

    /// Why a table described as `described` (TabSeparated name, type lines) cannot take our rows; nil when it
    /// can. Columns of its own beyond ours are fine (DEFAULT or MATERIALIZED ones, say); ours must all be
    /// there with our types. An empty description: the table does not exist.
    static func mismatch(_ described: String) -> String? {
        var types: [String: String] = [:]
        for line in described.split(separator: "\n") {
            let parts = line.split(separator: "\t", maxSplits: 1)
            if parts.count == 2 { types[String(parts[0])] = String(parts[1]) }
        }
        guard !types.isEmpty else { return "the table does not exist" }
        let problems = columns.compactMap { column -> String? in
            guard let type = types[column.name] else { return "no column \(column.name) \(column.type)" }
            return Self.sameType(type, column.type) ? nil : "column \(column.name) is \(type), not \(column.type)"
        }
        return problems.isEmpty ? nil : problems.joined(separator: "; ")
    }

    /// DateTime('UTC') and DateTime take the same bytes: either is fine for `ts`.
    private static func sameType(_ actual: String, _ expected: String) -> Bool {
        actual == expected || (expected.hasPrefix("DateTime(") && actual.hasPrefix("DateTime") && !actual.hasPrefix("DateTime64"))
    }

    /// Appends `record`, taken in by `node`, as one row.
    static func append(_ record: LogRecord, node: UnsafeRawBufferPointer, to rows: inout RowBinaryWriter) {
        rows.beginRow()
        rows.string(node)
        rows.uint64(record.id)
        rows.dateTime(seconds: record.receivedAtMilliseconds / 1000)
        rows.uint64(UInt64(clamping: record.receivedAtMilliseconds))
        rows.int64(record.sourceTimeMilliseconds ?? 0)
        rows.string(record.level.name)
        rows.string(record.service)
        rows.string(record.host)
        rows.string(record.ingestProtocol.name)
        rows.string(record.format.name)
        rows.uint8(record.isTruncated ? 1 : 0)
        rows.string(record.line)
        let fieldCount = record.fields.reduce(0) { count, _ in count + 1 }
        rows.arrayCount(fieldCount)
        for field in record.fields { rows.string(field.name) }
        rows.arrayCount(fieldCount)
        for field in record.fields { rows.string(field.value) }
        rows.arrayCount(fieldCount)
        for field in record.fields { rows.uint8(field.kind.rawValue) }
    }

    /// Reads rows as `append` writes them (a `SELECT` of `columnList`) and hands each out as a record, with the
    /// node that took it in, as views into `answer`; stops at the first row that does not read whole.
    static func forEachRow(in answer: UnsafeRawBufferPointer, _ body: (LogRecord, _ node: UnsafeRawBufferPointer) -> Void) {
        var reader = RowBinaryReader(answer)
        var fields = FieldsBuilder()
        while !reader.isAtEnd {
            let node = reader.string(), id = reader.uint64()
            _ = reader.uint32()  // ts: ts_ms says it to the millisecond
            let received = reader.uint64(), source = reader.int64()
            let level = reader.string(), service = reader.string(), host = reader.string()
            let transport = reader.string(), format = reader.string(), truncated = reader.uint8(), line = reader.string()
            let keys = (0..<reader.arrayCount()).map { _ in reader.string() }
            let values = (0..<reader.arrayCount()).map { _ in reader.string() }
            let kinds = (0..<reader.arrayCount()).map { _ in reader.uint8() }
            guard !reader.failed else { return }
            fields.removeAll()
            for (index, key) in keys.enumerated() where index < values.count {
                fields.append(name: key, value: values[index], kind: index < kinds.count && kinds[index] == FieldKind.literal.rawValue ? .literal : .string)
            }
            fields.bytes.withUnsafeBytes { blob in
                let record = LogRecord(id: id, receivedAtMilliseconds: Int64(clamping: received), level: LogLevel(word: level) ?? .info,
                                       ingestProtocol: IngestProtocol(name: transport) ?? .tcp, isTruncated: truncated != 0, line: line,
                                       host: host, service: service, fields: RecordFields(blob: blob), format: LogFormat(name: format) ?? .plain,
                                       sourceTimeMilliseconds: source == 0 ? nil : source)
                body(record, node)
            }
        }
    }
}
