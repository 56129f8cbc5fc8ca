// A server's TLS settings as OpenSSL holds them (an SSL_CTX): the certificate chain and key read from PEM
// files, TLS 1.2 and 1.3 only with the library's default ciphers, and, when a client CA is given, what
// verifies client certificates. Built whole or not at all: a file that cannot be read, a PEM that does not
// parse or a key that does not match its certificate is one `TLSError` naming the file and OpenSSL's reason.
// OpenSSL counts references to a context, so a session keeps the one it started with after a reload.
import CTLS
import Glibc

public struct TLSError: Error, CustomStringConvertible, Equatable {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Where a server's certificate, key and (optionally) the CA of the clients it accepts are read from.
public struct TLSFiles: Sendable, Equatable {
    public var certificate: String
    public var key: String
    public var clientCA: String?

    public init(certificate: String, key: String, clientCA: String? = nil) {
        self.certificate = certificate
        self.key = key
        self.clientCA = clientCA
    }
}

public final class TLSContext: @unchecked Sendable {  // OpenSSL contexts are safe to share once built
    let pointer: OpaquePointer
    public let files: TLSFiles
    /// The certificate's subject and expiry, for the log line that says which one is served.
    public let summary: String

    public init(serving files: TLSFiles) throws(TLSError) {
        for (what, path) in [("certificate", files.certificate), ("key", files.key)] + (files.clientCA.map { [("client CA", $0)] } ?? []) {
            guard access(path, R_OK) == 0 else { throw TLSError("TLS \(what) \(path): \(Errno.current)") }
        }
        let context = try Self.newContext(TLS_server_method())
        pointer = context
        self.files = files
        try Self.load(certificate: files.certificate, key: files.key, into: context)
        if let clientCA = files.clientCA {
            guard SSL_CTX_load_verify_locations(context, clientCA, nil) == 1, let names = SSL_load_client_CA_file(clientCA) else {
                throw TLSError("TLS client CA \(clientCA): \(Self.openSSLReason())")
            }
            SSL_CTX_set_client_CA_list(context, names)  // named in the request, so a client picks the right certificate
        }
        summary = Self.describe(SSL_CTX_get0_certificate(context))
    }

    deinit { SSL_CTX_free(pointer) }

    /// An OpenSSL context with what servers and clients share: TLS 1.2 at least, and the modes a non-blocking
    /// socket needs (`ctls_ctx_set_modes`).
    static func newContext(_ method: OpaquePointer?) throws(TLSError) -> OpaquePointer {
        ERR_clear_error()
        guard let context = SSL_CTX_new(method) else { throw TLSError("TLS: \(openSSLReason())") }
        guard ctls_ctx_set_tls12_minimum(context) == 1 else {
            SSL_CTX_free(context)
            throw TLSError("TLS: cannot require TLS 1.2: \(openSSLReason())")
        }
        ctls_ctx_set_modes(context)
        return context
    }

    /// A certificate chain and its key, each named in the error when it cannot be used.
    static func load(certificate: String, key: String, into context: OpaquePointer) throws(TLSError) {
        guard SSL_CTX_use_certificate_chain_file(context, certificate) == 1 else {
            throw TLSError("TLS certificate \(certificate): \(openSSLReason())")
        }
        // OpenSSL checks the key against the certificate as it loads it.
        let loaded = SSL_CTX_use_PrivateKey_file(context, key, SSL_FILETYPE_PEM) == 1
        if !loaded, ctls_error_reason(ERR_peek_error()) != X509_R_KEY_VALUES_MISMATCH {
            throw TLSError("TLS key \(key): \(openSSLReason())")
        }
        guard loaded, SSL_CTX_check_private_key(context) == 1 else {
            ERR_clear_error()
            throw TLSError("TLS key \(key) does not match certificate \(certificate)")
        }
    }

    /// The reason of the oldest error OpenSSL queued ("no start line", "ee key too small"), and clears the queue.
    static func openSSLReason() -> String {
        let code = ERR_get_error()
        ERR_clear_error()
        guard code != 0, let reason = ERR_reason_error_string(code) else { return "not a valid PEM file" }
        return String(cString: reason)
    }

    /// A NUL-terminated C string as text.
    static func text(_ characters: [CChar]) -> String {
        String(decoding: characters.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func describe(_ certificate: OpaquePointer?) -> String {
        guard let certificate else { return "no certificate" }
        var subject = [CChar](repeating: 0, count: 256)
        X509_NAME_oneline(X509_get_subject_name(certificate), &subject, Int32(subject.count))
        var until = "unknown expiry"
        if let bio = BIO_new(BIO_s_mem()) {
            if ASN1_TIME_print(bio, X509_get0_notAfter(certificate)) == 1 {
                var text = [CChar](repeating: 0, count: 64)
                let count = BIO_read(bio, &text, Int32(text.count - 1))
                if count > 0 { until = "expires " + Self.text(text) }
            }
            BIO_free(bio)
        }
        return "\(Self.text(subject)), \(until)"
    }
}

/// The context new connections get, replaced by a reload (SIGHUP) only when the files make a whole new one.
public final class TLSServerIdentity {
    public private(set) var context: TLSContext
    /// Reloads that were refused (the old certificate kept).
    public private(set) var refusedReloads = 0
    public private(set) var reloads = 0

    public init(files: TLSFiles) throws(TLSError) {
        context = try TLSContext(serving: files)
    }

    /// Reads the files again. On success new handshakes use the new certificate; sessions already open keep
    /// theirs. On failure the old one stays and the error is returned.
    @discardableResult
    public func reload() -> Result<TLSContext, TLSError> {
        do {
            context = try TLSContext(serving: context.files)
            reloads += 1
            return .success(context)
        } catch {
            refusedReloads += 1
            return .failure(error)
        }
    }
}
