// block-profile: the disk worker's work per record without the disk: records gathered into blocks and each
// block sealed (its words into the Bloom filter, its columns through zstd), over access-log lines like
// bench/disk.py's. Under `valgrind --tool=callgrind` its instructions per record are a figure the machine's
// noise does not move; callgrind_annotate splits them between tokenizing, zstd and the rest.
//
// Usage: block-profile [records]   (prints records, ns per record and the sealed bytes' share of the raw)
import Glibc
import LogStream

let total = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1])! : 1_000_000
let services = ["checkout", "auth", "payments", "search", "gateway", "inventory", "shipping", "users"]
let agents = ["Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
              "curl/8.4.0", "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0", "okhttp/4.12.0"]
var random = SystemRandomNumberGenerator()

/// 4,096 distinct lines, cycled: enough that zstd finds no repeats beyond what real lines have.
let lines: [[UInt8]] = (0..<4096).map { index in
    let service = services[index % services.count]
    let id = String(UInt64.random(in: 0..<(1 << 48), using: &random), radix: 16)
    return Array(("2025-12-02T18:26:\(10 + index % 50).\(100 + index % 900)Z INFO [\(service)] request completed: GET /api/v1/users/\(Int.random(in: 0..<100_000)) "
        + "status=200 latency_ms=\(Int.random(in: 1..<900)) bytes=\(Int.random(in: 200..<60000)) ip=10.0.\(Int.random(in: 0..<256)).\(Int.random(in: 0..<256)) "
        + "request_id=\(id) user=u\(Int.random(in: 0..<20000)) agent=\"\(agents[index % agents.count])\"").utf8)
}
let host = Array("127.0.0.1".utf8)
let builder = BlockBuilder()
var (rawBytes, sealedBytes) = (0, 0)

/// Records come to the disk worker in batches, as the reactor copies them (a batch of 4,096 here).
var batch = RecordBatch(reservingBytes: 4 << 20, records: 4096)
@MainActor func take() {
    batch.forEach { record in
        builder.add(record)
        if builder.isFull { sealedBytes += builder.seal().bytes.count }
    }
    batch.removeAll()
}

var start = timespec()
clock_gettime(CLOCK_MONOTONIC, &start)
for index in 0..<total {
    let line = lines[index % lines.count]
    let serviceBytes = services[index % services.count].utf8.count
    line.withUnsafeBytes { line in
        host.withUnsafeBytes { host in
            batch.append(NewRecord(line: line, host: host, level: .info, service: UnsafeRawBufferPointer(rebasing: line[30..<30 + serviceBytes]),
                                   ingestProtocol: .tcp, isTruncated: false, receivedAtMilliseconds: 1_764_700_000_000 + Int64(index / 100),
                                   sourceTimeMilliseconds: 1_764_000_000_000 + Int64(index / 2)),
                         id: UInt64(index + 1))
        }
    }
    rawBytes += line.count
    if batch.count == 4096 { take() }
}
take()
if !builder.isEmpty { sealedBytes += builder.seal().bytes.count }
var end = timespec()
clock_gettime(CLOCK_MONOTONIC, &end)
let nanoseconds = Double(end.tv_sec - start.tv_sec) * 1e9 + Double(end.tv_nsec - start.tv_nsec)
print("\(total) records of \(rawBytes / total) bytes, \(Int(nanoseconds / Double(total))) ns per record, "
    + "\(Int(Double(rawBytes) / nanoseconds * 1000)) MB/s, sealed \(sealedBytes * 1000 / rawBytes) per mille of the raw")
