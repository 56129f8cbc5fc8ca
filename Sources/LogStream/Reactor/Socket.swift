// Creating non-blocking listening sockets and accepting connections; no protocol knowledge.
import CEpoll
import Glibc

public enum Socket {
    /// A non-blocking TCP listener bound to `address`.
    public static func listenTCP(on address: SocketAddress, backlog: Int32 = 1024) throws(SystemError) -> FileDescriptor {
        let fd = try makeSocket(family: address.family, type: Int32(SOCK_STREAM.rawValue))
        do {
            _ = cepoll_set_reuseaddr(fd.rawValue)
            try bind(fd, to: address)
            _ = try retryingInterrupts("listen") { Glibc.listen(fd.rawValue, backlog) }
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
            _ = cepoll_set_rcvbuf(fd.rawValue, receiveBufferBytes)
            _ = cepoll_report_udp_drops(fd.rawValue)  // best effort: without it, drops are only a gap in the counts
            try bind(fd, to: address)
            return (fd, Int(cepoll_get_rcvbuf(fd.rawValue)))
        } catch {
            fd.close()
            throw error
        }
    }

    /// Accepts one pending connection, non-blocking; nil when none is pending.
    public static func accept(from listener: FileDescriptor) throws(SystemError) -> (FileDescriptor, SocketAddress)? {
        var peer = sockaddr_storage()
        while true {
            let fd = cepoll_accept(listener.rawValue, &peer)
            if fd >= 0 { return (FileDescriptor(rawValue: fd), SocketAddress(storage: peer)) }
            switch errno {
            case EINTR, ECONNABORTED: continue
            case EAGAIN, EWOULDBLOCK: return nil
            default: throw SystemError("accept")
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
        let fd = Glibc.socket(family, type | flags, 0)
        guard fd >= 0 else { throw SystemError("socket") }
        return FileDescriptor(rawValue: fd)
    }

    private static func bind(_ fd: FileDescriptor, to address: SocketAddress) throws(SystemError) {
        let result = address.withSockaddr { Glibc.bind(fd.rawValue, $0, $1) }
        guard result == 0 else { throw SystemError("bind") }
    }
}
