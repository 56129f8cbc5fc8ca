// livetail-latency: how long a line takes from a UDP datagram to a `new_log` message on a WebSocket client.
// It connects N WebSocket clients to LogStream's /ws, sends numbered lines over UDP at a fixed rate, and for
// every client and every line records now minus the line's send time in an HdrHistogram. A sender thread
// sleeps until each line is due (no busy loop to take a core from the server); the main thread sleeps in
// poll() until a client has something, so it reads as soon as anything arrives. Each line carries its own
// send time (`t=` nanoseconds of CLOCK_MONOTONIC), so the threads share nothing.
//
// Usage: livetail-latency --http-port P --udp-port P [--rate 10000] [--seconds 10] [--clients 10]
// Prints one JSON line: {"sent":..,"received":..,"expected":..,"p50_us":..,"p90_us":..,"p99_us":..,"p999_us":..,"max_us":..,
// "sender_late_p99_us":..,"sender_late_max_us":..}: the last two, how late the sender woke, are the machine's noise.
import Foundation
import Glibc
import Histogram

struct Options {
    var httpPort: UInt16 = 8000
    var udpPort: UInt16 = 9000
    var rate = 10_000
    var seconds = 10.0
    var clients = 10
    /// Lines sent before measuring starts (connection set-up, first page faults).
    var warmupLines = 1000

    init(_ arguments: [String]) {
        var index = 1
        while index + 1 < arguments.count {
            let value = arguments[index + 1]
            switch arguments[index] {
            case "--http-port": httpPort = UInt16(value)!
            case "--udp-port": udpPort = UInt16(value)!
            case "--rate": rate = Int(value)!
            case "--seconds": seconds = Double(value)!
            case "--clients": clients = Int(value)!
            default: fail("unknown option \(arguments[index])")
            }
            index += 2
        }
    }
}

func fail(_ message: String) -> Never {
    let line = Array("livetail-latency: \(message)\n".utf8)
    _ = line.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
    exit(1)
}

func nanoseconds() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}

func loopback(_ port: UInt16) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    return address
}

func connectTo(_ port: UInt16, type: Int32) -> Int32 {
    let fd = socket(AF_INET, type, 0)
    var address = loopback(port)
    let result = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard fd >= 0, result == 0 else { fail("cannot connect to port \(port): \(String(cString: strerror(errno)))") }
    return fd
}

/// A WebSocket client reduced to what this needs: the upgrade, then unmasked server frames.
struct Client {
    let fd: Int32
    var buffer: [UInt8] = []

    init(port: UInt16) {
        fd = connectTo(port, type: Int32(SOCK_STREAM.rawValue))
        var noDelay: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))
        let request = "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        _ = Array(request.utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var head: [UInt8] = []
        var byte: UInt8 = 0
        while !head.suffix(4).elementsEqual([13, 10, 13, 10]) {
            guard recv(fd, &byte, 1, 0) == 1 else { fail("the WebSocket upgrade failed") }
            head.append(byte)
        }
        guard String(decoding: head, as: UTF8.self).hasPrefix("HTTP/1.1 101") else { fail("the WebSocket upgrade was refused") }
    }

    /// Reads what is there and calls `message` with each complete text message. `chunk` is shared scratch space.
    /// `message` also gets the time the bytes were read.
    mutating func receive(into chunk: UnsafeMutableRawBufferPointer, _ message: (UnsafeRawBufferPointer, UInt64) -> Void) {
        let carried = buffer.count
        buffer.withUnsafeBytes { chunk.copyMemory(from: $0) }
        let count = recv(fd, chunk.baseAddress! + carried, chunk.count - carried, Int32(MSG_DONTWAIT))
        if count == 0 { fail("the server closed a WebSocket") }
        guard count > 0 else { return }
        let arrived = nanoseconds()
        let bytes = UnsafeRawBufferPointer(rebasing: chunk[..<(carried + count)])
        var start = 0
        while bytes.count - start >= 2 {
            var length = Int(bytes[start + 1] & 0x7F)
            var header = 2
            if length == 126 {
                guard bytes.count - start >= 4 else { break }
                length = Int(bytes[start + 2]) << 8 | Int(bytes[start + 3])
                header = 4
            } else if length == 127 {
                guard bytes.count - start >= 10 else { break }
                length = (2..<10).reduce(0) { $0 << 8 | Int(bytes[start + $1]) }
                header = 10
            }
            guard bytes.count - start >= header + length else { break }
            if bytes[start] & 0x0F == 1 { message(UnsafeRawBufferPointer(rebasing: bytes[(start + header)..<(start + header + length)]), arrived) }
            start += header + length
        }
        buffer = Array(bytes[start...])
    }
}

/// The number after `key` (e.g. `seq=`) in a message, if any.
func number(after key: StaticString, in message: UnsafeRawBufferPointer) -> UInt64? {
    let keyBytes = UnsafeRawBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)
    var index = 0
    while index + keyBytes.count < message.count {
        if message[index] == keyBytes[0], message[index..<(index + keyBytes.count)].elementsEqual(keyBytes) {
            var value: UInt64 = 0
            index += keyBytes.count
            while index < message.count, message[index] &- 0x30 < 10 {
                value = value * 10 + UInt64(message[index] - 0x30)
                index += 1
            }
            return value
        }
        index += 1
    }
    return nil
}

let options = Options(CommandLine.arguments)
var clients = (0..<options.clients).map { _ in Client(port: options.httpPort) }
let total = options.warmupLines + Int(Double(options.rate) * options.seconds)

// The sender: line n is due at start + n / rate; it sleeps until then (absolute, so delays do not add up).
let udpPort = options.udpPort, rate = options.rate
let sender = Thread {
    let udp = connectTo(udpPort, type: Int32(SOCK_DGRAM.rawValue))
    let start = nanoseconds()
    for sequence in 0..<total {
        let due = start + UInt64(sequence) * 1_000_000_000 / UInt64(rate)
        var wake = timespec(tv_sec: Int(due / 1_000_000_000), tv_nsec: Int(due % 1_000_000_000))
        while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &wake, nil) == EINTR {}
        let now = nanoseconds()
        let line = Array("INFO [latency] live tail probe seq=\(sequence) t=\(now) late=\(now - min(now, due))".utf8)
        _ = line.withUnsafeBytes { send(udp, $0.baseAddress, $0.count, 0) }
    }
}
sender.start()

let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 4 << 20, alignment: 16)
var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
/// How late the sender thread woke for each line: the machine's own scheduling noise, as a control.
var senderLateness = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
var received = 0
var pollSet = clients.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
let deadline = nanoseconds() + UInt64((options.seconds + 5) * 1e9)
while received < total * clients.count, nanoseconds() < deadline {
    guard poll(&pollSet, nfds_t(pollSet.count), 100) > 0 else { continue }
    for index in clients.indices where pollSet[index].revents != 0 {
        clients[index].receive(into: scratch) { message, arrived in
            guard let sequence = number(after: "seq=", in: message), let sentAt = number(after: "t=", in: message) else { return }
            received += 1
            guard sequence >= options.warmupLines else { return }
            _ = histogram.record((arrived - sentAt) / 1000)
            if index == 0, let late = number(after: "late=", in: message) { _ = senderLateness.record(late / 1000) }
        }
    }
}

let micros = { (percentile: Double) in histogram.valueAtPercentile(percentile) }
print("{\"clients\":\(clients.count),\"rate\":\(options.rate),\"sent\":\(total),\"received\":\(received),"
      + "\"expected\":\(total * clients.count),\"p50_us\":\(micros(50)),\"p90_us\":\(micros(90)),\"p99_us\":\(micros(99)),"
      + "\"p999_us\":\(micros(99.9)),\"max_us\":\(histogram.max),\"sender_late_p99_us\":\(senderLateness.valueAtPercentile(99)),"
      + "\"sender_late_max_us\":\(senderLateness.max)}")
