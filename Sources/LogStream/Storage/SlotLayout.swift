// The ring's per-record slot, written down once: five 64-bit words, and where each field sits in them. The
// disk history's record format builds on it, so any change to a field's place or width changes `version`
// (VictoriaLogs' consts.go: "must be updated when this number changes"). The codes stored for levels,
// protocols and formats are their raw values, which therefore never change meaning either.
//
//   word 0  logical arena offset of the record's first byte (grows forever; the arena position is it modulo
//           the arena's size)
//   word 1  line bytes (0-31) | fields bytes (32-55) | reserved (56-63)
//   word 2  receive time, ms since the epoch (0-47: until the year 10889) | host number + 1 (48-63; 0: the
//           host is stored inline)
//   word 3  service number + 1 (0-15; 0: stored inline, or none) | inline service bytes (16-31) |
//           inline host bytes (32-39) | level (40-42) | truncated (43) | protocol (44-47: 16 codes) |
//           format (48-53: 64 codes) | reserved (54-63)
//   word 4  source time, ms since the epoch (signed), or Int64.min for none
//
// A record's bytes in the arena: inline host, inline service, line, fields, back to back.

public enum SlotLayout {
    public static let version = 2
    static let wordsPerSlot = 5

    static let maxLineBytes = Int(UInt32.max)
    static let maxFieldsBytes = 1 << 24 - 1
    static let maxHostBytes = 255
    static let maxServiceBytes = Int(UInt16.max)
    /// Interned hosts and services are numbered below this (16 bits, 0 meaning "inline").
    public static let maxNumbered = 65_535
    static let protocolCodes = 16
    static let formatCodes = 64
    static let receivedMask: UInt64 = 1 << 48 - 1
    static let noSourceTime = Int64.min
}

/// One slot's five words, packed from a record's values or read back from the ring: the only code that knows
/// where a field sits.
struct SlotWords {
    var offset: UInt64
    var lengths: UInt64
    var timeAndHost: UInt64
    var attributes: UInt64
    var sourceTime: UInt64

    @inline(__always)
    init(offset: UInt64, lengths: UInt64, timeAndHost: UInt64, attributes: UInt64, sourceTime: UInt64) {
        (self.offset, self.lengths, self.timeAndHost, self.attributes, self.sourceTime) = (offset, lengths, timeAndHost, attributes, sourceTime)
    }

    /// `hostNumber` and `serviceNumber` are table numbers plus one, 0 for inline (or no service).
    @inline(__always)
    init(offset: UInt64, lineBytes: Int, fieldsBytes: Int, receivedAtMilliseconds: Int64, hostNumber: Int, serviceNumber: Int,
         inlineServiceBytes: Int, inlineHostBytes: Int, level: LogLevel, isTruncated: Bool, ingestProtocol: IngestProtocol,
         format: LogFormat, sourceTimeMilliseconds: Int64?) {
        self.offset = offset
        lengths = UInt64(lineBytes) | UInt64(fieldsBytes) << 32
        timeAndHost = UInt64(truncatingIfNeeded: receivedAtMilliseconds) & SlotLayout.receivedMask | UInt64(hostNumber) << 48
        attributes = UInt64(serviceNumber) | UInt64(inlineServiceBytes) << 16 | UInt64(inlineHostBytes) << 32
            | UInt64(level.rawValue) << 40 | (isTruncated ? 1 << 43 : 0) | UInt64(ingestProtocol.rawValue) << 44
            | UInt64(format.rawValue) << 48
        sourceTime = UInt64(bitPattern: sourceTimeMilliseconds ?? SlotLayout.noSourceTime)
    }

    /// Word 3 as a summary reads it, for records that have no slot (read back from disk).
    static func attributes(level: LogLevel, ingestProtocol: IngestProtocol, format: LogFormat) -> UInt64 {
        UInt64(level.rawValue) << 40 | UInt64(ingestProtocol.rawValue) << 44 | UInt64(format.rawValue) << 48
    }

    @inline(__always) var lineBytes: Int { Int(lengths & 0xFFFF_FFFF) }
    @inline(__always) var fieldsBytes: Int { Int(lengths >> 32 & UInt64(SlotLayout.maxFieldsBytes)) }
    @inline(__always) var inlineServiceBytes: Int { Int(attributes >> 16 & 0xFFFF) }
    @inline(__always) var inlineHostBytes: Int { Int(attributes >> 32 & 0xFF) }
    /// Bytes the record takes in the arena.
    @inline(__always) var recordBytes: Int { inlineHostBytes + inlineServiceBytes + lineBytes + fieldsBytes }
    @inline(__always) var isTruncated: Bool { attributes >> 43 & 1 == 1 }
    @inline(__always) var sourceTimeMilliseconds: Int64? {
        let time = Int64(bitPattern: sourceTime)
        return time == SlotLayout.noSourceTime ? nil : time
    }

    /// What words 2 and 3 alone say: all that histograms and slot facets read.
    @inline(__always) var summary: SlotSummary { SlotSummary(timeAndHost: timeAndHost, attributes: attributes) }
}

/// What a record's slot says without its text: its receive time, level, protocol, format, and the numbers of
/// its host and service in the ring's tables.
struct SlotSummary {
    var receivedAtMilliseconds: Int64
    var level: LogLevel
    var ingestProtocol: IngestProtocol
    var format: LogFormat
    /// The host's index in the ring's host table; nil when the host is stored with the line (the table was full).
    var hostIndex: Int?
    /// The service's index in the service table; nil for none or one stored with the line.
    var serviceIndex: Int?

    /// Decodes words 2 and 3 (the one place that reads their layout back).
    @inline(__always) init(timeAndHost: UInt64, attributes: UInt64) {
        let hostNumber = Int(timeAndHost >> 48)
        let serviceNumber = Int(attributes & 0xFFFF)
        receivedAtMilliseconds = Self.receivedAtMilliseconds(timeAndHost)
        level = Self.level(attributes)
        ingestProtocol = Self.ingestProtocol(attributes)
        format = Self.format(attributes)
        hostIndex = hostNumber > 0 ? hostNumber - 1 : nil
        serviceIndex = serviceNumber > 0 ? serviceNumber - 1 : nil
    }
}

extension SlotSummary {
    @inline(__always) static func receivedAtMilliseconds(_ timeAndHost: UInt64) -> Int64 {
        Int64(bitPattern: timeAndHost & SlotLayout.receivedMask)
    }
    @inline(__always) static func level(_ attributes: UInt64) -> LogLevel { LogLevel(rawValue: UInt8(attributes >> 40 & 0x7)) ?? .info }
    @inline(__always) static func ingestProtocol(_ attributes: UInt64) -> IngestProtocol {
        IngestProtocol(rawValue: UInt8(attributes >> 44 & 0xF)) ?? .udp
    }
    @inline(__always) static func format(_ attributes: UInt64) -> LogFormat { LogFormat(rawValue: UInt8(attributes >> 48 & 0x3F)) ?? .plain }
}
