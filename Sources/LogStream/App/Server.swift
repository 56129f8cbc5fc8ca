// Wiring: one reactor, the ring, the ingest listeners and the web server; startup and graceful shutdown.
import Glibc

struct ServerConfiguration {
    var udpAddress: SocketAddress
    var tcpAddress: SocketAddress
    var httpAddress: SocketAddress
    var bufferRecords: Int
    var bufferBytes: Int
    var maxLineBytes: Int
    var udpReceiveBufferBytes: Int
    var staticDirectory: String?
    var maxTCPConnections = 1024
    var maxHTTPConnections = 256
    var idleTimeoutSeconds = 300
    var headerTimeoutSeconds = 10
    var pingIntervalSeconds = 30
    var access = AccessPolicy(token: nil, allowedOrigins: [])
    /// nil: memory only (--no-persist).
    var persistence: DiskHistory.Configuration?
    var ingestion = IngestionConfiguration()
    var containers = ContainerIngestConfiguration()
    /// nil: no shipping.
    var clickhouse: ClickHouseConfiguration?
    /// nil: no TLS anywhere.
    var tls: TLSConfiguration?
}

/// GELF and Fluent Forward (nil addresses: off), and multi-line joining on the stream listeners.
struct ContainerIngestConfiguration {
    var gelfAddress: SocketAddress?
    var gelfMaxPendingChunkBytes = 64 << 20
    var forwardAddress: SocketAddress?
    var forwardSharedKey: String?
    var joinsLines = false
    /// A joined record is handed out after this long without a new line.
    static let multilineQuietMilliseconds: Int64 = 200
}

/// The shippers' HTTP endpoints: their bounds, and the ports of their own (nil: the HTTP port only).
struct IngestionConfiguration {
    var maxBodyBytes = 16 << 20
    var elasticsearchVersion = "8.17.0"
    var otlpAddress: SocketAddress?
    var lokiAddress: SocketAddress?
    var elasticsearchAddress: SocketAddress?
}

struct StartupError: Error, CustomStringConvertible {
    var description: String
}

final class Server {
    private let reactor: Reactor
    let ring: LogRing
    let destination: RecordDestination
    let udp: UDPLineListener<LineIngest>
    let tcp: TCPLineListener<LineIngest>
    let http: HTTPServer
    /// The dedicated OTLP, Loki and Elasticsearch listeners that were asked for.
    let shipperServers: [(name: String, server: HTTPServer)]
    let httpIngest: HTTPIngest
    /// GELF over UDP and TCP, when asked for.
    let gelf: (ingest: GELFIngest, udp: UDPLineListener<GELFIngest>, tcp: TCPLineListener<GELFIngest>)?
    let forward: (listener: ForwardListener, heartbeat: ForwardHeartbeat)?
    let tls: ServerTLS?
    /// Forward over TLS, when asked for.
    let tlsForward: ForwardListener?
    /// Syslog over TLS, when asked for.
    let tlsSyslog: TCPLineListener<LineIngest>?
    let liveTail: LiveTail
    let disk: DiskHistory?
    let clickhouse: ClickHouseShipper?
    let metrics = MetricRegistry()

    init(configuration: ServerConfiguration) throws {
        ProcessResources.ignoreBrokenPipes()
        ProcessResources.raiseDescriptorLimit()
        reactor = try Reactor()

        // The ports first: a port in use is reported before anything is written to the data directory.
        let (udpFD, grantedBuffer) = try Self.bound("UDP", configuration.udpAddress) { () throws(SystemError) in
            try Socket.bindUDP(on: configuration.udpAddress, receiveBufferBytes: Int32(clamping: configuration.udpReceiveBufferBytes))
        }
        let tcpFD = try Self.bound("TCP", configuration.tcpAddress) { () throws(SystemError) in try Socket.listenTCP(on: configuration.tcpAddress) }
        let httpFD = try Self.bound("HTTP", configuration.httpAddress) { () throws(SystemError) in try Socket.listenTCP(on: configuration.httpAddress) }
        let ingestion = configuration.ingestion
        var shipperFDs: [(String, HTTPIngest.Mount, FileDescriptor)] = []
        for (name, mount, address) in [("OTLP", HTTPIngest.Mount.otlp, ingestion.otlpAddress), ("Loki", .loki, ingestion.lokiAddress),
                                       ("Elasticsearch", .elasticsearch, ingestion.elasticsearchAddress)] {
            guard let address else { continue }
            shipperFDs.append((name, mount, try Self.bound(name, address) { () throws(SystemError) in try Socket.listenTCP(on: address) }))
        }

        let containers = configuration.containers
        let gelfFDs = try containers.gelfAddress.map { address in
            (udp: try Self.bound("GELF UDP", address) { () throws(SystemError) in
                try Socket.bindUDP(on: address, receiveBufferBytes: Int32(clamping: configuration.udpReceiveBufferBytes)).0 },
             tcp: try Self.bound("GELF TCP", address) { () throws(SystemError) in try Socket.listenTCP(on: address) })
        }
        let tlsSyslogFD = try configuration.tls?.syslogAddress.map { address in
            try Self.bound("syslog TLS", address) { () throws(SystemError) in try Socket.listenTCP(on: address) }
        }
        let tlsForwardFD = try configuration.tls?.forwardAddress.map { address in
            try Self.bound("Forward TLS", address) { () throws(SystemError) in try Socket.listenTCP(on: address) }
        }
        // The certificate next: one that cannot be served stops the start before the data directory is touched.
        let tls = try ServerTLS.make(configuration.tls, reactor: reactor, handshakeTimeoutSeconds: configuration.headerTimeoutSeconds)
        self.tls = tls
        let forwardFDs = try containers.forwardAddress.map { address in
            (tcp: try Self.bound("Forward", address) { () throws(SystemError) in try Socket.listenTCP(on: address) },
             udp: try Self.bound("Forward heartbeat UDP", address) { () throws(SystemError) in
                try Socket.bindUDP(on: address, receiveBufferBytes: 1 << 16).0 })
        }

        // Storage: the ring is where records go; the disk history, read back first, continues its ids and
        // holds everything older. Searches read both as one history.
        if let persistence = configuration.persistence {
            let history: DiskHistory
            do { history = try DiskHistory(persistence, report: { log($0) }) } catch { throw StartupError(description: error.description) }
            disk = history
            ring = history.makeRing(capacity: configuration.bufferRecords, arenaBytes: configuration.bufferBytes)
        } else {
            disk = nil
            ring = LogRing(capacity: configuration.bufferRecords, arenaBytes: configuration.bufferBytes)
        }
        destination = RecordDestination(ring: ring)
        let ring = ring
        let source: any RecordSource = disk.map { MergedSource(newestFirst: [ring, $0.pending, $0.source]) } ?? ring
        let ingest = LineIngest(destination: destination)
        udp = UDPLineListener(fd: udpFD, reactor: reactor, ingest: ingest, maxLineBytes: configuration.maxLineBytes)
        tcp = TCPLineListener(fd: tcpFD, reactor: reactor, ingest: ingest, maxLineBytes: configuration.maxLineBytes,
                              maxConnections: configuration.maxTCPConnections, idleTimeoutSeconds: configuration.idleTimeoutSeconds,
                              joinsLines: containers.joinsLines)
        if let tls, let fd = tlsSyslogFD {
            tlsSyslog = TCPLineListener(fd: fd, reactor: reactor, ingest: ingest, maxLineBytes: configuration.maxLineBytes,
                                        maxConnections: configuration.maxTCPConnections, idleTimeoutSeconds: configuration.idleTimeoutSeconds,
                                        joinsLines: containers.joinsLines, tls: tls.ingestionAcceptor(listener: "syslog", peersRead: false))
        } else {
            tlsSyslog = nil
        }
        // GELF: a message (a datagram, chunks joined, a TCP frame) may be larger than a line: its JSON is
        // decoded whole, and its text cut at --max-line-bytes.
        let gelfMessageBytes = max(1 << 20, 2 * configuration.maxLineBytes)
        let (loop, destination) = (reactor, destination)
        gelf = gelfFDs.map { fds in
            let gelfIngest = GELFIngest(destination: destination, maxLineBytes: configuration.maxLineBytes, maxMessageBytes: gelfMessageBytes,
                                        maxPendingChunkBytes: containers.gelfMaxPendingChunkBytes)
            return (gelfIngest, UDPLineListener(fd: fds.udp, reactor: loop, ingest: gelfIngest, maxLineBytes: configuration.maxLineBytes),
                    TCPLineListener(fd: fds.tcp, reactor: loop, ingest: gelfIngest, maxLineBytes: gelfMessageBytes,
                                    maxConnections: configuration.maxTCPConnections, idleTimeoutSeconds: configuration.idleTimeoutSeconds,
                                    framing: .nulTerminated))
        }

        // The web side: one route table for the dashboard API and the live tail; searches on their own worker.
        let queries = try reactor.startWorker(named: "query")
        liveTail = LiveTail(source: source, reactor: reactor, worker: queries)
        let staticFiles = StaticFiles(directory: configuration.staticDirectory)
        let api = DashboardAPI(source: source, metrics: metrics, staticFiles: staticFiles, queries: queries, access: configuration.access)
        let router = Router()
        router.admission = { [unowned api] request in api.refusal(for: request) }
        api.register(into: router)
        liveTail.register(into: router, access: configuration.access)
        http = HTTPServer(fd: httpFD, reactor: reactor, router: router, maxConnections: configuration.maxHTTPConnections,
                          headerTimeoutSeconds: configuration.headerTimeoutSeconds, alsoOpen: { [unowned liveTail] in liveTail.sessionCount },
                          tls: tls?.dashboardAcceptor(port: configuration.httpAddress.port))

        // The shippers' endpoints: on the HTTP port, and on the ports of their own that were asked for. Large
        // bodies are inflated and decoded on their own worker, never behind a search.
        let reactor = reactor
        let httpIngest = HTTPIngest(destination: destination, worker: try reactor.startWorker(named: "ingest"),
                                    maxBodyBytes: ingestion.maxBodyBytes, maxLineBytes: configuration.maxLineBytes,
                                    elasticsearchVersion: ingestion.elasticsearchVersion, now: { Clock.wallMilliseconds },
                                    nextTurn: { _ = reactor.schedule(afterMilliseconds: 0, $0) })
        self.httpIngest = httpIngest
        httpIngest.joinsLines = containers.joinsLines
        httpIngest.register(into: router, .all)
        let ingestWorker = httpIngest.worker
        var forwardSettings = ForwardListener.Configuration(maxMessageBytes: ingestion.maxBodyBytes, maxLineBytes: configuration.maxLineBytes)
        forwardSettings.maxConnections = configuration.maxTCPConnections
        forwardSettings.idleTimeoutSeconds = configuration.idleTimeoutSeconds
        forwardSettings.sharedKey = containers.forwardSharedKey
        forwardSettings.hostname = ProcessResources.hostName
        forwardSettings.joinsLines = containers.joinsLines
        let forwardListener = { (fd: FileDescriptor, tls: TLSAcceptor?) in
            let listener = ForwardListener(fd: fd, reactor: reactor, destination: destination, worker: ingestWorker, configuration: forwardSettings,
                                           tls: tls)
            listener.logLine = { log($0) }
            return listener
        }
        forward = forwardFDs.map { fds in (forwardListener(fds.tcp, nil), ForwardHeartbeat(fd: fds.udp)) }
        // Forward senders read only when they ask for acks: like syslog senders, they get no session tickets.
        tlsForward = tls.flatMap { tls in tlsForwardFD.map { forwardListener($0, tls.ingestionAcceptor(listener: "forward", peersRead: false)) } }
        shipperServers = shipperFDs.map { name, mount, fd in
            let shipperRouter = Router()
            shipperRouter.admission = { [unowned api] request in api.refusal(for: request) }
            shipperRouter.add(["GET"], "/healthz") { _, _ in .now(HTTPResponse(status: 200, contentType: "text/plain", body: Array("ok\n".utf8))) }
            httpIngest.register(into: shipperRouter, mount)
            return (name, HTTPServer(fd: fd, reactor: reactor, router: shipperRouter, maxConnections: configuration.maxHTTPConnections,
                                     headerTimeoutSeconds: configuration.headerTimeoutSeconds,
                                     tls: tls?.ingestionAcceptor(listener: name.lowercased())))
        }
        if let disk {
            do { try disk.start(ring: ring, reactor: reactor) } catch {
                throw StartupError(description: "cannot write data directory \(disk.configuration.path): \(error.errno)")
            }
            destination.add(disk)
        }
        // Shipping reads what is durable on disk (or, with --no-persist, what the ring holds), on a worker of its own.
        let history = disk
        clickhouse = try configuration.clickhouse.map { settings throws(SystemError) in
            ClickHouseShipper(configuration: settings, source: source, cursor: history?.shippingCursor, worker: try reactor.startWorker(named: "shipping"),
                              takenInUpTo: { ring.storedIDs.upperBound },
                              shippableUpTo: history.map { disk in { disk.progress.durableUpTo } } ?? { ring.storedIDs.upperBound })
        }
        // source=cluster searches ClickHouse on a worker of its own: a slow cluster never holds up local searches.
        if let settings = configuration.clickhouse { api.cluster = (ClickHouseSearch(settings), try reactor.startWorker(named: "cluster")) }
        registerMetrics(api: api, udpReceiveBufferBytes: grantedBuffer)

        try reactor.register(udpFD, interest: .readable, handler: udp)
        try reactor.register(tcpFD, interest: .readable, handler: tcp)
        if let tlsSyslog { try reactor.register(tlsSyslog.fd, interest: .readable, handler: tlsSyslog) }
        try reactor.register(httpFD, interest: .readable, handler: http)
        for (_, server) in shipperServers { try reactor.register(server.fd, interest: .readable, handler: server) }
        if let gelf {
            try reactor.register(gelf.udp.fd, interest: .readable, handler: gelf.udp)
            try reactor.register(gelf.tcp.fd, interest: .readable, handler: gelf.tcp)
        }
        if let forward {
            try reactor.register(forward.listener.fd, interest: .readable, handler: forward.listener)
            try reactor.register(forward.heartbeat.fd, interest: .readable, handler: forward.heartbeat)
        }
        if let tlsForward { try reactor.register(tlsForward.fd, interest: .readable, handler: tlsForward) }
        reactor.addTimer(everyMilliseconds: 1000) { [destination, tcp, tlsSyslog, gelf, http, liveTail, shipperServers] in
            destination.stats.sampleRate()
            tcp.closeIdleConnections()
            tlsSyslog?.closeIdleConnections()
            gelf?.tcp.closeIdleConnections()
            gelf?.ingest.expireChunks(now: Clock.wallMilliseconds)
            http.closeSlowConnections()
            for (_, server) in shipperServers { server.closeSlowConnections() }
            liveTail.checkSessions(intervalSeconds: configuration.pingIntervalSeconds)
        }
        reactor.addTimer(everyMilliseconds: LiveTail.batchIntervalMilliseconds) { [liveTail] in liveTail.sendBatches() }
        // Joined records go out after a quiet spell; Forward's idle connections are closed on the same tick.
        reactor.addTimer(everyMilliseconds: 50) { [tcp, tlsSyslog, forward, tlsForward] in
            let quiet = ContainerIngestConfiguration.multilineQuietMilliseconds
            tcp.flushQuietRecords(quietMilliseconds: quiet)
            tlsSyslog?.flushQuietRecords(quietMilliseconds: quiet)
            forward?.listener.tick(quietMilliseconds: quiet)
            tlsForward?.tick(quietMilliseconds: quiet)
        }
        if let clickhouse { reactor.addTimer(everyMilliseconds: ClickHouseShipper.tickMilliseconds) { clickhouse.tick() } }
        reactor.addTimer(everyMilliseconds: Self.heapReleaseMilliseconds) { ProcessResources.releaseFreeHeapPages() }
        reactor.afterEachIteration { [unowned self] in
            disk?.pump()
            destination.resumeWaitingSenders()
            forward?.listener.releaseAcks(durableUpTo: disk?.progress.durableUpTo ?? .max)
            tlsForward?.releaseAcks(durableUpTo: disk?.progress.durableUpTo ?? .max)
            liveTail.publish()
            if let deadline = stopDeadline, liveTail.sessionCount == 0 || reactor.seconds >= deadline { reactor.stop() }
        }
        try reactor.onSignals([SIGINT, SIGTERM, SIGHUP]) { [unowned self] signal in
            if signal == SIGHUP {
                if let tls { tls.reload() } else { log("SIGHUP: nothing to reload (flags are read at start, no TLS certificate); still running") }
            } else {
                stop()
            }
        }

        let ports = "udp \(Self.describe(udpFD)), tcp \(Self.describe(tcpFD)), \(tls == nil ? "http" : "https") \(Self.describe(httpFD))"
            + (tlsSyslog.map { ", syslog tls \(Self.describe($0.fd))" } ?? "")
            + shipperServers.map { ", \($0.name.lowercased()) \(Self.describe($0.server.fd))" }.joined()
            + (gelf.map { ", gelf udp+tcp \(Self.describe($0.tcp.fd))" } ?? "")
            + (forward.map { ", forward \(Self.describe($0.listener.fd))\(containers.forwardSharedKey == nil ? "" : " (shared key)")" } ?? "")
            + (tlsForward.map { ", forward tls \(Self.describe($0.fd))\(containers.forwardSharedKey == nil ? "" : " (shared key)")" } ?? "")
        log("listening: \(ports); buffer \(configuration.bufferRecords) records / \(ByteCount(configuration.bufferBytes)); UDP receive buffer \(ByteCount(grantedBuffer))")
        if let tls {
            let clients = tls.configuration.files.clientCA.map { "; ingestion listeners require client certificates from \($0)" } ?? ""
            log("TLS 1.2+ with \(tls.configuration.files.certificate) (\(tls.identity.context.summary))\(clients)")
        }
        if let disk {
            let totals = disk.catalog.totals
            log("history in \(disk.configuration.path): \(totals.records) records in \(totals.files) files (\(ByteCount(totals.bytes))); \(disk.recordsLoaded) loaded into memory; next id \(ring.storedIDs.upperBound)")
        } else {
            log("--no-persist: history is kept in memory only")
        }
        if let clickhouse {
            let settings = clickhouse.configuration
            let retention = settings.retentionMilliseconds.map { "; days older than \(TimeSpan(milliseconds: $0)) dropped on \(1 + settings.otherShards.count) server(s)" } ?? ""
            log("shipping to ClickHouse at \(settings.host):\(settings.port), table \(settings.database).\(settings.table), as node \(settings.node); from id \(clickhouse.shippedUpTo) (\(clickhouse.lagRecords) records to ship)\(retention)")
        }
        if staticFiles.isEmpty { log("warning: dashboard files not found; pass --static-dir") }
        if !Self.isLoopback(configuration.httpAddress) && !configuration.access.requiresToken {
            log("warning: the HTTP API is reachable from other hosts at \(configuration.httpAddress.hostText) and has no authentication (--auth-token)")
        }
    }

    func run() {
        reactor.run()
        if let disk {
            disk.finish()
            log("stopped: \(destination.stats.received) records received; \(disk.progress.recordsPersisted) written to disk this run")
        } else {
            log("stopped: \(destination.stats.received) records received")
        }
    }

    /// Set once stopping: the loop ends when every WebSocket client has taken its close frame, or at this second.
    private var stopDeadline: Int?
    static let stopGraceSeconds = 2

    /// SIGINT/SIGTERM: stop accepting, take in what the kernel already holds, send live clients what they are
    /// owed and a close frame, and end within a bound. A second signal ends at once.
    private func stop() {
        guard stopDeadline == nil else {
            reactor.stop()
            return
        }
        log("stopping")
        stopDeadline = reactor.seconds + Self.stopGraceSeconds
        http.stopAccepting()
        for (_, server) in shipperServers { server.stopAccepting() }
        udp.read(evenWithoutRoom: true)
        tcp.drain()
        tlsSyslog?.drain()
        gelf?.udp.read(evenWithoutRoom: true)
        gelf?.tcp.drain()
        forward?.listener.drain()
        tlsForward?.drain()
        liveTail.publish()
        liveTail.sendBatches()
        liveTail.closeAll()
    }

    private static func bound<T>(_ name: String, _ address: SocketAddress, _ body: () throws(SystemError) -> T) throws -> T {
        do { return try body() } catch {
            throw StartupError(description: "cannot listen on \(name) \(address.hostText):\(address.port): \(error.errno)")
        }
    }

    private static func describe(_ fd: FileDescriptor) -> String {
        Socket.localAddress(of: fd)?.description ?? "?"
    }

    private static func isLoopback(_ address: SocketAddress) -> Bool {
        address.hostText.hasPrefix("127.") || address.hostText == "::1"
    }

    /// Live-tail bursts (a slow client's batch and queue, up to a few MiB each) are freed in the middle of
    /// malloc's heap, whose pages malloc keeps: without giving them back, RSS ratchets up to the largest mix of
    /// bursts ever seen while allocated bytes stay flat. A trim walks the free lists once: 0.1-7 ms on the
    /// reactor every 10 s, timed under the soak's load; a lower mmap threshold would instead cost page faults
    /// on every large batch.
    static let heapReleaseMilliseconds = 10_000
}

/// One line on stderr.
func log(_ message: String) {
    let line = Array("logstream: \(message)\n".utf8)
    _ = line.withUnsafeBytes { try? FileDescriptor.standardError.write($0) }
}
