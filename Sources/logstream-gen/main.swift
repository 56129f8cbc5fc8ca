// logstream-gen: sends realistic log lines (random services and levels) to LogStream or any syslog-style
// receiver over UDP or TCP, at a fixed rate or as fast as possible, and prints a one-line JSON summary.
import ArgumentParser
import CEpoll
import Glibc

struct Generator: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logstream-gen",
        abstract: "Send random log lines over UDP or TCP (a faster test_logger.py)."
    )

    enum Transport: String, ExpressibleByArgument { case udp, tcp }

    @Option(help: "udp or tcp.") var protocolName: Transport = .udp
    @Option(help: "Receiver address (numeric IPv4).") var host = "127.0.0.1"
    @Option(help: "Receiver port (default 9000 for UDP, 9001 for TCP).") var port: UInt16?
    @Option(help: "Lines per second; 0 sends as fast as possible.") var rate: Double = 5
    @Option(help: "Stop after this many lines (0: no limit).") var count = 0
    @Option(help: "Stop after this many seconds (0: no limit).") var duration: Double = 0
    @Option(help: "TCP connections to spread the lines over.") var connections = 1
    @Flag(help: "Print each line as it is sent.") var echo = false

    func validate() throws {
        guard rate >= 0 else { throw ValidationError("--rate must not be negative") }
        guard connections >= 1 else { throw ValidationError("--connections must be at least 1") }
        guard count > 0 || duration > 0 || rate > 0 else { throw ValidationError("flooding needs --count or --duration") }
    }

    func run() throws {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = (port ?? (protocolName == .udp ? 9000 : 9001)).bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { throw ValidationError("--host must be an IPv4 address") }
        let sender = try Sender(transport: protocolName, address: address, connections: connections)
        let lines = LinePool(size: 4096)
        let start = cepoll_monotonic_ns()
        var sent = 0
        var next = 0
        while count == 0 || sent < count {
            let elapsed = Double(cepoll_monotonic_ns() - start) / 1e9
            if duration > 0 && elapsed >= duration { break }
            var due = rate > 0 ? Int(elapsed * rate) + 1 - sent : 4096
            if count > 0 { due = min(due, count - sent) }
            if due <= 0 {
                usleep(UInt32(min(100_000, max(200, 1e6 / rate / 2))))
                continue
            }
            let batch = (0..<min(due, 4096)).map { offset in lines.line(next + offset) }
            next += batch.count
            if echo { for line in batch { print(String(decoding: line.dropLast(), as: UTF8.self)) } }
            try sender.send(batch)
            sent += batch.count
        }
        sender.finish()
        let seconds = Double(cepoll_monotonic_ns() - start) / 1e9
        print("{\"protocol\":\"\(protocolName.rawValue)\",\"lines\":\(sent),\"seconds\":\(seconds),\"lines_per_second\":\(Int(Double(sent) / max(seconds, 1e-9)))}")
    }
}

/// Pre-built lines, so the generator spends its time sending, not formatting.
struct LinePool {
    static let services = ["auth-service", "payment-gateway", "user-db", "frontend", "search-api", "inventory", "mailer"]
    static let messages: [(String, String)] = [
        ("INFO", "User login successful"), ("INFO", "Request completed in 23ms"), ("INFO", "Cache refreshed"),
        ("DEBUG", "Connection pool stats: active=4 idle=12"), ("DEBUG", "Query plan cached"),
        ("WARN", "Slow response from upstream"), ("WARN", "Retrying request, attempt 2"),
        ("ERROR", "Health check failed"), ("ERROR", "Transaction declined: insufficient funds"),
        ("FATAL", "Out of memory, shutting down"), ("TRACE", "Entering handler /api/orders"),
    ]
    private let lines: [[UInt8]]

    init(size: Int) {
        var generator = SystemRandomNumberGenerator()
        lines = (0..<size).map { index in
            let (level, message) = Self.messages.randomElement(using: &generator)!
            let service = Self.services.randomElement(using: &generator)!
            return Array("\(level) [\(service)] \(message) request_id=\(100_000 + index)\n".utf8)
        }
    }

    func line(_ index: Int) -> [UInt8] { lines[index % lines.count] }
}

final class Sender {
    private let transport: Generator.Transport
    private var sockets: [Int32] = []
    private var nextSocket = 0

    init(transport: Generator.Transport, address: sockaddr_in, connections: Int) throws {
        self.transport = transport
        let count = transport == .udp ? 1 : connections
        for _ in 0..<count {
            let fd = socket(AF_INET, Int32(transport == .udp ? SOCK_DGRAM.rawValue : SOCK_STREAM.rawValue), 0)
            var target = address
            let result = withUnsafePointer(to: &target) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard fd >= 0, result == 0 else { throw ValidationError("cannot connect: \(String(cString: strerror(errno)))") }
            sockets.append(fd)
        }
    }

    func send(_ lines: [[UInt8]]) throws {
        transport == .udp ? try sendDatagrams(lines) : try sendStream(lines)
    }

    /// One datagram per line (without its newline), 64 per sendmmsg call.
    private func sendDatagrams(_ lines: [[UInt8]]) throws {
        var index = 0
        while index < lines.count {
            let batch = lines[index..<min(index + 64, lines.count)]
            let joined = Array(batch.joined())
            var lengths = batch.map { UInt32($0.count - 1) }
            let sent = joined.withUnsafeBufferPointer { buffer in
                var offset = 0
                let pointers: [UnsafePointer<UInt8>?] = batch.map { line in
                    defer { offset += line.count }
                    return buffer.baseAddress! + offset
                }
                return cepoll_send_datagrams(sockets[0], pointers, &lengths, UInt32(batch.count))
            }
            if sent < 0 {
                if errno == ENOBUFS || errno == EAGAIN { usleep(50); continue }
                throw ValidationError("send: \(String(cString: strerror(errno)))")
            }
            index += Int(sent)
        }
    }

    /// Lines joined into one large write per connection, round-robin.
    private func sendStream(_ lines: [[UInt8]]) throws {
        let fd = sockets[nextSocket]
        nextSocket = (nextSocket + 1) % sockets.count
        let chunk = Array(lines.joined())
        var offset = 0
        while offset < chunk.count {
            let written = chunk.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if written < 0 {
                if errno == EINTR { continue }
                throw ValidationError("send: \(String(cString: strerror(errno)))")
            }
            offset += written
        }
    }

    func finish() {
        for fd in sockets {
            if transport == .tcp { shutdown(fd, Int32(SHUT_WR)) }
            close(fd)
        }
    }
}

Generator.main()
