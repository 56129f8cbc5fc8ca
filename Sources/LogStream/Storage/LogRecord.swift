// What a record is: the values stored per line, and the read-only view readers get.

/// How a record arrived. The raw values are the codes stored in the slot (SlotLayout): they never change
/// meaning, and new transports (HTTP, GELF, Forward) take the next ones, up to 15.
public enum IngestProtocol: UInt8, CaseIterable, Sendable {
    case udp = 0, tcp = 1, http = 2
    /// Syslog over TLS (RFC 5425); HTTPS is `http`.
    case tls = 3

    public var name: String {
        switch self {
        case .udp: "UDP"
        case .tcp: "TCP"
        case .http: "HTTP"
        case .tls: "TLS"
        }
    }

    /// The protocol a name (as `name` writes it) stands for.
    public init?(name: UnsafeRawBufferPointer) {
        guard let found = Self.allCases.first(where: { name.elementsEqual($0.name.utf8) }) else { return nil }
        self = found
    }
}

/// A record to append; the byte views need only live for the call.
public struct NewRecord {
    public var line: UnsafeRawBufferPointer
    public var host: UnsafeRawBufferPointer
    /// `host`'s number in the ring's host table, when the caller already has it (a TCP connection's peer).
    public var hostNumber: Int?
    public var level: LogLevel
    /// The service name, wherever it came from (the line, a label, a resource attribute); empty for "unknown".
    public var service: UnsafeRawBufferPointer
    /// `service`'s number in the ring's service table, when the caller already looked it up.
    public var serviceNumber: Int?
    public var ingestProtocol: IngestProtocol
    public var isTruncated: Bool
    public var receivedAtMilliseconds: Int64
    /// Structured fields, encoded by `FieldsBuilder`.
    public var fields: UnsafeRawBufferPointer
    public var format: LogFormat
    /// The time the message gives itself, if any.
    public var sourceTimeMilliseconds: Int64?

    public init(line: UnsafeRawBufferPointer, host: UnsafeRawBufferPointer, level: LogLevel,
                service: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
                ingestProtocol: IngestProtocol, isTruncated: Bool, receivedAtMilliseconds: Int64,
                fields: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0), format: LogFormat = .plain,
                sourceTimeMilliseconds: Int64? = nil, hostNumber: Int? = nil, serviceNumber: Int? = nil) {
        self.line = line
        self.host = host
        self.hostNumber = hostNumber
        self.level = level
        self.service = service
        self.serviceNumber = serviceNumber
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
