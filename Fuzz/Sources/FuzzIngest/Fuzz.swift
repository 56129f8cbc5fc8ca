// The shippers' body decoders (OTLP protobuf and JSON, Loki snappy protobuf and JSON, Elasticsearch bulk,
// lines, joined into multi-line records or not, each under gzip or deflate or none), through the same function the HTTP endpoints call: no crash,
// and whatever is decoded is within the line bound and stores and reads back whole. The first byte picks the
// format and the encoding; the rest is the body.
import FuzzSupport
@testable import LogStream

@main enum Main {
    static func main() { runFuzzer { data, count in fuzz(data!, count) } }
}

private let ring = LogRing(capacity: 256, arenaBytes: 1 << 20)
nonisolated(unsafe) private let destination = RecordDestination(ring: ring)  // libFuzzer calls from one thread
private let formats: [HTTPIngest.BodyFormat] = [.otlpProtobuf, .otlpJSON, .lokiProtobuf, .lokiJSON, .bulk, .lines]

func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    guard count > 0 else { return 0 }
    let format = formats[Int(data[0] & 7) % formats.count]
    let encoding: Inflate.Wrapping? = switch data[0] >> 6 { case 1: .gzip; case 2: .deflate; default: nil }
    let body = Array(UnsafeBufferPointer(start: data + 1, count: count - 1))
    let decoded: HTTPIngest.Decoded
    do {
        decoded = try HTTPIngest.decode(body, format: format, encoding: encoding, index: data[0] & 8 == 0 ? "fuzz" : nil,
                                        limits: .init(body: 1 << 20, line: 1024, joinsLines: data[0] & 0x10 != 0), receivedAt: 1_795_946_400_000)
    } catch {
        precondition([400, 413].contains(error.status), "a refusal that is not 400 or 413")
        return 0
    }
    for record in decoded.batch.records { precondition(record.text.utf8.count <= 1024 || record.text.contains("\u{FFFD}"), "a record over the line bound") }
    if let bulk = decoded.bulk {
        precondition(bulk.items.filter { $0.error == nil }.count == decoded.batch.count, "a stored item without a record")
    }
    guard let last = decoded.batch.store(into: destination, protocol: .http, peer: UnsafeRawBufferPointer(start: nil, count: 0),
                                         receivedAtMilliseconds: 1_795_946_400_000) else { return 0 }
    ring.read(last) { record in
        var json = JSONWriter()
        LogEntryJSON.append(record, to: &json)
    }
    return 0
}
