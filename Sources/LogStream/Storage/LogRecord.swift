// What a record is: the values stored per line, and the read-only view readers get.

public enum IngestProtocol: UInt8, CaseIterable, Sendable {
    case udp, tcp

    public var name: String { self == .udp ? "UDP" : "TCP" }
}

/// A record to append; the byte views need only live for the call.
public struct NewRecord {
    public var line: UnsafeRawBufferPointer
    public var host: UnsafeRawBufferPointer
    /// `host`'s number in the ring's host table, when the caller already has it (a TCP connection's peer).
    public var hostNumber: Int?
    public var level: LogLevel
    /// The service name as a range of `line`; nil for "unknown".
    public var service: Range<Int>?
    public var ingestProtocol: IngestProtocol
    public var isTruncated: Bool
    public var receivedAtMilliseconds: Int64
    /// Structured fields, encoded by `FieldsBuilder`.
    public var fields: UnsafeRawBufferPointer
    public var format: LogFormat
    /// The time the message gives itself, if any.
    public var sourceTimeMilliseconds: Int64?

    public init(line: UnsafeRawBufferPointer, host: UnsafeRawBufferPointer, level: LogLevel, service: Range<Int>?,
                ingestProtocol: IngestProtocol, isTruncated: Bool, receivedAtMilliseconds: Int64,
                fields: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0), format: LogFormat = .plain,
                sourceTimeMilliseconds: Int64? = nil, hostNumber: Int? = nil) {
        self.line = line
        self.host = host
        self.hostNumber = hostNumber
        self.level = level
        self.service = service
        self.ingestProtocol = ingestProtocol
        self.isTruncated = isTruncated
        self.receivedAtMilliseconds = receivedAtMilliseconds
        self.fields = fields
        self.format = format
        self.sourceTimeMilliseconds = sourceTimeMilliseconds
    }
}

/// A stored record as seen by a reader. Its byte views point into the ring and are valid only inside the
/// closure that receives them; a reader copies what it keeps.
public struct LogRecord {
    public var id: UInt64
    public var receivedAtMilliseconds: Int64
    public var level: LogLevel
    public var ingestProtocol: IngestProtocol
    public var isTruncated: Bool
    public var line: UnsafeRawBufferPointer
    public var host: UnsafeRawBufferPointer
    /// Empty when the line names no service.
    public var service: UnsafeRawBufferPointer
    public var fields: RecordFields
    public var format: LogFormat
    public var sourceTimeMilliseconds: Int64?
}
