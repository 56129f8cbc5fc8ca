// The byte stream a connection reads and writes: the socket itself, or a TLS session over it. Protocol code
// (HTTP, WebSocket, syslog, Forward) reads and sends through this and never learns which; the reactor still
// watches the descriptor underneath. Plain connections pay one branch per read of up to 256 KiB.

public enum Transport {
    case plain(FileDescriptor)
    case tls(TLSSession)

    public var fd: FileDescriptor {
        switch self {
        case .plain(let fd): fd
        case .tls(let session): session.fd
        }
    }

    public var isEncrypted: Bool {
        if case .tls = self { return true }
        return false
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> FileDescriptor.ReadResult {
        switch self {
        case .plain(let fd): try fd.read(into: buffer)
        case .tls(let session): try session.read(into: buffer)
        }
    }

    /// Sends what the socket takes now; 0 when it is full.
    public func send(_ bytes: UnsafeRawBufferPointer) throws(SystemError) -> Int {
        switch self {
        case .plain(let fd): try fd.send(bytes)
        case .tls(let session): try session.send(bytes)
        }
    }

    /// Closes the connection: a TLS one says close_notify first. Graceful: after our last words, the peer's
    /// remaining bytes are read and dropped (LingeringClose).
    public func close(on reactor: Reactor, gracefully: Bool = false) {
        if case .tls(let session) = self { session.closeNotify() }
        reactor.close(fd, gracefully: gracefully)
    }
}

extension OutboundQueue {
    /// Writes as much as the transport takes. Returns true when everything queued has been written.
    public mutating func flush(to transport: Transport) throws(SystemError) -> Bool {
        try flush { bytes throws(SystemError) in try transport.send(bytes) }
    }
}
