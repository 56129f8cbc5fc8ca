// OpenSSL's libssl for Transport/TLS. Its setters are macros over SSL_CTX_ctrl, which Swift does not import:
// each is wrapped here as a one-line inline function, nothing more.
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static inline int ctls_ctx_set_tls12_minimum(SSL_CTX *ctx) {
    return (int)SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
}

/// Partial writes (a non-blocking socket takes what it can), a retried write may come from another address
/// (an array that moved), and no buffers held while a connection is idle; no renegotiation; a peer that
/// closes without close_notify (log senders often do) has simply finished.
static inline void ctls_ctx_set_modes(SSL_CTX *ctx) {
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_IGNORE_UNEXPECTED_EOF);
}

static inline int ctls_set_server_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}

/// The peer certificate's subject common name into `buffer` (NUL-terminated); its length, or -1 without one.
static inline int ctls_peer_common_name(const SSL *ssl, char *buffer, int size) {
    X509 *certificate = SSL_get1_peer_certificate(ssl);
    if (certificate == NULL) return -1;
    int length = X509_NAME_get_text_by_NID(X509_get_subject_name(certificate), NID_commonName, buffer, size);
    X509_free(certificate);
    return length;
}

static inline int ctls_error_library(unsigned long code) { return ERR_GET_LIB(code); }
static inline int ctls_error_reason(unsigned long code) { return ERR_GET_REASON(code); }
