import Foundation
import Glibc
import Testing
@testable import LogStream

/// The test certificates as files in a folder of their own.
private final class CertificateFiles {
    let folder = NSTemporaryDirectory() + "logstream-tls-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"

    init() throws {
        try FileSystem.makeDirectory(folder)
        let files = ["ca.pem": TestCertificates.caCertificate, "server.pem": TestCertificates.serverCertificate,
                     "server.key": TestCertificates.serverKey, "client.pem": TestCertificates.clientCertificate,
                     "client.key": TestCertificates.clientKey, "other-ca.pem": TestCertificates.otherCACertificate,
                     "garbage.pem": "not a certificate"]
        for (name, text) in files { try (text + "\n").write(toFile: path(name), atomically: false, encoding: .utf8) }
    }

    deinit { try? FileManager.default.removeItem(atPath: folder) }

    func path(_ name: String) -> String { folder + "/" + name }

    var server: TLSFiles { TLSFiles(certificate: path("server.pem"), key: path("server.key")) }
}

/// The server's half of one connection, on a thread of its own as the reactor would drive it: the handshake
/// by readiness, then what the client sends is read until it closes, and `reply` is sent after its first bytes.
private final class ServerHalf: @unchecked Sendable {
    private let finished = DispatchSemaphore(value: 0)
    private(set) var handshake: TLSSession.HandshakeStep?
    private(set) var received: [UInt8] = []
    private(set) var peerName: String?
    private(set) var version = ""
    let port: UInt16

    init(context: TLSContext, verifiesClient: Bool = false, reply: [UInt8] = []) throws {
        let listener = try Socket.listenTCP(on: SocketAddress(host: "127.0.0.1", port: 0)!)
        port = Socket.localAddress(of: listener)!.port
        Thread.detachNewThread { [self] in
            defer { listener.close(); finished.signal() }
            guard Self.wait(listener, for: POLLIN), let (fd, _) = try? Socket.accept(from: listener) else { return }
            defer { fd.close() }
            guard let session = try? TLSSession(context: context, fd: fd, verifiesClient: verifiesClient) else { return }
            while true {
                let step = session.handshake()
                switch step {
                case .wantsRead: guard Self.wait(fd, for: POLLIN) else { return }
                case .wantsWrite: guard Self.wait(fd, for: POLLOUT) else { return }
                case .done, .failed:
                    handshake = step
                    guard step == .done else { return }
                    (peerName, version) = (session.peerCommonName, session.protocolVersion)
                    serve(session, reply: reply)
                    return
                }
            }
        }
    }

    private func serve(_ session: TLSSession, reply: [UInt8]) {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var replied = false
        while true {
            guard let result = try? buffer.withUnsafeMutableBytes({ raw throws(SystemError) in try session.read(into: raw) }) else { return }
            switch result {
            case .bytes(let count): received += buffer[..<count]
            case .endOfFile: return
            case .wouldBlock: guard Self.wait(session.fd, for: POLLIN) else { return }
            }
            if !received.isEmpty, !replied {
                replied = true
                var sent = 0
                while sent < reply.count {
                    guard let count = try? reply[sent...].withUnsafeBytes({ raw throws(SystemError) in try session.send(raw) }) else { return }
                    sent += count
                    if count == 0, !Self.wait(session.fd, for: POLLOUT) { return }
                }
            }
        }
    }

    private static func wait(_ fd: FileDescriptor, for events: Int32) -> Bool {
        var request = pollfd(fd: fd.rawValue, events: Int16(events), revents: 0)
        return poll(&request, 1, 5000) > 0
    }

    /// Waits for the thread to finish (the client has closed, or the handshake failed).
    func join() { _ = finished.wait(timeout: .now() + 10) }
}

private func deadline() -> ClientConnection.Deadline { ClientConnection.Deadline(millisecondsFromNow: 5000) }

private func connect(to server: ServerHalf, trusting ca: String, as name: String = "localhost") throws(TLSClientError) -> TLSClientConnection {
    let socket: ClientConnection
    do { socket = try ClientConnection(host: "127.0.0.1", port: server.port, deadline: deadline()) } catch { throw .connection(error) }
    let context: TLSClientContext
    do { context = try TLSClientContext(trusting: ca) } catch { throw .handshake(error.description) }
    return try TLSClientConnection(over: socket, context: context, serverName: name, by: deadline())
}

@Suite("TLS: server sessions, client connections, certificates")
struct TLSTests {
    init() {
        // As the server does: a write to a socket its peer closed is an error, not the end of the process.
        signal(SIGPIPE, SIG_IGN)
    }

    @Test("a client that trusts the CA completes a handshake; bytes many records long go both ways")
    func handshakeAndBytes() throws {
        let files = try CertificateFiles()
        let reply = (0..<50_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let server = try ServerHalf(context: TLSContext(serving: files.server), reply: reply)
        let message = (0..<100_000).map { UInt8(truncatingIfNeeded: $0) }
        do {
            let client = try connect(to: server, trusting: files.path("ca.pem"))
            try client.send(message[...], by: deadline())
            var answer: [UInt8] = []
            while answer.count < reply.count {
                #expect(try client.receive(appendingTo: &answer, limit: 16 * 1024, by: deadline()))
            }
            #expect(answer == reply)
            #expect(!client.isClosedByPeer, "an idle connection holding session tickets is still open")
        }
        server.join()
        #expect(server.handshake == .done && server.version == "TLSv1.3")
        #expect(server.received == message && server.peerName == nil)
    }

    @Test("mutual TLS: a client certificate names its holder; a client without one is refused")
    func mutualTLS() throws {
        let files = try CertificateFiles()
        var settings = files.server
        settings.clientCA = files.path("ca.pem")
        let context = try TLSContext(serving: settings)

        let named = try ServerHalf(context: context, verifiesClient: true, reply: Array("welcome".utf8))
        do {
            let socket = try ClientConnection(host: "127.0.0.1", port: named.port, deadline: deadline())
            let client = try TLSClientContext(trusting: files.path("ca.pem"), certificate: files.path("client.pem"), key: files.path("client.key"))
            let connection = try TLSClientConnection(over: socket, context: client, serverName: "localhost", by: deadline())
            try connection.send(Array("hello".utf8)[...], by: deadline())
            var answer: [UInt8] = []
            while answer.count < 7 { #expect(try connection.receive(appendingTo: &answer, limit: 100, by: deadline())) }
            #expect(answer == Array("welcome".utf8))
        }
        named.join()
        #expect(named.handshake == .done && named.peerName == "relay-1" && named.received == Array("hello".utf8))

        let anonymous = try ServerHalf(context: context, verifiesClient: true)
        do {
            // TLS 1.3: the client's handshake ends before the server has looked at its (missing) certificate.
            let connection = try connect(to: anonymous, trusting: files.path("ca.pem"))
            try? connection.send(Array("hello".utf8)[...], by: deadline())
            var answer: [UInt8] = []
            #expect((try? connection.receive(appendingTo: &answer, limit: 100, by: deadline())) != true)
        }
        anonymous.join()
        #expect(anonymous.handshake == .failed(.noClientCertificate) && anonymous.received.isEmpty)
    }

    @Test("a client refuses a certificate from a CA it does not trust, or one for another name; the server counts why")
    func untrustedCertificates() throws {
        let files = try CertificateFiles()
        let context = try TLSContext(serving: files.server)
        for (ca, name, reason) in [("other-ca.pem", "localhost", "unable to get local issuer certificate"),
                                   ("ca.pem", "logs.example.com", "hostname mismatch")] {
            let server = try ServerHalf(context: context)
            #expect {
                _ = try connect(to: server, trusting: files.path(ca), as: name)
            } throws: { error in
                "\(error)".contains("certificate of \(name) is not trusted") && "\(error)".contains(reason)
            }
            server.join()
            #expect(server.handshake == .failed(.certificateRefusedByClient))
        }
        // By address: the certificate names 127.0.0.1 too.
        let server = try ServerHalf(context: context)
        _ = try connect(to: server, trusting: files.path("ca.pem"), as: "127.0.0.1")
        server.join()
        #expect(server.handshake == .done)
    }

    @Test("plain text where a ClientHello belongs fails the handshake as not TLS")
    func plainText() throws {
        let files = try CertificateFiles()
        let server = try ServerHalf(context: TLSContext(serving: files.server))
        do {
            let socket = try ClientConnection(host: "127.0.0.1", port: server.port, deadline: deadline())
            try socket.send(Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8)[...], by: deadline())
            server.join()
        }
        #expect(server.handshake == .failed(.notTLS))
    }

    @Test("a context is built whole or not at all: each bad file is one error naming it")
    func badFiles() throws {
        let files = try CertificateFiles()
        let cases: [(TLSFiles, String)] = [
            (TLSFiles(certificate: files.path("missing.pem"), key: files.path("server.key")), "missing.pem: No such file"),
            (TLSFiles(certificate: files.path("garbage.pem"), key: files.path("server.key")), "TLS certificate \(files.path("garbage.pem")):"),
            (TLSFiles(certificate: files.path("server.pem"), key: files.path("garbage.pem")), "TLS key \(files.path("garbage.pem")):"),
            (TLSFiles(certificate: files.path("server.pem"), key: files.path("client.key")), "does not match certificate"),
            (TLSFiles(certificate: files.path("server.pem"), key: files.path("server.key"), clientCA: files.path("garbage.pem")), "client CA"),
        ]
        for (settings, said) in cases {
            #expect { _ = try TLSContext(serving: settings) } throws: { "\($0)".contains(said) }
        }
        #expect(try TLSContext(serving: files.server).summary.contains("CN=localhost"))
        #expect { _ = try TLSClientContext(trusting: files.path("missing.pem")) } throws: { "\($0)".contains("missing.pem") }
        #expect { _ = try TLSClientContext(trusting: files.path("garbage.pem")) } throws: { "\($0)".contains("TLS CA") }
    }

    @Test("a reload that fails keeps the certificate served; one that works replaces it for new sessions")
    func reload() throws {
        let files = try CertificateFiles()
        let identity = try TLSServerIdentity(files: files.server)
        let first = identity.context
        try (TestCertificates.clientKey + "\n").write(toFile: files.path("server.key"), atomically: false, encoding: .utf8)
        guard case .failure(let error) = identity.reload() else { Issue.record("a mismatched key was taken"); return }
        #expect(error.description.contains("does not match") && identity.context === first && identity.refusedReloads == 1)
        try (TestCertificates.serverKey + "\n").write(toFile: files.path("server.key"), atomically: false, encoding: .utf8)
        guard case .success(let second) = identity.reload() else { Issue.record("the reload failed"); return }
        #expect(second !== first && identity.context === second && identity.reloads == 1)
    }
}
