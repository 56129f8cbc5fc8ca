// Where and how records are shipped to ClickHouse: the server's address, the table, the credentials, this
// node's name, and when a batch goes. Parsed and checked once at startup, so that a typo is one clear line
// then, not a retry loop later.

/// One ClickHouse server's HTTP interface, as a --clickhouse-url names it.
public struct ClickHouseServer: Sendable, Equatable {
    public var host: String
    public var port: UInt16
    /// https://: TLS, the certificate checked against `ClickHouseConfiguration.trust`.
    public var usesTLS: Bool
}

public struct ClickHouseConfiguration: Sendable {
    public var host: String
    public var port: UInt16
    public var usesTLS: Bool
    /// What https servers' certificates are checked against (--clickhouse-ca, else the system's CAs); set when
    /// any URL is https.
    public var trust: TLSClientContext?
    public var database: String
    public var table: String
    public var user: String?
    public var password: String?
    /// Every row names the node that took it in: with `id`, a record's identity across the cluster.
    public var node: String
    /// A batch goes when this many records wait, or `intervalMilliseconds` after the last one went.
    public var batchRows = 100_000
    public var intervalMilliseconds = 1000
    /// Every request to ClickHouse is given up after this long (a frozen server answers nothing, ever).
    public var timeoutMilliseconds = 30_000
    /// Day partitions older than this are dropped (nil: kept), on this server and on `otherShards`.
    public var retentionMilliseconds: Int64?
    /// The other servers of a cluster (further --clickhouse-url flags), where retention runs too.
    public var otherShards: [ClickHouseServer] = []

    /// The same settings for another server.
    public func on(_ server: ClickHouseServer) -> ClickHouseConfiguration {
        var copy = self
        (copy.host, copy.port, copy.usesTLS, copy.otherShards) = (server.host, server.port, server.usesTLS, [])
        return copy
    }

    /// Another --clickhouse-url, checked as the first is.
    public static func server(of url: String) throws(ConfigurationError) -> ClickHouseServer { try address(of: url) }

    /// `http://host[:port][/]` or `https://…`; `table` as `database.table` or `table` (in database `logstream`).
    public init(url: String, table: String, node: String) throws(ConfigurationError) {
        let server = try Self.address(of: url)
        (host, port, usesTLS) = (server.host, server.port, server.usesTLS)
        (database, self.table) = try Self.qualifiedName(table)
        guard !node.isEmpty, node.utf8.count <= 255 else { throw ConfigurationError("--node-name must be 1 to 255 bytes") }
        self.node = node
    }

    public struct ConfigurationError: Error, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    /// The table as SQL names it.
    public var qualifiedTable: String { "\(SQLText.identifier(database)).\(SQLText.identifier(table))" }

    private static func address(of url: String) throws(ConfigurationError) -> ClickHouseServer {
        let usesTLS = url.hasPrefix("https://")
        guard usesTLS || url.hasPrefix("http://") else { throw ConfigurationError("--clickhouse-url must be http(s)://host[:port], not '\(url)'") }
        var authority = Substring(url.dropFirst(usesTLS ? "https://".count : "http://".count))
        if authority.hasSuffix("/") { authority = authority.dropLast() }
        guard !authority.isEmpty, !authority.contains("/"), !authority.contains("@"), !authority.contains("?") else {
            throw ConfigurationError("--clickhouse-url must be http(s)://host[:port] with no path, user or query, not '\(url)'")
        }
        // ClickHouse's own defaults: http_port 8123, https_port 8443.
        var host = authority, port: UInt16 = usesTLS ? 8443 : 8123
        if authority.hasPrefix("[") {
            // [v6]:port
            guard let close = authority.firstIndex(of: "]") else { throw ConfigurationError("--clickhouse-url: unclosed [ in '\(url)'") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let rest = authority[authority.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":"), let number = UInt16(rest.dropFirst()), number > 0 else {
                    throw ConfigurationError("--clickhouse-url: bad port in '\(url)'")
                }
                port = number
            }
        } else if let colon = authority.lastIndex(of: ":") {
            guard let number = UInt16(authority[authority.index(after: colon)...]), number > 0 else {
                throw ConfigurationError("--clickhouse-url: bad port in '\(url)'")
            }
            (host, port) = (authority[..<colon], number)
        }
        guard !host.isEmpty else { throw ConfigurationError("--clickhouse-url: no host in '\(url)'") }
        return ClickHouseServer(host: String(host), port: port, usesTLS: usesTLS)
    }

    private static func qualifiedName(_ name: String) throws(ConfigurationError) -> (String, String) {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        let valid = { (part: String) in
            !part.isEmpty && part.utf8.count <= 128 && part.utf8.allSatisfy { $0 == UInt8(ascii: "_") || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) }
        }
        guard (1...2).contains(parts.count), parts.allSatisfy(valid), !(parts.last!.first!.isNumber) else {
            throw ConfigurationError("--clickhouse-table must be [database.]table in letters, digits and _, not '\(name)'")
        }
        return parts.count == 2 ? (parts[0], parts[1]) : ("logstream", parts[0])
    }
}
