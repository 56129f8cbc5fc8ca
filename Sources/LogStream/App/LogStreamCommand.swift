// The command line: flags, their validation, and turning any startup failure into one clear line on stderr.
import ArgumentParser
import Glibc

public struct LogStreamCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "logstream",
        abstract: "A log aggregation server: UDP and TCP lines in, search and a live dashboard out."
    )

    @Option(help: "UDP port for log lines.") var udpPort: UInt16 = 9000
    @Option(help: "TCP port for newline-delimited log lines.") var tcpPort: UInt16 = 9001
    @Option(help: "HTTP port for the API, the dashboard and the WebSocket live tail.") var httpPort: UInt16 = 8000
    @Option(help: "Address the UDP and TCP listeners bind to.") var bind = "0.0.0.0"
    @Option(help: "Address the HTTP server binds to.") var httpBind = "127.0.0.1"
    @Option(help: "Records kept in memory; the oldest are evicted first.") var bufferSize = 100_000
    @Option(help: "Bytes of log text kept in memory (suffixes K, M, G).") var bufferBytes = ByteCount(256 << 20)
    @Option(help: "Longest line kept; longer lines are truncated and counted (suffixes K, M).") var maxLineBytes = ByteCount(64 << 10)
    @Option(help: "Receive buffer requested for the UDP socket (suffixes K, M).") var udpReceiveBuffer = ByteCount(32 << 20)
    @Option(help: "Folder holding the dashboard (default: ./static or the one beside the executable).") var staticDir: String?
    @Option(help: "Most TCP ingest connections at once; more are accepted and closed at once.") var maxConnections = 1024
    @Option(help: "Most HTTP and WebSocket connections at once; more are accepted and closed at once.") var maxHttpConnections = 256
    @Option(help: "Seconds a TCP ingest connection may stay silent before it is closed (0: never).") var idleTimeout = 300
    @Option(help: "Seconds an HTTP request head may take to arrive (slowloris); also how long a kept-alive connection may idle.")
    var headerTimeout = 10
    @Option(help: "Seconds between pings to a quiet WebSocket client; one that does not answer within as long, or stays too far behind for as long, is closed.")
    var wsPingInterval = 30
    @Option(help: "Token the HTTP API, the dashboard and the WebSocket require (Authorization: Bearer, or the login page's cookie); default: $LOGSTREAM_AUTH_TOKEN.")
    var authToken: String?
    @Option(help: "Comma-separated origins (scheme://host[:port]) whose pages may open the WebSocket, besides the server's own.")
    var allowedOrigins: String?
    @Option(help: "Folder the history is kept in (created if missing).") var dataDir = "logstream-data"
    @Flag(help: "Keep records in memory only: nothing is written, nothing survives a restart.") var noPersist = false
    @Option(help: "Most bytes of history on disk; the oldest files are removed first (suffixes K, M, G, T).")
    var retentionBytes = ByteCount(10 << 30)
    @Option(help: "How long history is kept, by receive time (90s, 12h, 7d).") var retentionPeriod = TimeSpan(seconds: 7 * 86_400)
    @Option(help: "How often written records are synced to the disk (1s, 250ms; 0: after every write batch). A crash loses at most the records of the last interval.")
    var fsyncInterval = TimeSpan(seconds: 1)

    @Option(help: "Largest HTTP ingestion body, before inflating (suffixes K, M); a compressed body may inflate to 8 times this.")
    var maxBodyBytes = ByteCount(16 << 20)
    @Option(help: "Port for OTLP/HTTP logs alone (/v1/logs; 4318 is the convention; off unless given). The HTTP port serves it too.")
    var otlpPort: UInt16?
    @Option(help: "Port for the Loki push API alone (/loki/api/v1/push; 3100 is the convention; off unless given).")
    var lokiPort: UInt16?
    @Option(help: "Port for the Elasticsearch API alone, at its root (9200 is the convention; off unless given). The HTTP port serves it under /es.")
    var elasticsearchPort: UInt16?
    @Option(help: "The Elasticsearch version the API reports to shippers and clients.") var elasticsearchVersion = "8.17.0"

    @Option(help: "Port for GELF over UDP (whole or chunked, plain, gzip or zlib) and TCP (NUL-terminated); 12201 is the convention; off unless given.")
    var gelfPort: UInt16?
    @Option(help: "Bytes the chunks of incomplete GELF messages may hold; beyond, the oldest are dropped and counted (suffixes K, M).")
    var gelfMaxPendingBytes = ByteCount(64 << 20)
    @Option(help: "Port for Fluent Forward over TCP, with its UDP heartbeat (24224 is the convention; off unless given).")
    var forwardPort: UInt16?
    @Option(help: "Shared key Forward senders must prove in the handshake (HELO, PING, PONG); default: $LOGSTREAM_FORWARD_SHARED_KEY, else none.")
    var forwardSharedKey: String?
    @Option(help: "Multi-line joining on TCP, Forward and /api/ingest lines: 'auto' joins a stack trace's lines into one record; 'off'.")
    var multiline = "off"

    @Option(help: "ClickHouse's HTTP interface (http://host:8123, or https://host:8443): every record is shipped there, at least once, and source=cluster searches it; off unless given. Given again, the other shards of a cluster, where --clickhouse-retention runs too.")
    var clickhouseUrl: [String] = []
    @Option(help: "The ClickHouse table shipped to, [database.]table; created if missing. A Distributed table works the same.")
    var clickhouseTable = "logstream.logs"
    @Option(help: "ClickHouse user (default: ClickHouse's default user).") var clickhouseUser: String?
    @Option(help: "ClickHouse password; default: $LOGSTREAM_CLICKHOUSE_PASSWORD.") var clickhousePassword: String?
    @Option(help: "This node's name in ClickHouse: every row says which node took it in (default: the host name).") var nodeName: String?
    @Option(help: "Records per batch shipped to ClickHouse: a batch goes when this many wait or --clickhouse-interval has passed.")
    var clickhouseBatch = 100_000
    @Option(help: "Longest wait before waiting records are shipped to ClickHouse (1s, 250ms).") var clickhouseInterval = TimeSpan(seconds: 1)
    @Option(help: "Every request to ClickHouse is given up after this long, and retried (a frozen server answers nothing).")
    var clickhouseTimeout = TimeSpan(seconds: 30)
    @Option(help: "Days of history kept in ClickHouse (7d, 30d): older day partitions are dropped hourly on every --clickhouse-url; default: kept.")
    var clickhouseRetention: TimeSpan?
    @Option(help: "PEM CA certificate(s) that ClickHouse's certificate must chain to, for https:// URLs (default: the system's CAs).")
    var clickhouseCa: String?
    @Option(help: "PEM certificate (a chain allowed) LogStream presents to an https:// ClickHouse that asks for one (mutual TLS); with --clickhouse-tls-key.")
    var clickhouseTlsCert: String?
    @Option(help: "PEM private key of --clickhouse-tls-cert.") var clickhouseTlsKey: String?

    @Option(help: "PEM certificate (a chain allowed) for TLS: with --tls-key, the HTTP port serves HTTPS and WSS only, and the OTLP, Loki and Elasticsearch ports HTTPS. SIGHUP reloads it.")
    var tlsCert: String?
    @Option(help: "PEM private key of --tls-cert.") var tlsKey: String?
    @Option(help: "Port for syslog over TLS (RFC 5425, octet-counted or newline frames; 6514 is the convention; off unless given).")
    var tlsSyslogPort: UInt16?
    @Option(help: "Port for Fluent Forward over TLS (Fluent Bit's `tls on`; with --forward-shared-key, its handshake too; off unless given).")
    var tlsForwardPort: UInt16?
    @Option(help: "PEM CA certificate(s): the ingestion listeners (syslog over TLS, the shippers' ports) require a client certificate it signed.")
    var tlsClientCa: String?
    @Flag(help: "With --tls-client-ca: a client certificate's common name is the host of every record that client sends.")
    var tlsHostFromCertificate = false

    public init() {}

    public func validate() throws {
        guard (1...100_000_000).contains(bufferSize) else { throw ValidationError("--buffer-size must be between 1 and 100000000") }
        guard (1...(16 << 20)).contains(maxLineBytes.value) else { throw ValidationError("--max-line-bytes must be between 1 and 16M") }
        guard bufferBytes.value >= 2 * maxLineBytes.value + 512 else {
            throw ValidationError("--buffer-bytes must be at least twice --max-line-bytes")
        }
        guard bufferBytes.value <= 64 << 30 else { throw ValidationError("--buffer-bytes must be at most 64G") }
        for (flag, address) in [("--bind", bind), ("--http-bind", httpBind)] where SocketAddress(host: address, port: 0) == nil {
            throw ValidationError("\(flag) must be a numeric IPv4 or IPv6 address, not '\(address)'")
        }
        if let staticDir, !FileSystem.isDirectory(staticDir) {
            throw ValidationError("--static-dir '\(staticDir)' is not a folder")
        }
        guard (1...1_000_000).contains(maxConnections) else { throw ValidationError("--max-connections must be between 1 and 1000000") }
        guard (1...100_000).contains(maxHttpConnections) else { throw ValidationError("--max-http-connections must be between 1 and 100000") }
        guard (0...604_800).contains(idleTimeout) else { throw ValidationError("--idle-timeout must be between 0 and 604800 seconds") }
        guard (1...3600).contains(headerTimeout) else { throw ValidationError("--header-timeout must be between 1 and 3600 seconds") }
        guard (1...3600).contains(wsPingInterval) else { throw ValidationError("--ws-ping-interval must be between 1 and 3600 seconds") }
        if let token = effectiveAuthToken, let problem = AccessPolicy.problem(withToken: token) {
            throw ValidationError("--auth-token \(problem)")
        }
        guard retentionBytes.value >= 1 << 20 else { throw ValidationError("--retention-bytes must be at least 1M") }
        guard retentionPeriod.milliseconds >= 1000 else { throw ValidationError("--retention-period must be at least 1s") }
        guard fsyncInterval.milliseconds <= 3_600_000 else { throw ValidationError("--fsync-interval must be at most 1h") }
        guard (1024...(1 << 30)).contains(maxBodyBytes.value) else { throw ValidationError("--max-body-bytes must be between 1K and 1G") }
        let parts = elasticsearchVersion.split(separator: ".")
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }) else {
            throw ValidationError("--elasticsearch-version must be MAJOR.MINOR.PATCH, such as 8.17.0")
        }
        guard gelfMaxPendingBytes.value >= 64 << 10 else { throw ValidationError("--gelf-max-pending-bytes must be at least 64K") }
        guard ["auto", "off"].contains(multiline) else { throw ValidationError("--multiline must be 'auto' or 'off', not '\(multiline)'") }
        if let key = effectiveForwardSharedKey, key.isEmpty || key.utf8.count > 1024 {
            throw ValidationError("--forward-shared-key must be 1 to 1024 bytes")
        }
        let ports = [udpPort, tcpPort, gelfPort, forwardPort].compactMap { $0 }.filter { $0 != 0 }
        if Set(ports).count < ports.count, gelfPort != nil || forwardPort != nil {
            throw ValidationError("--gelf-port and --forward-port must differ from each other and from --udp-port and --tcp-port")
        }
        guard (1...1_000_000).contains(clickhouseBatch) else { throw ValidationError("--clickhouse-batch must be between 1 and 1000000") }
        guard (10...3_600_000).contains(clickhouseInterval.milliseconds) else { throw ValidationError("--clickhouse-interval must be between 10ms and 1h") }
        guard (100...3_600_000).contains(clickhouseTimeout.milliseconds) else { throw ValidationError("--clickhouse-timeout must be between 100ms and 1h") }
        if let retention = clickhouseRetention, retention.milliseconds < 86_400_000 {
            throw ValidationError("--clickhouse-retention must be at least 1d: ClickHouse keeps whole days")
        }
        do { _ = try clickhouse } catch { throw ValidationError(error.description) }
        if (tlsCert == nil) != (tlsKey == nil) { throw ValidationError("--tls-cert and --tls-key go together") }
        if tlsCert == nil, tlsSyslogPort != nil || tlsForwardPort != nil || tlsClientCa != nil {
            throw ValidationError("--tls-syslog-port, --tls-forward-port and --tls-client-ca need --tls-cert and --tls-key")
        }
        if tlsHostFromCertificate, tlsClientCa == nil { throw ValidationError("--tls-host-from-certificate needs --tls-client-ca") }
        let listenerPorts: [UInt16?] = [udpPort, tcpPort, httpPort, gelfPort, forwardPort, otlpPort, lokiPort, elasticsearchPort]
        for (flag, port, other) in [("--tls-syslog-port", tlsSyslogPort, tlsForwardPort), ("--tls-forward-port", tlsForwardPort, tlsSyslogPort)] {
            if let port, port != 0, (listenerPorts + [other]).contains(port) { throw ValidationError("\(flag) must differ from the other ports") }
        }
        for origin in origins where AccessPolicy.normalizedOrigin(origin) == nil {
            throw ValidationError("--allowed-origins: '\(origin)' is not scheme://host[:port]")
        }
    }

    /// The flag, else the environment (a token on the command line shows in `ps`; the environment does not).
    private var effectiveAuthToken: String? {
        if let authToken { return authToken }
        guard let value = getenv("LOGSTREAM_AUTH_TOKEN") else { return nil }
        let token = String(cString: value)
        return token.isEmpty ? nil : token
    }

    private var effectiveForwardSharedKey: String? {
        if let forwardSharedKey { return forwardSharedKey }
        guard let value = getenv("LOGSTREAM_FORWARD_SHARED_KEY") else { return nil }
        let key = String(cString: value)
        return key.isEmpty ? nil : key
    }

    /// The shipping settings; nil without --clickhouse-url.
    private var clickhouse: ClickHouseConfiguration? {
        get throws(ClickHouseConfiguration.ConfigurationError) {
            let tlsFlags = clickhouseCa != nil || clickhouseTlsCert != nil || clickhouseTlsKey != nil
            let needsHTTPS = ClickHouseConfiguration.ConfigurationError("--clickhouse-ca and --clickhouse-tls-cert/-key need an https:// --clickhouse-url")
            guard let first = clickhouseUrl.first else {
                if tlsFlags { throw needsHTTPS }
                return nil
            }
            if (clickhouseTlsCert == nil) != (clickhouseTlsKey == nil) { throw .init("--clickhouse-tls-cert and --clickhouse-tls-key go together") }
            var settings = try ClickHouseConfiguration(url: first, table: clickhouseTable, node: nodeName ?? ProcessResources.hostName)
            settings.otherShards = try clickhouseUrl.dropFirst().map(ClickHouseConfiguration.server)
            if settings.usesTLS || settings.otherShards.contains(where: \.usesTLS) {
                do { settings.trust = try TLSClientContext(trusting: clickhouseCa, certificate: clickhouseTlsCert, key: clickhouseTlsKey) } catch {
                    throw .init("--clickhouse-ca/--clickhouse-tls-cert: \(error)")
                }
            } else if tlsFlags {
                throw needsHTTPS
            }
            settings.retentionMilliseconds = clickhouseRetention?.milliseconds
            settings.user = clickhouseUser
            settings.password = clickhousePassword ?? getenv("LOGSTREAM_CLICKHOUSE_PASSWORD").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
            settings.batchRows = clickhouseBatch
            settings.intervalMilliseconds = Int(clickhouseInterval.milliseconds)
            settings.timeoutMilliseconds = Int(clickhouseTimeout.milliseconds)
            return settings
        }
    }

    private var origins: [String] {
        (allowedOrigins ?? "").split(separator: ",").map { String($0).trimmingCharacters(in: " ") }.filter { !$0.isEmpty }
    }

    public func run() throws {
        var access = AccessPolicy(token: effectiveAuthToken, allowedOrigins: origins.compactMap(AccessPolicy.normalizedOrigin))
        access.isServedOverTLS = tlsCert != nil
        let configuration = ServerConfiguration(
            udpAddress: SocketAddress(host: bind, port: udpPort)!,
            tcpAddress: SocketAddress(host: bind, port: tcpPort)!,
            httpAddress: SocketAddress(host: httpBind, port: httpPort)!,
            bufferRecords: bufferSize,
            bufferBytes: bufferBytes.value,
            maxLineBytes: maxLineBytes.value,
            udpReceiveBufferBytes: udpReceiveBuffer.value,
            staticDirectory: staticDir ?? StaticDirectory.find(),
            maxTCPConnections: maxConnections,
            maxHTTPConnections: maxHttpConnections,
            idleTimeoutSeconds: idleTimeout,
            headerTimeoutSeconds: headerTimeout,
            pingIntervalSeconds: wsPingInterval,
            access: access,
            persistence: noPersist ? nil : DiskHistory.Configuration(
                path: dataDir,
                retention: RetentionPolicy(maxBytes: retentionBytes.value, maxAgeMilliseconds: retentionPeriod.milliseconds),
                syncIntervalMilliseconds: Int(fsyncInterval.milliseconds)),
            ingestion: IngestionConfiguration(
                maxBodyBytes: maxBodyBytes.value, elasticsearchVersion: elasticsearchVersion,
                otlpAddress: otlpPort.map { SocketAddress(host: bind, port: $0)! },
                lokiAddress: lokiPort.map { SocketAddress(host: bind, port: $0)! },
                elasticsearchAddress: elasticsearchPort.map { SocketAddress(host: bind, port: $0)! }),
            containers: ContainerIngestConfiguration(
                gelfAddress: gelfPort.map { SocketAddress(host: bind, port: $0)! }, gelfMaxPendingChunkBytes: gelfMaxPendingBytes.value,
                forwardAddress: forwardPort.map { SocketAddress(host: bind, port: $0)! }, forwardSharedKey: effectiveForwardSharedKey,
                joinsLines: multiline == "auto"),
            clickhouse: try clickhouse,
            tls: tlsCert.map { certificate in
                TLSConfiguration(files: TLSFiles(certificate: certificate, key: tlsKey!, clientCA: tlsClientCa),
                                 syslogAddress: tlsSyslogPort.map { SocketAddress(host: bind, port: $0)! },
                                 forwardAddress: tlsForwardPort.map { SocketAddress(host: bind, port: $0)! },
                                 hostFromCertificate: tlsHostFromCertificate)
            }
        )
        let server = try Server(configuration: configuration)
        server.run()
    }

    /// Parses the command line and runs; any error is one line on stderr and a non-zero exit.
    public static func runFromCommandLine() -> Never {
        do {
            var command = try parseAsRoot()
            try command.run()
            Glibc.exit(0)
        } catch {
            let code = exitCode(for: error)
            if code == .success { exit(withError: error) }  // --help and friends print their own text
            let message = LogStreamCommand.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            log("error: \(message)")
            Glibc.exit(code.rawValue == 0 ? 1 : code.rawValue)
        }
    }
}

/// A span of time: a number with a unit (`ms`, `s`, `m`, `h`, `d`; seconds without one).
struct TimeSpan: ExpressibleByArgument, CustomStringConvertible {
    var milliseconds: Int64

    init(seconds: Int64) { milliseconds = seconds * 1000 }
    init(milliseconds: Int64) { self.milliseconds = milliseconds }

    init?(argument: String) {
        let text = argument.lowercased()
        guard let milliseconds = RecordWindow.duration(text) ?? RecordWindow.duration(text + "s") else { return nil }
        self.milliseconds = milliseconds
    }

    var description: String {
        for (unit, factor) in [("d", Int64(86_400_000)), ("h", 3_600_000), ("m", 60_000), ("s", 1000)] where milliseconds % factor == 0 && milliseconds > 0 {
            return "\(milliseconds / factor)\(unit)"
        }
        return "\(milliseconds)ms"
    }
}

/// A size in bytes, written as a number with an optional K, M, G or T suffix (powers of 1024).
struct ByteCount: ExpressibleByArgument, CustomStringConvertible {
    var value: Int

    init(_ value: Int) { self.value = value }

    init?(argument: String) {
        let multipliers: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        var digits = Substring(argument.uppercased())
        if digits.hasSuffix("B") { digits = digits.dropLast() }
        var multiplier = 1
        if let last = digits.last, let factor = multipliers[last] {
            multiplier = factor
            digits = digits.dropLast()
        }
        guard let number = Int(digits), number >= 0, number <= Int.max / multiplier else { return nil }
        value = number * multiplier
    }

    var description: String {
        if value % (1 << 30) == 0 && value > 0 { return "\(value >> 30)G" }
        if value % (1 << 20) == 0 { return "\(value >> 20)M" }
        if value % (1 << 10) == 0 { return "\(value >> 10)K" }
        return "\(value)"
    }
}
