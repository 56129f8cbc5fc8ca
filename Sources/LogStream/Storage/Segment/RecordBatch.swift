// Records on their way to the disk: copied on the reactor thread in the turn they arrive (so that the ring may
// evict them at once and lose nothing), handed to the disk worker in one piece after the turn, and read
// back there as the usual LogRecord views. Each record is a fixed header and its bytes, back to back.

public struct RecordBatch: Sendable {
    private var bytes: [UInt8] = []
    /// Where each record starts: ids are consecutive, so record `id` is at `offsets[id - firstID]`.
    private var offsets: [Int] = []
    public private(set) var firstID: UInt64 = 0
    public private(set) var lastID: UInt64 = 0
    public var count: Int { offsets.count }
    /// The ids it holds.
    public var ids: Range<UInt64> { isEmpty ? firstID..<firstID : firstID..<lastID + 1 }

    private struct Header {
        var id: UInt64
        var receivedAt: Int64
        var sourceTime: Int64
        var lineBytes: UInt32
        var fieldsBytes: UInt32
        var hostBytes: UInt16
        var serviceBytes: UInt16
        var level: UInt8
        var ingestProtocol: UInt8
        var format: UInt8
        var isTruncated: Bool
    }

    public init(reservingBytes capacity: Int = 0, records: Int = 0) {
        bytes.reserveCapacity(capacity)
        offsets.reserveCapacity(records)
    }

    public var isEmpty: Bool { offsets.isEmpty }
    public var byteCount: Int { bytes.count }

    /// Empties the batch, keeping its memory for the next one.
    public mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        offsets.removeAll(keepingCapacity: true)
        (firstID, lastID) = (0, 0)
    }

    /// Adds record `id`, the next after the last one (ids are consecutive within a batch).
    @inline(__always)
    public mutating func append(_ record: NewRecord, id: UInt64) {
        precondition(isEmpty || id == lastID + 1, "a batch holds consecutive ids")
        if isEmpty { firstID = id }
        offsets.append(bytes.count)
        // Hosts are at most 255 bytes (SlotLayout), services cut as the ring cuts them.
        let host = record.host.count <= SlotLayout.maxHostBytes ? record.host : UnsafeRawBufferPointer(rebasing: record.host[..<SlotLayout.maxHostBytes])
        let service = record.service.count <= SlotLayout.maxServiceBytes ? record.service : UnsafeRawBufferPointer(rebasing: record.service[..<SlotLayout.maxServiceBytes])
        var header = Header(id: id, receivedAt: record.receivedAtMilliseconds, sourceTime: record.sourceTimeMilliseconds ?? SlotLayout.noSourceTime,
                            lineBytes: UInt32(clamping: record.line.count), fieldsBytes: UInt32(clamping: record.fields.count),
                            hostBytes: UInt16(host.count), serviceBytes: UInt16(service.count), level: record.level.rawValue,
                            ingestProtocol: record.ingestProtocol.rawValue, format: record.format.rawValue, isTruncated: record.isTruncated)
        withUnsafeBytes(of: &header) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: host)
        bytes.append(contentsOf: service)
        bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: record.line[..<Int(header.lineBytes)]))
        bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: record.fields[..<Int(header.fieldsBytes)]))
        lastID = id
    }

    /// Calls `body` with each record, in the order appended; the views live for the call.
    public func forEach(_ body: (LogRecord) -> Void) {
        for index in offsets.indices { withRecord(at: index, body) }
    }

    /// Calls `body` with record `id` if the batch holds it.
    public func withRecord<Result>(id: UInt64, _ body: (LogRecord) -> Result) -> Result? {
        ids.contains(id) ? withRecord(at: Int(id - firstID), body) : nil
    }

    /// Record `index` (0: the first appended); its views live for the call.
    public func withRecord<Result>(at index: Int, _ body: (LogRecord) -> Result) -> Result {
        bytes.withUnsafeBytes { raw in
            let start = offsets[index]
            let header = raw.loadUnaligned(fromByteOffset: start, as: Header.self)
            var cursor = start + MemoryLayout<Header>.size
            func take(_ length: Int) -> UnsafeRawBufferPointer {
                defer { cursor += length }
                return UnsafeRawBufferPointer(rebasing: raw[cursor..<cursor + length])
            }
            let host = take(Int(header.hostBytes))
            let service = take(Int(header.serviceBytes))
            let line = take(Int(header.lineBytes))
            let fields = take(Int(header.fieldsBytes))
            return body(LogRecord(id: header.id, receivedAtMilliseconds: header.receivedAt, level: LogLevel(rawValue: header.level) ?? .info,
                                  ingestProtocol: IngestProtocol(rawValue: header.ingestProtocol) ?? .tcp, isTruncated: header.isTruncated,
                                  line: line, host: host, service: service, fields: RecordFields(blob: fields),
                                  format: LogFormat(rawValue: header.format) ?? .plain,
                                  sourceTimeMilliseconds: header.sourceTime == SlotLayout.noSourceTime ? nil : header.sourceTime))
        }
    }
}
