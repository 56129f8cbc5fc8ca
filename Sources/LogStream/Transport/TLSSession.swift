// One TLS connection over a non-blocking socket: OpenSSL reads and writes the descriptor itself, and every
// call that would block says so (WANT_READ, WANT_WRITE) instead of waiting, which the caller maps onto the
// reactor's readiness. This file and TLSContext.swift are the only places that touch libssl.
import CTLS
import Glibc

public final class TLSSession {
    private let ssl: OpaquePointer
    public let fd: FileDescriptor

    /// Why a handshake failed, as counted in /metrics.
    public enum Failure: String, CaseIterable, Sendable {
        case timeout, notTLS = "not_tls", protocolVersion = "protocol_version", noClientCertificate = "no_client_certificate"
        case badClientCertificate = "bad_client_certificate", certificateRefusedByClient = "certificate_refused_by_client"
        case noSharedCipher = "no_shared_cipher", closed, malformed
    }

    public enum HandshakeStep: Equatable {
        case done
        case wantsRead, wantsWrite
        case failed(Failure)
    }

    /// The largest plaintext of one TLS record: a read asks for at least this much, so that OpenSSL never
    /// keeps part of a record back where the reactor's readiness cannot see it.
    static let recordBytes = 16 * 1024

    /// A server session. `verifiesClient`: a certificate from the context's client CA is required.
    /// `sendsSessionTickets`: false for peers that never read (syslog senders): TLS 1.3 sends tickets after the
    /// handshake, and a ticket reaching a socket its sender already closed makes its kernel answer with a reset,
    /// which can discard the lines it sent last (1 in 300 one-line connections, measured).
    init(context: TLSContext, fd: FileDescriptor, verifiesClient: Bool = false, sendsSessionTickets: Bool = true) throws(TLSError) {
        ERR_clear_error()
        guard let ssl = SSL_new(context.pointer) else { throw TLSError("TLS: \(TLSContext.openSSLReason())") }
        self.ssl = ssl
        self.fd = fd
        SSL_set_fd(ssl, fd.rawValue)
        if verifiesClient { SSL_set_verify(ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nil) }
        if !sendsSessionTickets { SSL_set_num_tickets(ssl, 0) }
        SSL_set_accept_state(ssl)
    }

    deinit { SSL_free(ssl) }  // the descriptor is not OpenSSL's to close

    /// Takes the handshake as far as the socket allows.
    public func handshake() -> HandshakeStep {
        ERR_clear_error()
        let result = SSL_do_handshake(ssl)
        if result == 1 { return .done }
        let error = SSL_get_error(ssl, result)
        switch error {
        case SSL_ERROR_WANT_READ: return .wantsRead
        case SSL_ERROR_WANT_WRITE: return .wantsWrite
        case SSL_ERROR_SYSCALL, SSL_ERROR_ZERO_RETURN:
            ERR_clear_error()
            return .failed(.closed)
        default:
            let code = ERR_peek_error()
            ERR_clear_error()
            return .failed(Self.failure(reason: ctls_error_reason(code)))
        }
    }

    private static func failure(reason: Int32) -> Failure {
        switch reason {
        case SSL_R_UNSUPPORTED_PROTOCOL, SSL_R_VERSION_TOO_LOW, SSL_R_NO_PROTOCOLS_AVAILABLE, SSL_R_UNSUPPORTED_SSL_VERSION:
            return .protocolVersion
        case SSL_R_WRONG_VERSION_NUMBER, SSL_R_HTTP_REQUEST, SSL_R_HTTPS_PROXY_REQUEST: return .notTLS
        case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE: return .noClientCertificate
        case SSL_R_CERTIFICATE_VERIFY_FAILED: return .badClientCertificate
        case SSL_R_NO_SHARED_CIPHER: return .noSharedCipher
        case SSL_R_UNEXPECTED_EOF_WHILE_READING: return .closed
        // Alerts the client sent (OpenSSL numbers them 1000 + the alert): it did not trust our certificate.
        case SSL_R_TLSV1_ALERT_UNKNOWN_CA, SSL_R_SSLV3_ALERT_BAD_CERTIFICATE, SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN,
             SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED, SSL_R_TLSV1_ALERT_DECRYPT_ERROR:
            return .certificateRefusedByClient
        default: return .malformed
        }
    }

    /// Reads decrypted bytes into `buffer` (at least `recordBytes` long), as many records as fit and have come.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> FileDescriptor.ReadResult {
        precondition(buffer.count >= Self.recordBytes, "a TLS read must hold a whole record")
        var total = 0
        while buffer.count - total >= Self.recordBytes {
            ERR_clear_error()
            let count = SSL_read(ssl, buffer.baseAddress! + total, Int32(clamping: buffer.count - total))
            if count > 0 {
                total += Int(count)
                continue
            }
            let outcome = try outcome(of: count, in: "SSL_read")
            if total > 0 { return .bytes(total) }
            return outcome == .closed ? .endOfFile : .wouldBlock
        }
        return .bytes(total)
    }

    /// Encrypts and sends what the socket takes now; returns the plaintext byte count (0 when it is full). A
    /// retry after 0 must offer the same bytes first, as OutboundQueue does.
    public func send(_ bytes: UnsafeRawBufferPointer) throws(SystemError) -> Int {
        guard !bytes.isEmpty else { return 0 }
        ERR_clear_error()
        let count = SSL_write(ssl, bytes.baseAddress, Int32(clamping: bytes.count))
        if count > 0 { return Int(count) }
        if try outcome(of: count, in: "SSL_write") == .closed { throw SystemError("SSL_write", errno: .brokenPipe) }
        return 0
    }

    private enum Outcome { case wouldBlock, closed }

    private func outcome(of result: Int32, in operation: String) throws(SystemError) -> Outcome {
        let error = SSL_get_error(ssl, result)
        switch error {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return .wouldBlock
        case SSL_ERROR_ZERO_RETURN:
            return .closed
        case SSL_ERROR_SYSCALL:
            let errno = Errno.current
            ERR_clear_error()
            if errno.rawValue == 0 { return .closed }
            throw SystemError(operation, errno: errno)
        default:
            ERR_clear_error()
            throw SystemError(operation, errno: Errno(rawValue: EPROTO))
        }
    }

    /// Sends close_notify, once and without waiting for the peer's: the socket is closed right after.
    public func closeNotify() {
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
        ERR_clear_error()
    }

    /// The subject common name of the certificate the client proved it holds, when it was asked for one.
    public var peerCommonName: String? {
        var name = [CChar](repeating: 0, count: 256)
        let length = ctls_peer_common_name(ssl, &name, Int32(name.count))
        guard length > 0 else { return nil }
        return TLSContext.text(name)
    }

    /// "TLSv1.3" and the like.
    public var protocolVersion: String { String(cString: SSL_get_version(ssl)) }
}
