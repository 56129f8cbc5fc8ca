import Testing
@testable import LogStream

@Suite("ClickHouse settings, schema and errors")
struct ClickHouseShippingTests {
    @Test("--clickhouse-url and --clickhouse-table are parsed, with ClickHouse's defaults")
    func configuration() throws {
        let plain = try ClickHouseConfiguration(url: "http://127.0.0.1:8123", table: "logstream.logs", node: "n1")
        #expect(plain.host == "127.0.0.1" && plain.port == 8123 && plain.database == "logstream" && plain.table == "logs")
        let named = try ClickHouseConfiguration(url: "http://clickhouse.internal/", table: "events", node: "n1")
        #expect(named.host == "clickhouse.internal" && named.port == 8123 && named.database == "logstream" && named.table == "events")
        let v6 = try ClickHouseConfiguration(url: "http://[::1]:9123", table: "db_2.t_1", node: "n1")
        #expect(v6.host == "::1" && v6.port == 9123 && v6.qualifiedTable == "`db_2`.`t_1`")
        #expect(!plain.usesTLS && !named.usesTLS)
        let secure = try ClickHouseConfiguration(url: "https://clickhouse.internal", table: "logs", node: "n1")
        #expect(secure.host == "clickhouse.internal" && secure.port == 8443 && secure.usesTLS)
        #expect(try ClickHouseConfiguration.server(of: "https://[::1]:9440/") == ClickHouseServer(host: "::1", port: 9440, usesTLS: true))
        let shard = try ClickHouseConfiguration.server(of: "http://shard-2:8124")
        #expect(secure.on(shard).port == 8124 && !secure.on(shard).usesTLS && secure.on(shard).host == "shard-2")
    }

    @Test("bad URLs, tables and node names are refused with the flag's name", arguments: [
        ("ftp://h:8443", "logs", "n", "must be http(s)://"), ("h:8123", "logs", "n", "must be http(s)://"),
        ("http://h:0", "logs", "n", "bad port"), ("http://h:99999", "logs", "n", "bad port"), ("http://", "logs", "n", "must be http(s)://"),
        ("http://u:p@h", "logs", "n", "no path, user or query"), ("http://h/db", "logs", "n", "no path"),
        ("http://h", "a.b.c", "n", "--clickhouse-table"), ("http://h", "x; DROP", "n", "--clickhouse-table"),
        ("http://h", "1abc", "n", "--clickhouse-table"), ("http://h", "logs", "", "--node-name"),
    ])
    func refused(_ url: String, _ table: String, _ node: String, _ expected: String) {
        #expect {
            _ = try ClickHouseConfiguration(url: url, table: table, node: node)
        } throws: { error in
            "\(error)".contains(expected)
        }
    }

    @Test("the DDL names every column we send, on a ReplacingMergeTree ordered to end in (node, id)")
    func ddl() throws {
        let configuration = try ClickHouseConfiguration(url: "http://h", table: "logstream.logs", node: "n")
        let create = ClickHouseSchema.createTable(configuration)
        for (name, type) in ClickHouseSchema.columns { #expect(create.contains("    \(name) \(type)")) }
        #expect(create.contains("ENGINE = ReplacingMergeTree") && create.contains("PARTITION BY toYYYYMMDD(ts)")
                && create.contains("ORDER BY (service, ts, node, id)"))
        #expect(ClickHouseSchema.insert(configuration).hasSuffix("(\(ClickHouseSchema.columnList)) FORMAT RowBinary"))
    }

    @Test("a table takes our rows when it has every column with our type; extra columns are fine")
    func schemaCheck() {
        let ours = ClickHouseSchema.columns.map { "\($0.name)\t\($0.type)" }
        #expect(ClickHouseSchema.mismatch((ours + ["guard\tUInt8"]).joined(separator: "\n")) == nil)
        #expect(ClickHouseSchema.mismatch(ours.map { $0.replacingOccurrences(of: "DateTime('UTC')", with: "DateTime") }.joined(separator: "\n")) == nil)
        #expect(ClickHouseSchema.mismatch("") == "the table does not exist")
        let wrong = ClickHouseSchema.mismatch("node\tString\nid\tUInt64\nts\tDateTime\nmsg\tUInt64")
        #expect(wrong?.contains("column msg is UInt64, not String") == true && wrong?.contains("no column level String") == true)
        #expect(ClickHouseSchema.mismatch(ours.map { $0.replacingOccurrences(of: "DateTime('UTC')", with: "DateTime64(3)") }.joined(separator: "\n")) != nil)
    }

    @Test("a record becomes one row in the column order", .timeLimit(.minutes(1)))
    func row() {
        var fields = FieldsBuilder()
        withBytes("user") { name in withBytes("alice") { fields.append(name: name, value: $0) } }
        withBytes("code") { name in withBytes("502") { fields.append(name: name, value: $0, kind: .literal) } }
        var rows = RowBinaryWriter()
        withBytes("card declined") { line in withBytes("h1") { host in withBytes("pay") { service in withBytes(fields.bytes) { blob in
            withBytes("n1") { node in
                let record = LogRecord(id: 42, receivedAtMilliseconds: 1_796_378_400_123, level: .error, ingestProtocol: .tcp, isTruncated: false,
                                       line: line, host: host, service: service, fields: RecordFields(blob: blob), format: .json,
                                       sourceTimeMilliseconds: nil)
                ClickHouseSchema.append(record, node: node, to: &rows)
            }
        } } } }
        var expected = RowBinaryWriter()
        expected.beginRow()
        expected.string("n1"); expected.uint64(42); expected.dateTime(seconds: 1_796_378_400); expected.uint64(1_796_378_400_123)
        expected.int64(0); expected.string("ERROR"); expected.string("pay"); expected.string("h1"); expected.string("TCP")
        expected.string("json"); expected.uint8(0); expected.string("card declined")
        expected.arrayCount(2); expected.string("user"); expected.string("code")
        expected.arrayCount(2); expected.string("alice"); expected.string("502")
        expected.arrayCount(2); expected.uint8(0); expected.uint8(1)
        #expect(rows.bytes == expected.bytes)
        // And read back as a search answer holds it (a SELECT of the same columns).
        var read: [String] = []
        rows.bytes.withUnsafeBytes { answer in
            ClickHouseSchema.forEachRow(in: answer) { record, node in
                let fields = record.fields.map { "\(String(decoding: $0.name, as: UTF8.self))=\(String(decoding: $0.value, as: UTF8.self)):\($0.kind)" }
                read.append("\(String(decoding: node, as: UTF8.self)) \(record.id) \(record.receivedAtMilliseconds) \(record.level) \(record.ingestProtocol) "
                            + "\(record.format) \(String(decoding: record.service, as: UTF8.self)) \(String(decoding: record.host, as: UTF8.self)) "
                            + "\(String(decoding: record.line, as: UTF8.self)) \(record.sourceTimeMilliseconds == nil) \(fields)")
            }
        }
        #expect(read == [#"n1 42 1796378400123 error tcp json pay h1 card declined true ["user=alice:string", "code=502:literal"]"#])
    }

    @Test("errors are told apart by what to do next", arguments: [
        (401, "Code: 193, e.displayText() = DB::Exception: Wrong password for user logstream", ClickHouseClient.Failure.Kind.authentication, 193),
        (404, "Code: 60, e.displayText() = DB::Exception: Table logstream.x doesn't exist., e.what() = DB::Exception", .schema, 60),
        (500, "Code: 252. DB::Exception: Too many parts (300). (TOO_MANY_PARTS) (version 24.3)", .unavailable, 252),
        (500, "Code: 279, e.displayText() = DB::NetException: All connection tries failed.", .unavailable, 279),
        (500, "Code: 395, e.displayText() = DB::Exception: Value passed to 'throwIf' function is non zero", .rejected, 395),
        (500, "Code: 33, e.displayText() = DB::Exception: Cannot read all data. (at row 2)", .rejected, 33),
        (503, "Service Unavailable", .unavailable, -1),
    ])
    func classification(_ status: Int, _ body: String, _ kind: ClickHouseClient.Failure.Kind, _ code: Int) {
        let failure = ClickHouseClient.failure(status: status, body: body)
        #expect(failure.kind == kind)
        #expect(failure.code == (code < 0 ? nil : code))
        #expect(failure.message.hasPrefix("HTTP \(status): "))
    }

    @Test("every request asks for a status that tells the outcome; settings are percent-encoded")
    func target() {
        let target = ClickHouseClient.target(settings: [("query", "INSERT INTO `a`.`b` (x) FORMAT RowBinary")])
        #expect(target == "/?wait_end_of_query=1&output_format_json_quote_64bit_integers=0&query=INSERT%20INTO%20%60a%60.%60b%60%20%28x%29%20FORMAT%20RowBinary")
    }
}

@Suite("ClickHouse retention")
struct ClickHouseRetentionTests {
    @Test("days are the UTC partition ids of toYYYYMMDD(ts)", arguments: [
        (Int64(0), "19700101"), (951_782_400_000, "20000229"), (951_868_799_999, "20000229"), (951_868_800_000, "20000301"),
        (1_796_378_400_123, "20261204"), (4_102_444_800_000, "21000101"), (-5, "19700101"),
    ])
    func day(_ milliseconds: Int64, _ expected: String) {
        #expect(ClickHouseRetention.day(of: milliseconds) == expected)
    }

    @Test("the local table behind a Distributed one, as system.tables writes it")
    func distributed() {
        #expect(ClickHouseRetention.distributedTarget("Distributed(logstream, logstream, logs_local, cityHash64(node, id))", defaultDatabase: "x") ?? ("", "") == ("logstream", "logs_local"))
        #expect(ClickHouseRetention.distributedTarget("Distributed('logstream', currentDatabase(), 'logs_local')", defaultDatabase: "db") ?? ("", "") == ("db", "logs_local"))
        #expect(ClickHouseRetention.distributedTarget("Distributed(c)", defaultDatabase: "db") == nil)
        #expect(ClickHouseRetention.distributedTarget("MergeTree", defaultDatabase: "db") == nil)
    }
}
