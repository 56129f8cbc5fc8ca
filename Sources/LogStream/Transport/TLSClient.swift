// TLS for a worker's outgoing connections (shipping to ClickHouse over https): the server's certificate must
// chain to the CA given (else the system's CAs) and name the host dialled. Like ClientConnection's, every
// call waits with poll(2) and ends by the caller's deadline; OpenSSL reads and writes the socket itself.
import CTLS
import Glibc

/// What a client trusts: built once at start, shared by every connection (OpenSSL contexts are safe to share).
public final class TLSClientContext: @unchecked Sendable {
    let pointer: OpaquePointer
    /// The CA file given, or nil for the system's.
    public let caFile: String?

    /// `certificate` and `key`: what the client proves itself with, to a server that asks (mutual TLS).
    public init(trusting caFile: String?, certificate: String? = nil, key: String? = nil) throws(TLSError) {
        if let caFile, access(caFile, R_OK) != 0 { throw TLSError("TLS CA \(caFile): \(Errno.current)") }
        for path in [certificate, key].compactMap({ $0 }) where access(path, R_OK) != 0 { throw TLSError("TLS \(path): \(Errno.current)") }
        let context = try TLSContext.newContext(TLS_client_method())
        pointer = context
        self.caFile = caFile
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        if let caFile {
            guard SSL_CTX_load_verify_locations(context, caFile, nil) == 1 else {
                throw TLSError("TLS CA \(caFile): \(TLSContext.openSSLReason())")
            }
        } else {
            guard SSL_CTX_set_default_verify_paths(context) == 1 else { throw TLSError("TLS: the system's CAs: \(TLSContext.openSSLReason())") }
        }
        if let certificate, let key { try TLSContext.load(certificate: certificate, key: key, into: context) }
    }

    deinit { SSL_CTX_free(pointer) }
}

/// Why a TLS connection could not be opened.
public enum TLSClientError: Error, CustomStringConvertible {
    /// The socket failed or the deadline passed.
    case connection(SystemError)
    /// The handshake failed: the certificate was not trusted, or the server spoke no TLS we accept.
    case handshake(String)

    public var description: String {
        switch self {
        case .connection(let error): error.description
        case .handshake(let reason): reason
        }
    }
}

public final class TLSClientConnection: ClientStream {
    private let connection: ClientConnection
    private let ssl: OpaquePointer

    /// Completes a handshake over `connection` by `deadline`, checking that the certificate names `serverName`
    /// (a host name or an IP address).
    public init(over connection: ClientConnection, context: TLSClientContext, serverName: String,
                by deadline: ClientConnection.Deadline) throws(TLSClientError) {
        ERR_clear_error()
        guard let ssl = SSL_new(context.pointer) else { throw .handshake("TLS: \(TLSContext.openSSLReason())") }
        self.connection = connection
        self.ssl = ssl
        SSL_set_fd(ssl, connection.fd.rawValue)
        SSL_set_connect_state(ssl)
        if SocketAddress(host: serverName, port: 0) != nil {
            X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), serverName)
        } else {
            SSL_set1_host(ssl, serverName)
            _ = ctls_set_server_name(ssl, serverName)  // SNI, for servers that hold several certificates
        }
        while true {
            ERR_clear_error()
            let result = SSL_do_handshake(ssl)
            if result == 1 { return }
            let events: Int16
            switch SSL_get_error(ssl, result) {
            case SSL_ERROR_WANT_READ: events = Int16(POLLIN)
            case SSL_ERROR_WANT_WRITE: events = Int16(POLLOUT)
            case SSL_ERROR_SYSCALL where Errno.current.rawValue != 0: throw .connection(SystemError("TLS handshake"))
            default: throw .handshake(Self.handshakeFailure(ssl, serverName: serverName))
            }
            do { try connection.wait(for: events, until: deadline, naming: "TLS handshake") } catch { throw .connection(error) }
        }
    }

    deinit { SSL_free(ssl) }

    private static func handshakeFailure(_ ssl: OpaquePointer, serverName: String) -> String {
        let verification = SSL_get_verify_result(ssl)
        if verification != X509_V_OK {
            ERR_clear_error()
            return "TLS: the certificate of \(serverName) is not trusted: \(String(cString: X509_verify_cert_error_string(verification)))"
        }
        let code = ERR_peek_error()
        return code == 0 ? "TLS: the server closed the connection during the handshake" : "TLS: \(TLSContext.openSSLReason())"
    }

    public func send(_ bytes: UnsafeRawBufferPointer, by deadline: ClientConnection.Deadline) throws(SystemError) {
        var sent = 0
        while sent < bytes.count {
            ERR_clear_error()
            let count = SSL_write(ssl, bytes.baseAddress! + sent, Int32(clamping: bytes.count - sent))
            if count > 0 {
                sent += Int(count)
            } else {
                try wait(after: count, by: deadline, naming: "TLS send")
            }
        }
    }

    public func receive(into buffer: UnsafeMutableRawBufferPointer, by deadline: ClientConnection.Deadline) throws(SystemError) -> Int {
        while true {
            ERR_clear_error()
            let count = SSL_read(ssl, buffer.baseAddress, Int32(clamping: buffer.count))
            if count > 0 { return Int(count) }
            switch SSL_get_error(ssl, count) {
            case SSL_ERROR_ZERO_RETURN: return 0
            case SSL_ERROR_SYSCALL where Errno.current.rawValue == 0: return 0
            default: try wait(after: count, by: deadline, naming: "TLS receive")
            }
        }
    }

    /// Waits for what OpenSSL asked for after a call returned `result`; fails on anything else.
    private func wait(after result: Int32, by deadline: ClientConnection.Deadline, naming operation: String) throws(SystemError) {
        switch SSL_get_error(ssl, result) {
        case SSL_ERROR_WANT_READ: try connection.wait(for: Int16(POLLIN), until: deadline, naming: operation)
        case SSL_ERROR_WANT_WRITE: try connection.wait(for: Int16(POLLOUT), until: deadline, naming: operation)
        case SSL_ERROR_SYSCALL where Errno.current.rawValue != 0: throw SystemError(operation)
        case SSL_ERROR_ZERO_RETURN, SSL_ERROR_SYSCALL: throw SystemError(operation, errno: .connectionReset)
        default:
            // Named by OpenSSL's reason ("tlsv13 alert certificate required"); EPROTO tells it from a socket's error.
            throw SystemError("\(operation): \(TLSContext.openSSLReason())", errno: Errno(rawValue: EPROTO))
        }
    }

    /// A TLS 1.3 server sends session tickets after the handshake, so an idle connection's socket may hold
    /// bytes and still be open: OpenSSL reads them here, and only a close or application data counts.
    public var isClosedByPeer: Bool {
        var byte: UInt8 = 0
        ERR_clear_error()
        let count = SSL_peek(ssl, &byte, 1)
        if count > 0 { return true }
        let open = SSL_get_error(ssl, count) == SSL_ERROR_WANT_READ
        ERR_clear_error()
        return !open
    }
}
