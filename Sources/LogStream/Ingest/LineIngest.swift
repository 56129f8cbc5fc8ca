// Lines to records: every framed line, whichever transport brought it, is parsed in place (its format, level,
// service, host, time and fields) and handed to the destination.

public final class LineIngest {
    public let destination: RecordDestination
    /// Reused for every record, so fields cost no allocation once it has grown.
    private var fields = FieldsBuilder()
    private var recentMinute = RecentMinute()

    public init(destination: RecordDestination) {
        self.destination = destination
    }

    /// Stores `line` unless it is blank. `host` is the sender's address, used unless the line names its host
    /// (or the name its client certificate proved, used always: `hostIsVerified`); `hostNumber` is its number
    /// in the ring's host table if the caller keeps it.
    @inline(__always)
    public func ingest(_ line: FramedLine, host: UnsafeRawBufferPointer, hostNumber: Int? = nil, hostIsVerified: Bool = false,
                       protocol ingestProtocol: IngestProtocol, receivedAtMilliseconds: Int64) {
        fields.removeAll()
        guard let parsed = RecordParser.parse(line.bytes, receivedAt: receivedAtMilliseconds, fields: &fields,
                                                 recentMinute: &recentMinute) else { return }
        let content = UnsafeRawBufferPointer(rebasing: line.bytes[parsed.content])
        let service = parsed.service.map { UnsafeRawBufferPointer(rebasing: line.bytes[$0]) } ?? UnsafeRawBufferPointer(start: nil, count: 0)
        let claimedHost = hostIsVerified ? nil : parsed.hostname
        let recordHost = claimedHost.map { UnsafeRawBufferPointer(rebasing: line.bytes[$0]) } ?? host
        var record = NewRecord(line: content, host: recordHost, level: parsed.level, service: service,
                               ingestProtocol: ingestProtocol, isTruncated: line.isTruncated,
                               receivedAtMilliseconds: receivedAtMilliseconds, format: parsed.format,
                               sourceTimeMilliseconds: parsed.sourceTimeMilliseconds,
                               hostNumber: claimedHost == nil ? hostNumber : nil)
        if fields.isEmpty {
            destination.store(record)  // without touching the array: its retain and release cost 10 % of a plain line
        } else {
            fields.bytes.withUnsafeBytes { fieldBytes in
                record.fields = fieldBytes
                destination.store(record)
            }
        }
    }
}
