// IPv4 and IPv6 socket addresses: parsed from text for binding, formatted to text for a record's host.
import Glibc

public struct SocketAddress: Sendable, Equatable, CustomStringConvertible {
    var storage = sockaddr_storage()

    init(storage: sockaddr_storage) { self.storage = storage }

    /// Parses a numeric IPv4 or IPv6 address; nil when `host` is neither.
    public init?(host: String, port: UInt16) {
        if host.contains(":") {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            guard inet_pton(AF_INET6, host, &address.sin6_addr) == 1 else { return nil }
            withUnsafeMutableBytes(of: &storage) { raw in
                withUnsafeBytes(of: address) { raw.copyMemory(from: $0) }
            }
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { return nil }
            withUnsafeMutableBytes(of: &storage) { raw in
                withUnsafeBytes(of: address) { raw.copyMemory(from: $0) }
            }
        }
    }

    var family: Int32 { Int32(storage.ss_family) }

    var length: socklen_t {
        socklen_t(family == AF_INET6 ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size)
    }

    /// The port in host byte order.
    public var port: UInt16 {
        withUnsafeBytes(of: storage) { raw in
            family == AF_INET6
                ? UInt16(bigEndian: raw.load(as: sockaddr_in6.self).sin6_port)
                : UInt16(bigEndian: raw.load(as: sockaddr_in.self).sin_port)
        }
    }

    /// The address as text ("127.0.0.1", "::1"); IPv4-mapped IPv6 addresses are shown as IPv4.
    public var hostText: String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        withUnsafeBytes(of: storage) { raw in
            if family == AF_INET6 {
                var address = raw.load(as: sockaddr_in6.self).sin6_addr
                _ = inet_ntop(AF_INET6, &address, &text, socklen_t(text.count))
            } else {
                var address = raw.load(as: sockaddr_in.self).sin_addr
                _ = inet_ntop(AF_INET, &address, &text, socklen_t(text.count))
            }
        }
        let result = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return result.hasPrefix("::ffff:") && result.contains(".") ? String(result.dropFirst(7)) : result
    }

    /// `127.0.0.1:9000`, `[::1]:9000`.
    public var description: String { family == AF_INET6 ? "[\(hostText)]:\(port)" : "\(hostText):\(port)" }

    /// The same family, address and port (the bytes the kernel filled in).
    public static func == (lhs: SocketAddress, rhs: SocketAddress) -> Bool {
        // memcmp, not elementsEqual: the UDP listeners compare each datagram's sender with the last one's.
        lhs.length == rhs.length && withUnsafeBytes(of: lhs.storage) { left in
            withUnsafeBytes(of: rhs.storage) { right in memcmp(left.baseAddress!, right.baseAddress!, Int(lhs.length)) == 0 }
        }
    }

    func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        withUnsafeBytes(of: storage) { raw in
            body(raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), length)
        }
    }
}
