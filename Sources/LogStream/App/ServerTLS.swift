// TLS wiring: which listeners speak it, with which certificate, and its figures. With --tls-cert the HTTP port
// (and the shippers' own ports) serve HTTPS and WSS only; --tls-syslog-port adds syslog over TLS (RFC 5425) and
// --tls-forward-port Fluent Forward over TLS; --tls-client-ca makes the ingestion listeners (those two, the
// shippers' ports) require a client
// certificate. SIGHUP reads the certificate and key again.

struct TLSConfiguration {
    var files: TLSFiles
    /// Syslog over TLS (nil: off).
    var syslogAddress: SocketAddress?
    /// Fluent Forward over TLS (nil: off).
    var forwardAddress: SocketAddress?
    /// Mutual TLS: the client certificate's common name is the host of what that client sends.
    var hostFromCertificate = false
}

/// What the server's listeners share of TLS: one identity, and an acceptor per listener.
final class ServerTLS {
    let identity: TLSServerIdentity
    let configuration: TLSConfiguration
    private let reactor: Reactor
    private let timeoutSeconds: Int
    private(set) var acceptors: [TLSAcceptor] = []

    init(_ configuration: TLSConfiguration, reactor: Reactor, handshakeTimeoutSeconds: Int) throws {
        do { identity = try TLSServerIdentity(files: configuration.files) } catch { throw StartupError(description: error.description) }
        self.configuration = configuration
        self.reactor = reactor
        timeoutSeconds = handshakeTimeoutSeconds
    }

    static func make(_ configuration: TLSConfiguration?, reactor: Reactor, handshakeTimeoutSeconds: Int) throws -> ServerTLS? {
        try configuration.map { try ServerTLS($0, reactor: reactor, handshakeTimeoutSeconds: handshakeTimeoutSeconds) }
    }

    /// The HTTPS port: browsers present no certificate, so it never asks for one; plain HTTP is told to use https.
    func dashboardAcceptor(port: UInt16) -> TLSAcceptor {
        let answer = HTTPResponse.error(400, "this port speaks HTTPS: use https:// (port \(port))").serialized(keepAlive: false)
        return add(TLSAcceptor(identity: identity, reactor: reactor, listener: "http", timeoutSeconds: timeoutSeconds, plainTextAnswer: answer))
    }

    /// An ingestion listener: with --tls-client-ca, only senders with a certificate from that CA get in, and
    /// with --tls-host-from-certificate its name is their records' host.
    /// `peersRead`: false where senders may never read (syslog, Forward without acks): no session tickets are sent them.
    func ingestionAcceptor(listener: String, peersRead: Bool = true) -> TLSAcceptor {
        add(TLSAcceptor(identity: identity, reactor: reactor, listener: listener, verifiesClients: configuration.files.clientCA != nil,
                        sendsSessionTickets: peersRead, namesVerifiedPeers: configuration.hostFromCertificate, timeoutSeconds: timeoutSeconds))
    }

    private func add(_ acceptor: TLSAcceptor) -> TLSAcceptor {
        acceptors.append(acceptor)
        return acceptor
    }

    /// SIGHUP: the new certificate for new connections, or the old one kept and the refusal logged.
    func reload() {
        switch identity.reload() {
        case .success(let context): log("SIGHUP: TLS certificate reloaded (\(context.summary)); open connections keep theirs")
        case .failure(let error): log("SIGHUP: TLS reload refused, still serving the previous certificate: \(error)")
        }
    }

    func register(into metrics: MetricRegistry) {
        let acceptors = acceptors
        metrics.counters("tls_handshakes_total", "TLS handshakes completed, by listener.", label: "listener", stats: "tls_handshakes") {
            acceptors.map { ($0.counters.listener, UInt64($0.counters.handshakes)) }
        }
        metrics.counters("tls_handshake_failures_total", "TLS handshakes that failed (each connection closed), by cause.", label: "cause",
                         stats: "tls_handshake_failures") {
            TLSSession.Failure.allCases.map { cause in (cause.rawValue, UInt64(acceptors.reduce(0) { $0 + ($1.counters.failures[cause] ?? 0) })) }
        }
        metrics.counters("tls_listener_handshake_failures_total", "TLS handshakes that failed, by listener.", label: "listener") {
            acceptors.map { ($0.counters.listener, UInt64($0.counters.failureCount)) }
        }
        metrics.gauge("tls_handshakes_in_progress", "TLS handshakes under way.") { acceptors.reduce(0) { $0 + $1.pendingCount } }
        let identity = identity
        metrics.counter("tls_certificate_reloads_total", "Certificate reloads (SIGHUP) that took effect.", stats: "tls_reloads") { identity.reloads }
        metrics.counter("tls_certificate_reloads_refused_total", "Certificate reloads refused (the previous certificate kept).",
                        stats: "tls_reloads_refused") { identity.refusedReloads }
    }
}
