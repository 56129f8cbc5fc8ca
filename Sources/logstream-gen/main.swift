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
    enum Format: String, ExpressibleByArgument, CaseIterable { case plain, rfc3164, rfc5424, json, logfmt }

    @Option(help: "udp or tcp.") var protocolName: Transport = .udp
    @Option(help: "Receiver address (numeric IPv4).") var host = "127.0.0.1"
    @Option(help: "Receiver port (default 9000 for UDP, 9001 for TCP).") var port: UInt16?
    @Option(help: "Lines per second; 0 sends as fast as possible.") var rate: Double = 5
    @Option(help: "Stop after this many lines (0: no limit).") var count = 0
    @Option(help: "Stop after this many seconds (0: no limit).") var duration: Double = 0
    @Option(help: "TCP connections to spread the lines over.") var connections = 1
    @Option(help: "Line format: plain, rfc3164, rfc5424, json or logfmt (~100-170 bytes each).") var format: Format = .plain
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
        let lines = LinePool(size: 4096, format: format)
        let start = monotonicNanoseconds()
        var sent = 0
        var sentBytes = 0
        var next = 0
        while count == 0 || sent < count {
            let elapsed = Double(monotonicNanoseconds() - start) / 1e9
            if duration > 0 && elapsed >= duration { break }
            var due = rate > 0 ? Int(elapsed * rate) + 1 - sent : 4096
            if count > 0 { due = min(due, count - sent) }
            if due <= 0 {
                usleep(UInt32(min(100_000, max(200, 1e6 / rate / 2))))
                continue
            }
            let batchCount = min(due, 4096)
            for run in lines.runs(from: next, count: batchCount) {
                if echo {
                    for line in run { print(String(decoding: lines.bytes[lines.offsets[line]..<(lines.offsets[line + 1] - 1)], as: UTF8.self)) }
                }
                try sender.send(run, of: lines)
                sentBytes += lines.offsets[run.upperBound] - lines.offsets[run.lowerBound]
            }
            next += batchCount
            sent += batchCount
        }
        sender.finish()
        let seconds = Double(monotonicNanoseconds() - start) / 1e9
        print("{\"protocol\":\"\(protocolName.rawValue)\",\"lines\":\(sent),\"bytes\":\(sentBytes),\"seconds\":\(seconds),\"lines_per_second\":\(Int(Double(sent) / max(seconds, 1e-9)))}")
    }
}

/// Pre-built lines in one contiguous buffer, so the generator spends its time sending, not formatting:
/// a run of consecutive lines is one slice of `bytes`. Plain lines are about 100 bytes with their timestamp.
struct LinePool {
    static let services = ["auth-service", "payment-gateway", "user-db", "frontend", "search-api", "inventory", "mailer"]
    static let hosts = ["web-01", "web-02", "db-01", "worker-07"]
    static let users = ["alice", "bob", "carol", "dave", "erin"]
    static let messages: [(String, String)] = [
        ("INFO", "User login successful"), ("INFO", "Request completed in 23ms"), ("INFO", "Cache refreshed"),
        ("DEBUG", "Connection pool stats: active=4 idle=12"), ("DEBUG", "Query plan cached"),
        ("WARN", "Slow response from upstream"), ("WARN", "Retrying request, attempt 2"),
        ("ERROR", "Health check failed"), ("ERROR", "Transaction declined: insufficient funds"),
        ("FATAL", "Out of memory, shutting down"), ("TRACE", "Entering handler /api/orders"),
    ]
    static let severities = ["TRACE": 7, "DEBUG": 7, "INFO": 6, "WARN": 4, "ERROR": 3, "FATAL": 2]
    let bytes: [UInt8]
    /// Start offset of each line in `bytes`, plus the end of the last.
    let offsets: [Int]
    var count: Int { offsets.count - 1 }

    init(size: Int, format: Generator.Format = .plain) {
        var generator = SystemRandomNumberGenerator()
        var bytes: [UInt8] = []
        var offsets = [0]
        for index in 0..<size {
            let (level, message) = Self.messages.randomElement(using: &generator)!
            let service = Self.services.randomElement(using: &generator)!
            let host = Self.hosts.randomElement(using: &generator)!
            let user = Self.users.randomElement(using: &generator)!
            let second = index % 60
            let time = "2026-11-29T10:\(10 + index / 60 % 50):\(second < 10 ? "0" : "")\(second).\(100 + index % 900)Z"
            let pri = 8 + Self.severities[level]!  // facility 1 (user)
            let line = switch format {
            case .plain:
                "\(time) \(level) [\(service)] \(message) user=\(user) request_id=\(100_000 + index)"
            case .rfc3164:
                "<\(pri)>Nov 29 10:\(10 + index / 60 % 50):\(second < 10 ? "0" : "")\(second) \(host) \(service)[\(1000 + index % 50)]: \(message) user=\(user) request_id=\(100_000 + index)"
            case .rfc5424:
                "<\(pri)>1 \(time) \(host) \(service) \(1000 + index % 50) - [req@32473 id=\"\(100_000 + index)\" user=\"\(user)\"] \(message)"
            case .json:
                "{\"time\":\"\(time)\",\"level\":\"\(level.lowercased())\",\"service\":\"\(service)\",\"msg\":\"\(message)\",\"user\":\"\(user)\",\"request_id\":\(100_000 + index)}"
            case .logfmt:
                "time=\(time) level=\(level.lowercased()) service=\(service) msg=\"\(message)\" user=\(user) request_id=\(100_000 + index)"
            }
            bytes += Array((line + "\n").utf8)
            offsets.append(bytes.count)
        }
        self.bytes = bytes
        self.offsets = offsets
    }

    /// Lines `first..<first+count` (indexes wrap around the pool) as contiguous runs.
    func runs(from first: Int, count: Int) -> [Range<Int>] {
        var runs: [Range<Int>] = []
        var line = first % self.count
        var remaining = count
        while remaining > 0 {
            let take = min(remaining, self.count - line)
            runs.append(line..<(line + take))
            remaining -= take
            line = 0
        }
        return runs
    }
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

    func send(_ run: Range<Int>, of pool: LinePool) throws {
        transport == .udp ? try sendDatagrams(run, of: pool) : try sendStream(run, of: pool)
    }

    /// One datagram per line (without its newline), up to 64 per sendmmsg call.
    private func sendDatagrams(_ run: Range<Int>, of pool: LinePool) throws {
        try pool.bytes.withUnsafeBufferPointer { buffer in
            var line = run.lowerBound
            while line < run.upperBound {
                let batch = line..<min(line + 64, run.upperBound)
                let pointers: [UnsafePointer<UInt8>?] = batch.map { buffer.baseAddress! + pool.offsets[$0] }
                var lengths: [UInt32] = batch.map { UInt32(pool.offsets[$0 + 1] - pool.offsets[$0] - 1) }
                let sent = cepoll_send_datagrams(sockets[0], pointers, &lengths, UInt32(batch.count))
                if sent < 0 {
                    if errno == ENOBUFS || errno == EAGAIN || errno == EINTR { usleep(50); continue }
                    throw ValidationError("send: \(String(cString: strerror(errno)))")
                }
                line += Int(sent)
            }
        }
    }

    /// Consecutive lines in one write, round-robin over the connections.
    private func sendStream(_ run: Range<Int>, of pool: LinePool) throws {
        let fd = sockets[nextSocket]
        nextSocket = (nextSocket + 1) % sockets.count
        var offset = pool.offsets[run.lowerBound]
        let end = pool.offsets[run.upperBound]
        try pool.bytes.withUnsafeBytes { bytes in
            while offset < end {
                let written = Glibc.send(fd, bytes.baseAddress! + offset, end - offset, Int32(MSG_NOSIGNAL))
                if written < 0 {
                    if errno == EINTR { continue }
                    throw ValidationError("send: \(String(cString: strerror(errno)))")
                }
                offset += written
            }
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

func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}
