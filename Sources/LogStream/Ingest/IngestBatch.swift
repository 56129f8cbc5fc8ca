// Records decoded from one request body (OTLP, Loki, Elasticsearch, lines), owned in one buffer. A worker
// thread decodes a large body into a batch while the reactor goes on; the reactor then stores the whole batch
// in one turn, since only it may append to the ring. The batch is the only copy between the body and the ring.

public struct IngestBatch: Sendable {
    struct Entry: Sendable {
        var text: Range<Int>
        var service: Range<Int>
        var host: Range<Int>
        var fields: Range<Int>
        var level: LogLevel
        var format: LogFormat
        var isTruncated: Bool
        var sourceTimeMilliseconds: Int64?
    }

    private var bytes: [UInt8] = []
    private var entries: [Entry] = []
    /// Longer texts are cut here and counted as truncated, as lines are.
    public let maxLineBytes: Int

    public init(maxLineBytes: Int) {
        self.maxLineBytes = maxLineBytes
    }

    public var count: Int { entries.count }
    /// Records whose text was cut at `maxLineBytes`.
    public private(set) var truncatedCount = 0
    public var isEmpty: Bool { entries.isEmpty }

    /// Adds a record; an empty `host` means the sender's address, an empty `service` "unknown".
    public mutating func append(text: UnsafeRawBufferPointer, service: UnsafeRawBufferPointer, host: UnsafeRawBufferPointer,
                                level: LogLevel, format: LogFormat, sourceTimeMilliseconds: Int64?, fields: FieldsBuilder,
                                isTruncated wasTruncated: Bool = false) {
        let isTruncated = wasTruncated || text.count > maxLineBytes
        if isTruncated { truncatedCount += 1 }
        let text = copy(UnsafeRawBufferPointer(rebasing: text[..<min(text.count, maxLineBytes)]))
        let fieldRange = fields.bytes.withUnsafeBytes { copy($0) }
        entries.append(Entry(text: text, service: copy(service), host: copy(host), fields: fieldRange, level: level, format: format,
                             isTruncated: isTruncated, sourceTimeMilliseconds: sourceTimeMilliseconds))
    }

    public mutating func append(text: [UInt8], service: [UInt8], host: [UInt8], level: LogLevel, format: LogFormat,
                                sourceTimeMilliseconds: Int64?, fields: FieldsBuilder) {
        text.withUnsafeBytes { text in
            service.withUnsafeBytes { service in
                host.withUnsafeBytes { host in
                    append(text: text, service: service, host: host, level: level, format: format,
                           sourceTimeMilliseconds: sourceTimeMilliseconds, fields: fields)
                }
            }
        }
    }

    /// Empties the batch, keeping its memory for the next records.
    public mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        entries.removeAll(keepingCapacity: true)
        truncatedCount = 0
    }

    private mutating func copy(_ part: UnsafeRawBufferPointer) -> Range<Int> {
        let start = bytes.count
        bytes.append(contentsOf: part)
        return start..<bytes.count
    }

    /// Stores the records numbered `range` (all by default) on the reactor thread, received now from `peer`
    /// (every record's host when `peerIsVerified`, a certificate's name); returns the last one's id, nil when
    /// there are none. Ids within one call are consecutive.
    @discardableResult
    public func store(into destination: RecordDestination, protocol ingestProtocol: IngestProtocol,
                      peer: UnsafeRawBufferPointer, peerIsVerified: Bool = false, receivedAtMilliseconds: Int64,
                      range: Range<Int>? = nil) -> UInt64? {
        var lastID: UInt64?
        let peerNumber = destination.hostNumber(of: peer)
        bytes.withUnsafeBytes { raw in
            for entry in entries[range ?? entries.indices] {
                let usesPeer = entry.host.isEmpty || peerIsVerified
                let host = usesPeer ? peer : UnsafeRawBufferPointer(rebasing: raw[entry.host])
                let record = NewRecord(line: UnsafeRawBufferPointer(rebasing: raw[entry.text]), host: host, level: entry.level,
                                       service: UnsafeRawBufferPointer(rebasing: raw[entry.service]), ingestProtocol: ingestProtocol,
                                       isTruncated: entry.isTruncated, receivedAtMilliseconds: receivedAtMilliseconds,
                                       fields: UnsafeRawBufferPointer(rebasing: raw[entry.fields]), format: entry.format,
                                       sourceTimeMilliseconds: entry.sourceTimeMilliseconds,
                                       hostNumber: usesPeer ? peerNumber : nil)
                lastID = destination.store(record)
            }
        }
        return lastID
    }

    /// The records as values, for tests and fuzzing.
    public var records: [DecodedRecord] {
        bytes.withUnsafeBytes { raw in
            entries.map { entry in
                func text(_ range: Range<Int>) -> String { String(decoding: raw[range], as: UTF8.self) }
                let fields = RecordFields(blob: UnsafeRawBufferPointer(rebasing: raw[entry.fields])).map {
                    (String(decoding: $0.name, as: UTF8.self), String(decoding: $0.value, as: UTF8.self))
                }
                return DecodedRecord(text: text(entry.text), service: text(entry.service), host: text(entry.host), level: entry.level,
                                     format: entry.format, isTruncated: entry.isTruncated,
                                     sourceTimeMilliseconds: entry.sourceTimeMilliseconds,
                                     fields: Dictionary(fields, uniquingKeysWith: { first, _ in first }))
            }
        }
    }
}

/// A batch's record as plain values.
public struct DecodedRecord: Equatable {
    public var text: String
    public var service: String
    public var host: String
    public var level: LogLevel
    public var format: LogFormat
    public var isTruncated: Bool
    public var sourceTimeMilliseconds: Int64?
    public var fields: [String: String]
}
