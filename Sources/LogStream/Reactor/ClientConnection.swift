// A TCP connection a worker thread opens to a server (ClickHouse) and talks over with calls that wait, each
// bounded by a deadline: a frozen server accepts the connection and then answers nothing, and the deadline is
// the only bound. The socket is non-blocking and every wait is a poll(2) with what is left of the deadline,
// so connect, send and receive all end in time; the reactor never uses this.
import Glibc

/// What a worker's client talks over: a connection, or TLS over one (Transport's `TLSClientConnection`).
public protocol ClientStream: AnyObject {
    /// Sends all of `bytes`, waiting while the socket's buffer is full.
    func send(_ bytes: UnsafeRawBufferPointer, by deadline: ClientConnection.Deadline) throws(SystemError)
    /// Receives what has come, waiting for at least one byte; 0 when the server has closed the connection.
    func receive(into buffer: UnsafeMutableRawBufferPointer, by deadline: ClientConnection.Deadline) throws(SystemError) -> Int
    /// Whether the server has closed the connection (or sent bytes nobody asked for) while it sat idle: a
    /// kept-alive connection found so is not reused.
    var isClosedByPeer: Bool { get }
}

extension ClientStream {
    public func send(_ bytes: ArraySlice<UInt8>, by deadline: ClientConnection.Deadline) throws(SystemError) {
        let result: Result<Void, SystemError> = bytes.withUnsafeBytes { raw in Result { () throws(SystemError) in try send(raw, by: deadline) } }
        try result.get()
    }

    /// Appends to `buffer` up to `limit` bytes of what has come (waiting for one at least); false when the
    /// server has closed the connection.
    public func receive(appendingTo buffer: inout [UInt8], limit: Int, by deadline: ClientConnection.Deadline) throws(SystemError) -> Bool {
        let start = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: limit))
        let result: Result<Int, SystemError> = buffer.withUnsafeMutableBytes { raw in
            Result { () throws(SystemError) in try receive(into: UnsafeMutableRawBufferPointer(rebasing: raw[start...]), by: deadline) }
        }
        buffer.removeLast(limit - ((try? result.get()) ?? 0))
        return try result.get() > 0
    }
}

public final class ClientConnection: ClientStream {
    /// The socket, for a TLS session over it (which waits with `wait(for:until:naming:)`).
    public let fd: FileDescriptor

    /// A point on the monotonic clock past which a call fails with ETIMEDOUT.
    public struct Deadline: Sendable {
        public var nanoseconds: UInt64
        public init(millisecondsFromNow milliseconds: Int) {
            nanoseconds = Clock.monotonicNanoseconds + UInt64(max(0, milliseconds)) * 1_000_000
        }
        var remainingMilliseconds: Int32 {
            let now = Clock.monotonicNanoseconds
            return now >= nanoseconds ? 0 : Int32(clamping: (nanoseconds - now + 999_999) / 1_000_000)
        }
    }

    /// Resolves `host` (a name or a numeric address) and connects to the first address that takes the
    /// connection before `deadline`.
    public init(host: String, port: UInt16, deadline: Deadline) throws(SystemError) {
        var lastError = SystemError("connect \(host):\(port)", errno: .connectionRefused)
        for address in try Self.resolve(host: host, port: port) {
            do {
                fd = try Self.connect(to: address, deadline: deadline, naming: "connect \(host):\(port)")
                return
            } catch {
                lastError = error
                if error.errno == .timedOut { break }
            }
        }
        throw lastError
    }

    deinit { fd.close() }

    public func send(_ bytes: UnsafeRawBufferPointer, by deadline: Deadline) throws(SystemError) {
        var sent = 0
        while sent < bytes.count {
            let count = try fd.send(UnsafeRawBufferPointer(rebasing: bytes[sent...]))
            if count == 0 { try wait(for: Int16(POLLOUT), until: deadline, naming: "send") }
            sent += count
        }
    }

    public func receive(into buffer: UnsafeMutableRawBufferPointer, by deadline: Deadline) throws(SystemError) -> Int {
        while true {
            switch try fd.read(into: buffer) {
            case .bytes(let count): return count
            case .endOfFile: return 0
            case .wouldBlock: try wait(for: Int16(POLLIN), until: deadline, naming: "receive")
            }
        }
    }

    public var isClosedByPeer: Bool {
        var probe = pollfd(fd: fd.rawValue, events: Int16(POLLIN), revents: 0)
        return poll(&probe, 1, 0) != 0
    }

    /// Waits until the socket is ready for `events` (POLLIN, POLLOUT); past `deadline`, fails with ETIMEDOUT.
    public func wait(for events: Int16, until deadline: Deadline, naming operation: String) throws(SystemError) {
        try Self.wait(fd, for: events, until: deadline, naming: operation)
    }

    private static func wait(_ fd: FileDescriptor, for events: Int16, until deadline: Deadline, naming operation: String) throws(SystemError) {
        while true {
            let timeout = deadline.remainingMilliseconds
            guard timeout > 0 else { throw SystemError(operation, errno: .timedOut) }
            var request = pollfd(fd: fd.rawValue, events: events, revents: 0)
            if try systemCall("poll", poll(&request, 1, timeout)) > 0 { return }
        }
    }

    private static func connect(to address: SocketAddress, deadline: Deadline, naming operation: String) throws(SystemError) -> FileDescriptor {
        let flags = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let fd = FileDescriptor(rawValue: try systemCall("socket", socket(address.family, flags, 0)))
        do throws(SystemError) {
            if address.withSockaddr({ Glibc.connect(fd.rawValue, $0, $1) }) != 0 {
                let started = Errno.current
                guard started == .inProgress || started == .interrupted else { throw SystemError(operation, errno: started) }
                try wait(fd, for: Int16(POLLOUT), until: deadline, naming: operation)
                var failure: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                _ = try systemCall("getsockopt(SO_ERROR)", getsockopt(fd.rawValue, SOL_SOCKET, SO_ERROR, &failure, &length))
                if failure != 0 { throw SystemError(operation, errno: Errno(rawValue: failure)) }
            }
            // Requests are written whole: no need to wait for an acknowledgement before the next segment.
            var on: Int32 = 1
            _ = setsockopt(fd.rawValue, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
            return fd
        } catch {
            fd.close()
            throw error
        }
    }

    /// The addresses `host` names, numeric ones without a lookup.
    private static func resolve(host: String, port: UInt16) throws(SystemError) -> [SocketAddress] {
        if let numeric = SocketAddress(host: host, port: port) { return [numeric] }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw SystemError("resolve \(host) (\(String(cString: gai_strerror(status))))", errno: .hostUnreachable)
        }
        defer { freeaddrinfo(first) }
        var addresses: [SocketAddress] = []
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry {
            if let address = current.pointee.ai_addr, current.pointee.ai_family == AF_INET || current.pointee.ai_family == AF_INET6 {
                var storage = sockaddr_storage()
                withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: UnsafeRawBufferPointer(start: address, count: Int(current.pointee.ai_addrlen))) }
                addresses.append(SocketAddress(storage: storage))
            }
            entry = current.pointee.ai_next
        }
        return addresses
    }
}
