// sink-profile: the reactor's work on a TCP read minus the read itself (framing, parsing, counting, storing),
// over a 1,000-line stream fed again and again, for profilers: under `valgrind --tool=callgrind` its
// instruction count per line is a figure that the machine's noise does not move.
//
// The ring (1,000,000 records, 256 MiB) is filled once before the timed lines, so they are measured in the
// steady state of a running server rather than while the kernel zeroes the pages a fresh ring grows into.
//
// Usage: sink-profile [plain|rfc3164|rfc5424|json|logfmt] [lines]   (prints lines and ns per line)
import Glibc
import LogStream

let format = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "plain"
let total = CommandLine.arguments.count > 2 ? Int(CommandLine.arguments[2])! : 1_000_000
let services = ["auth-service", "payment-gateway", "user-db", "frontend", "search-api", "inventory", "mailer"]
let levels = ["INFO", "DEBUG", "WARN", "ERROR", "INFO", "TRACE", "INFO"]

func line(_ index: Int) -> String {
    let service = services[index % services.count], level = levels[index / 7 % levels.count]
    let time = "2026-11-29T10:\(10 + index / 60 % 50):\(10 + index % 50).\(100 + index % 900)Z"
    switch format {
    case "rfc3164": return "<14>Nov 29 10:10:\(10 + index % 50) web-01 \(service)[\(1000 + index % 50)]: Request completed in 23ms user=alice request_id=\(100_000 + index)"
    case "rfc5424": return "<14>1 \(time) web-01 \(service) \(1000 + index % 50) - [req@32473 id=\"\(100_000 + index)\" user=\"alice\"] Request completed in 23ms"
    case "json": return "{\"time\":\"\(time)\",\"level\":\"\(level.lowercased())\",\"service\":\"\(service)\",\"msg\":\"Request completed in 23ms\",\"user\":\"alice\",\"request_id\":\(100_000 + index)}"
    case "logfmt": return "time=\(time) level=\(level.lowercased()) service=\(service) msg=\"Request completed in 23ms\" user=alice request_id=\(100_000 + index)"
    default: return "\(time) \(level) [\(service)] Request completed in 23ms user=alice request_id=\(100_000 + index)"
    }
}

let stream = Array((0..<1000).map { line($0) + "\n" }.joined().utf8)
let destination = RecordDestination(ring: LogRing(capacity: 1_000_000, arenaBytes: 256 << 20))
let ingest = LineIngest(destination: destination)
var framer = LineFramer(maxLineBytes: 64 * 1024)
let host = Array("127.0.0.1".utf8)

@MainActor func feed(_ lines: Int) {
    host.withUnsafeBytes { host in
        let hostNumber = destination.hostNumber(of: host)  // as a TCP connection does once
        stream.withUnsafeBytes { stream in
            for _ in 0..<(lines / 1000) {
                framer.feed(stream) {
                    ingest.ingest($0, host: host, hostNumber: hostNumber, protocol: .tcp, receivedAtMilliseconds: 1_764_410_000_000)
                }
            }
        }
    }
}

while destination.ring.evictedCount == 0 { feed(100_000) }
let warm = destination.stats.received
var start = timespec()
clock_gettime(CLOCK_MONOTONIC, &start)
feed(total)
var end = timespec()
clock_gettime(CLOCK_MONOTONIC, &end)
let nanoseconds = Double(end.tv_sec - start.tv_sec) * 1e9 + Double(end.tv_nsec - start.tv_nsec)
print("\(format): \(destination.stats.received - warm) lines, \(Int(nanoseconds / Double(destination.stats.received - warm))) ns per line")
