// MessagePack (github.com/msgpack/msgpack/blob/master/spec.md), read in place: each value's header, with
// strings, binaries and extensions as byte views into the buffer and containers as element counts, so the
// Forward decoder walks events without building a tree. Hand-written: the format is twenty header bytes, and
// the Swift packages for it decode into Codable types or trees, a copy per value. Every declared length is
// checked against the bytes present (a container of n elements needs at least n bytes), and `skip` is depth
// limited, so a hostile header costs nothing.

public struct MessagePackError: Error, Equatable, CustomStringConvertible {
    public init(kind: Kind, offset: Int, bytesNeeded: Int = 0) {
        (self.kind, self.offset, self.bytesNeeded) = (kind, offset, bytesNeeded)
    }

    public enum Kind: Equatable, Sendable {
        /// The buffer ends inside the value: on a stream, wait for more bytes.
        case truncated
        /// Bytes no value starts with, nesting too deep, or a declared length the buffer cannot hold.
        case malformed(String)
    }

    public var kind: Kind
    public var offset: Int
    /// When truncated: how many bytes the buffer must hold for the value's next part (a stream reader refuses
    /// a declared length beyond its bound at once, without waiting for the bytes).
    public var bytesNeeded = 0

    public var description: String {
        switch kind {
        case .truncated: "value cut short at byte \(offset)"
        case .malformed(let reason): "\(reason) at byte \(offset)"
        }
    }
}

/// One value's header, as read.
public enum MessagePackValue: Equatable {
    case null
    case boolean(Bool)
    case signed(Int64)
    case unsigned(UInt64)
    case float(Double)
    /// Bytes, never checked as UTF-8 (fluentd sends gzip bytes as str32).
    case string(UnsafeRawBufferPointer)
    case binary(UnsafeRawBufferPointer)
    /// The elements follow, each a value.
    case array(count: Int)
    /// The pairs follow: key, value, key, value.
    case map(count: Int)
    case extension_(type: Int8, data: UnsafeRawBufferPointer)

    public static func == (lhs: MessagePackValue, rhs: MessagePackValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.boolean(let a), .boolean(let b)): a == b
        case (.signed(let a), .signed(let b)): a == b
        case (.unsigned(let a), .unsigned(let b)): a == b
        case (.float(let a), .float(let b)): a == b
        case (.string(let a), .string(let b)), (.binary(let a), .binary(let b)): a.elementsEqual(b)
        case (.array(let a), .array(let b)), (.map(let a), .map(let b)): a == b
        case (.extension_(let t1, let d1), .extension_(let t2, let d2)): t1 == t2 && d1.elementsEqual(d2)
        default: false
        }
    }

    /// A string's or a binary's bytes (Forward senders use either for the same thing).
    public var bytes: UnsafeRawBufferPointer? {
        switch self {
        case .string(let bytes), .binary(let bytes): bytes
        default: nil
        }
    }

    /// An integer of either sign that fits Int64.
    public var integer: Int64? {
        switch self {
        case .signed(let value): value
        case .unsigned(let value): value <= UInt64(Int64.max) ? Int64(value) : nil
        default: nil
        }
    }
}

public struct MessagePackReader {
    public let buffer: UnsafeRawBufferPointer
    /// Where the next value starts.
    public private(set) var offset: Int
    /// Containers nested deeper than this are refused by `skip` (a record of records of ... is an attack).
    public static let maxDepth = 64

    public init(_ buffer: UnsafeRawBufferPointer, offset: Int = 0) {
        self.buffer = buffer
        self.offset = offset
    }

    public var isAtEnd: Bool { offset >= buffer.count }

    /// Reads one value's header (and the bytes of a string, binary or extension). On an error the reader
    /// stays where the value starts.
    public mutating func next() throws(MessagePackError) -> MessagePackValue {
        let start = offset
        do { return try header() } catch {
            offset = start
            throw error
        }
    }

    private mutating func header() throws(MessagePackError) -> MessagePackValue {
        let start = offset
        let byte = try take(1)[0]
        switch byte {
        case 0x00...0x7F: return .unsigned(UInt64(byte))
        case 0x80...0x8F: return .map(count: try container(Int(byte & 0x0F), perElement: 2, at: start))
        case 0x90...0x9F: return .array(count: try container(Int(byte & 0x0F), perElement: 1, at: start))
        case 0xA0...0xBF: return .string(try take(Int(byte & 0x1F)))
        case 0xC0: return .null
        case 0xC2: return .boolean(false)
        case 0xC3: return .boolean(true)
        case 0xC4: return .binary(try take(Int(try bigEndian(1))))
        case 0xC5: return .binary(try take(Int(try bigEndian(2))))
        case 0xC6: return .binary(try take(Int(try bigEndian(4))))
        case 0xC7, 0xC8, 0xC9:
            let length = Int(try bigEndian(1 << (Int(byte) - 0xC7)))
            let type = Int8(bitPattern: try take(1)[0])
            return .extension_(type: type, data: try take(length))
        case 0xCA: return .float(Double(Float(bitPattern: UInt32(try bigEndian(4)))))
        case 0xCB: return .float(Double(bitPattern: try bigEndian(8)))
        case 0xCC: return .unsigned(try bigEndian(1))
        case 0xCD: return .unsigned(try bigEndian(2))
        case 0xCE: return .unsigned(try bigEndian(4))
        case 0xCF: return .unsigned(try bigEndian(8))
        case 0xD0: return .signed(Int64(Int8(truncatingIfNeeded: try bigEndian(1))))
        case 0xD1: return .signed(Int64(Int16(truncatingIfNeeded: try bigEndian(2))))
        case 0xD2: return .signed(Int64(Int32(truncatingIfNeeded: try bigEndian(4))))
        case 0xD3: return .signed(Int64(bitPattern: try bigEndian(8)))
        case 0xD4...0xD8:
            let type = Int8(bitPattern: try take(1)[0])
            return .extension_(type: type, data: try take(1 << (Int(byte) - 0xD4)))
        case 0xD9: return .string(try take(Int(try bigEndian(1))))
        case 0xDA: return .string(try take(Int(try bigEndian(2))))
        case 0xDB: return .string(try take(Int(try bigEndian(4))))
        case 0xDC: return .array(count: try container(Int(try bigEndian(2)), perElement: 1, at: start))
        case 0xDD: return .array(count: try container(Int(try bigEndian(4)), perElement: 1, at: start))
        case 0xDE: return .map(count: try container(Int(try bigEndian(2)), perElement: 2, at: start))
        case 0xDF: return .map(count: try container(Int(try bigEndian(4)), perElement: 2, at: start))
        case 0xE0...0xFF: return .signed(Int64(Int8(bitPattern: byte)))
        default:  // 0xC1 is never used
            throw MessagePackError(kind: .malformed("byte 0xC1 starts no value"), offset: start)
        }
    }

    /// Passes over one whole value, containers included.
    public mutating func skip() throws(MessagePackError) {
        var progress = SkipProgress()
        try skip(resuming: &progress)
    }

    /// Where a skip stands: elements still to pass over, per open container. A loop over it, not recursion,
    /// so depth costs no stack, and a stream can resume it when more bytes arrive.
    public struct SkipProgress {
        var remaining = 1
        var open: [Int] = []
        public init() {}
        init(remaining: Int, open: [Int]) { (self.remaining, self.open) = (remaining, open) }
    }

    /// Passes over the rest of a value; on `.truncated` the reader stands after the last whole header, and
    /// `progress` says what is left, to continue from there.
    public mutating func skip(resuming progress: inout SkipProgress) throws(MessagePackError) {
        var (remaining, open) = (progress.remaining, progress.open)
        defer { progress = SkipProgress(remaining: remaining, open: open) }
        while true {
            if remaining == 0 {
                guard let outer = open.popLast() else { return }
                remaining = outer
                continue
            }
            let value = try next()
            remaining -= 1
            switch value {
            case .array(let count) where count > 0:
                try descend(&open, &remaining, count)
            case .map(let count) where count > 0:
                try descend(&open, &remaining, 2 * count)
            default:
                break
            }
        }
    }

    private func descend(_ open: inout [Int], _ remaining: inout Int, _ count: Int) throws(MessagePackError) {
        guard open.count < Self.maxDepth else {
            throw MessagePackError(kind: .malformed("values nested deeper than \(Self.maxDepth)"), offset: offset)
        }
        open.append(remaining)
        remaining = count
    }

    /// The bytes of the value that starts here, passed over.
    public mutating func rawValue() throws(MessagePackError) -> UnsafeRawBufferPointer {
        let start = offset
        try skip()
        return UnsafeRawBufferPointer(rebasing: buffer[start..<offset])
    }

    // MARK: - Bytes

    private mutating func take(_ count: Int) throws(MessagePackError) -> UnsafeRawBufferPointer {
        guard count <= buffer.count - offset else { throw MessagePackError(kind: .truncated, offset: offset, bytesNeeded: offset + count) }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + count)])
    }

    private mutating func bigEndian(_ width: Int) throws(MessagePackError) -> UInt64 {
        var value: UInt64 = 0
        for byte in try take(width) { value = value << 8 | UInt64(byte) }
        return value
    }

    /// A container's element count, refused when even one byte per element cannot be present: a complete
    /// buffer is then malformed; a stream that has not delivered the bytes yet is only truncated, so a stream
    /// reader refuses absurd counts itself against its bound.
    private func container(_ count: Int, perElement: Int, at start: Int) throws(MessagePackError) -> Int {
        guard count * perElement <= buffer.count - offset else {
            throw MessagePackError(kind: .truncated, offset: start, bytesNeeded: offset + count * perElement)
        }
        return count
    }
}

extension MessagePackValue {
    /// Forward's EventTime (ext type 0: seconds and nanoseconds, big-endian) or an integer of seconds, as
    /// milliseconds since the epoch.
    public var eventTimeMilliseconds: Int64? {
        switch self {
        case .extension_(type: 0, let data) where data.count == 8:
            var seconds: UInt32 = 0
            var nanoseconds: UInt32 = 0
            for index in 0..<4 {
                seconds = seconds << 8 | UInt32(data[index])
                nanoseconds = nanoseconds << 8 | UInt32(data[index + 4])
            }
            return Int64(seconds) * 1000 + Int64(nanoseconds / 1_000_000)
        case .float(let seconds) where seconds.isFinite && abs(seconds) < 1e11:
            return Int64((seconds * 1000).rounded(.down))
        default:
            // `magnitude`, not `abs`: abs(Int64.min) traps.
            guard let seconds = integer, seconds.magnitude < 100_000_000_000 else { return nil }
            return seconds * 1000
        }
    }
}
