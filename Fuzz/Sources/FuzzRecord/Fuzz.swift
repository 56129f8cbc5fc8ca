// Every log-format parser (plain, RFC 3164, RFC 5424, JSON, logfmt: RecordParser picks) on any line: no crash,
// every range inside the line, and the record stored in a ring reads back with its line and fields intact.
import FuzzSupport
@testable import LogStream

@main enum Main {
    static func main() { runFuzzer { data, count in fuzz(data!, count) } }
}

private let ring = LogRing(capacity: 64, arenaBytes: 1 << 16)

func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let line = UnsafeRawBufferPointer(start: data, count: min(count, 8192))
    var fields = FieldsBuilder()
    guard let parsed = RecordParser.parse(line, receivedAt: 1_795_946_400_000, fields: &fields) else { return 0 }
    for range in [parsed.content, parsed.service, parsed.hostname].compactMap({ $0 }) {
        precondition(range.lowerBound >= 0 && range.upperBound <= line.count, "a range outside the line")
    }
    let blob = fields.bytes
    let stored = blob.withUnsafeBytes { blob in
        ring.append(NewRecord(line: line, host: UnsafeRawBufferPointer(rebasing: line[..<0]), level: parsed.level,
                              service: parsed.service.map { UnsafeRawBufferPointer(rebasing: line[$0]) } ?? UnsafeRawBufferPointer(start: nil, count: 0),
                              ingestProtocol: .udp, isTruncated: false, receivedAtMilliseconds: 1_795_946_400_000, fields: blob,
                              format: parsed.format, sourceTimeMilliseconds: parsed.sourceTimeMilliseconds))
    }
    ring.read(stored) { record in
        precondition(record.line.elementsEqual(line), "the line changed in the ring")
        if record.fields.blob.count == blob.count { precondition(record.fields.blob.elementsEqual(blob), "the fields changed in the ring") }
        for field in record.fields { _ = (field.name.count, field.value.count) }
        var json = JSONWriter()
        LogEntryJSON.append(record, to: &json)
    }
    return 0
}
