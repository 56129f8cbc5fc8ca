// Sockets: non-blocking listeners, accepting connections, sending, and the options we set; no protocol.
import CEpoll
import Glibc

public enum Socket {
    /// A non-blocking TCP listener bound to `address`.
    public static func listenTCP(on address: SocketAddress, backlog: Int32 = 1024) throws(SystemError) -> FileDescriptor {
        let fd = try makeSocket(family: address.family, type: Int32(SOCK_STREAM.rawValue))
        do {
            _ = try systemCall("setsockopt(SO_REUSEADDR)", cepoll_set_reuseaddr(fd.rawValue))
            try bind(fd, to: address)
            _ = try systemCall("listen", Glibc.listen(fd.rawValue, backlog))
            return fd
        } catch {
            fd.close()
            throw error
        }
    }

    /// A non-blocking UDP socket bound to `address`, with a receive buffer of about `receiveBufferBytes`.
    /// Returns the socket and the buffer size the kernel granted.
    public static func bindUDP(on address: SocketAddress, receiveBufferBytes: Int32) throws(SystemError)
        -> (FileDescriptor, grantedBufferBytes: Int)
    {
        let fd = try makeSocket(family: address.family, type: Int32(SOCK_DGRAM.rawValue))
        do {
            // Both best effort: a smaller buffer than asked is reported; without drop reports, drops are only
            // a gap in the counts.
            _ = cepoll_set_rcvbuf(fd.rawValue, receiveBufferBytes)
            _ = cepoll_report_udp_drops(fd.rawValue)
            try bind(fd, to: address)
            return (fd, Int(try systemCall("getsockopt(SO_RCVBUF)", cepoll_get_rcvbuf(fd.rawValue))))
        } catch {
            fd.close()
            throw error
        }
    }

    /// Accepts one pending connection, non-blocking and close-on-exec; nil when none is pending. A connection
    /// aborted before it was accepted is skipped.
    public static func accept(from listener: FileDescriptor) throws(SystemError) -> (FileDescriptor, SocketAddress)? {
        var peer = sockaddr_storage()
        while true {
            do {
                guard let fd = try nonBlockingCall("accept", cepoll_accept(listener.rawValue, &peer)) else { return nil }
                return (FileDescriptor(rawValue: fd), SocketAddress(storage: peer))
            } catch where error.errno == .connectionAborted {
                continue
            }
        }
    }

    /// The local address a socket is bound to (to learn an ephemeral port).
    public static func localAddress(of fd: FileDescriptor) -> SocketAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd.rawValue, $0, &length) }
        }
        return result == 0 ? SocketAddress(storage: storage) : nil
    }

    private static func makeSocket(family: Int32, type: Int32) throws(SystemError) -> FileDescriptor {
        let flags = Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        return FileDescriptor(rawValue: try systemCall("socket", Glibc.socket(family, type | flags, 0)))
    }

    private static func bind(_ fd: FileDescriptor, to address: SocketAddress) throws(SystemError) {
        _ = try systemCall("bind", address.withSockaddr { Glibc.bind(fd.rawValue, $0, $1) })
    }
}

extension FileDescriptor {
    /// Sends what a connected socket takes now; returns the byte count (0 when its buffer is full). A peer
    /// that has gone is an error (EPIPE, ECONNRESET), not a signal.
    public func send(_ bytes: UnsafeRawBufferPointer) throws(SystemError) -> Int {
        try nonBlockingCall("send", Glibc.send(rawValue, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))) ?? 0
    }
}

extension FileDescriptor {
    /// Sends one datagram to `address` from an unconnected socket; false when its buffer is full.
    public func send(_ bytes: UnsafeRawBufferPointer, to address: SocketAddress) throws(SystemError) -> Bool {
        try nonBlockingCall("sendto", address.withSockaddr { Glibc.sendto(rawValue, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL), $0, $1) }) != nil
    }
}

extension FileDescriptor {
    public enum FirstByte: Equatable {
        case byte(UInt8)
        case notYet
        /// The peer closed (or reset) before sending anything.
        case none
    }

    /// The first byte waiting on a connected socket, left there for the next read.
    public func peekFirstByte() -> FirstByte {
        var byte: UInt8 = 0
        do {
            guard let count = try nonBlockingCall("recv(MSG_PEEK)", Glibc.recv(rawValue, &byte, 1, Int32(MSG_PEEK))) else { return .notYet }
            return count == 1 ? .byte(byte) : .none
        } catch {
            return .none
        }
    }
}
