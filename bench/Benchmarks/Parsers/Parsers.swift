// The hot path, one line per iteration: framing, parsing each format, appending to the ring, writing JSON,
// cycling through 1,000 realistic lines. Malloc counts show what allocates per line.
import Benchmark
import LogStream

private let lineCount = 1000

private func lines(_ make: (Int) -> String) -> [[UInt8]] {
    (0..<lineCount).map { Array(make($0).utf8) }
}

private let samples: [(String, [[UInt8]])] = [
    ("plain", lines { "2026-11-28T18:00:00.123Z ERROR [payment-gateway] request \($0) failed after 23ms user=alice" }),
    ("rfc5424", lines { "<11>1 2026-11-28T18:00:00.123456+00:00 web1 payments 4242 REQ [req@32473 id=\"\($0)\" user=\"alice\"] request failed" }),
    ("rfc3164", lines { "<11>Nov 28 18:00:00 web1 payments[4242]: request \($0) failed after 23ms" }),
    ("json", lines { #"{"level":50,"time":1732816800123,"name":"payments","msg":"request failed","req":\#($0),"user":"alice"}"# }),
    ("logfmt", lines { "time=2026-11-28T18:00:00Z level=error service=payments msg=\"request failed\" req=\($0) user=alice" }),
]

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .instructions],
        scalingFactor: .kilo,
        maxDuration: .seconds(2)
    )

    for (name, sample) in samples {
        Benchmark("RecordParser/\(name) (per line)") { benchmark in
            var fields = FieldsBuilder()
            for index in benchmark.scaledIterations {
                fields.removeAll()
                sample[index % lineCount].withUnsafeBytes {
                    blackHole(RecordParser.parse($0, receivedAt: 1_764_352_800_000, fields: &fields))
                }
            }
        }
    }

    // Lines as a TCP stream delivers them: 1,000 in one read, so a read's cost is shared by its lines.
    let stream = Array(samples[0].1.map { $0 + [0x0A] }.joined())
    Benchmark("LineFramer (per line)") { benchmark in
        var framer = LineFramer(maxLineBytes: 64 * 1024)
        var count = 0
        for index in benchmark.scaledIterations where index % lineCount == 0 {
            stream.withUnsafeBytes { framer.feed($0) { count += $0.bytes.count } }
        }
        blackHole(count)
    }

    // The ring is filled once before measuring: a running server's ring is full, and a fresh one also pays for
    // the kernel zeroing each page it grows into.
    Benchmark("LogRing.append (per line)") { benchmark in
        let ring = LogRing(capacity: 100_000, arenaBytes: 16 << 20)
        let host = Array("10.0.0.7".utf8)
        let hostNumber = host.withUnsafeBytes { ring.hosts.index(of: $0) }
        func append(_ index: Int) {
            samples[0].1[index % lineCount].withUnsafeBytes { line in
                host.withUnsafeBytes { host in
                    blackHole(ring.append(NewRecord(line: line, host: host, level: .error, service: UnsafeRawBufferPointer(rebasing: line[30..<45]),
                                                    ingestProtocol: .tcp, isTruncated: false, receivedAtMilliseconds: 0,
                                                    hostNumber: hostNumber)))
                }
            }
        }
        var warm = 0
        while ring.evictedCount == 0 { append(warm); warm += 1 }
        benchmark.startMeasurement()
        for index in benchmark.scaledIterations { append(index) }
    }

    // Everything the reactor does with a TCP read but the read itself: framing, parsing, counting, storing.
    Benchmark("TCP read to ring, plain (per line)") { benchmark in
        let ingest = LineIngest(destination: RecordDestination(ring: LogRing(capacity: 100_000, arenaBytes: 16 << 20)))
        var framer = LineFramer(maxLineBytes: 64 * 1024)
        let host = Array("10.0.0.7".utf8)
        host.withUnsafeBytes { host in
            let hostNumber = ingest.destination.hostNumber(of: host)
            func feed() {
                stream.withUnsafeBytes {
                    framer.feed($0) { ingest.ingest($0, host: host, hostNumber: hostNumber, protocol: .tcp, receivedAtMilliseconds: 1_764_352_800_000) }
                }
            }
            while ingest.destination.ring.evictedCount == 0 { feed() }
            benchmark.startMeasurement()
            for index in benchmark.scaledIterations where index % lineCount == 0 { feed() }
        }
        blackHole(ingest.destination.stats.received)
    }

    Benchmark("JSONWriter.string (per line)") { benchmark in
        var json = JSONWriter(capacity: 256 * lineCount)
        for index in benchmark.scaledIterations {
            if index % lineCount == 0 { json.bytes.removeAll(keepingCapacity: true) }
            samples[3].1[index % lineCount].withUnsafeBytes { json.string($0) }
        }
        blackHole(json.bytes.count)
    }
}
