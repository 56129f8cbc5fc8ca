// Fluent's Forward protocol v1 (github.com/fluent/fluentd/wiki/Forward-Protocol-Specification-v1): the four
// shapes a message of events takes, found from its second element, and its events walked one at a time so a
// large message can be stored a slice per reactor turn.
//   Message                  [tag, time, record, option?]        (Docker's fluentd driver, fluent-logger)
//   Forward                  [tag, [[time, record], ...], option?] (Fluent Bit's default)
//   PackedForward            [tag, bin|str of [time, record]..., option?] (fluentd's out_forward)
//   CompressedPackedForward  the same, gzip members, option compressed: "gzip"

public struct ForwardError: Error, Equatable, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }

    init(_ reason: String) { self.reason = reason }
    init(_ error: MessagePackError, in part: String) {
        reason = error.kind == .truncated ? "\(part) cut short at byte \(error.offset)" : "\(part): \(error)"
    }
}

public struct ForwardMessage: Equatable {
    public enum Mode: Equatable { case message, forward, packedForward, compressedPackedForward }

    public var mode: Mode
    /// Ranges are byte offsets into the message given to `parse`.
    public var tag: Range<Int>
    /// Message mode: the time and the record; Forward: the entries' elements; packed: the entries' bytes.
    public var entries: Range<Int>
    /// Forward mode: how many entries.
    public var entryCount: Int
    /// The option `chunk`, to acknowledge once the events are stored.
    public var chunk: Range<Int>?

    /// Reads the message's shape; the events are read with `events`.
    public static func parse(_ message: UnsafeRawBufferPointer) throws(ForwardError) -> ForwardMessage {
        do { return try shape(of: message) } catch { throw ForwardError(error, in: "message") }
    }

    private static func shape(of message: UnsafeRawBufferPointer) throws(MessagePackError) -> ForwardMessage {
        var reader = MessagePackReader(message)
        func refuse(_ reason: String) -> MessagePackError { MessagePackError(kind: .malformed(reason), offset: reader.offset) }
        guard case .array(let count) = try reader.next(), (2...4).contains(count) else {
            throw refuse("a message is an array of 2 to 4 elements")
        }
        guard case .string(let tagBytes) = try reader.next() else { throw refuse("the tag is not a string") }
        let tag = range(of: tagBytes, in: message)
        let secondStart = reader.offset
        var result: ForwardMessage
        var elementsRead = 2
        let second = try reader.next()
        switch second {
        case .array(let entryCount):
            for _ in 0..<entryCount { try reader.skip() }
            result = ForwardMessage(mode: .forward, tag: tag, entries: secondStart..<reader.offset, entryCount: entryCount)
            // The entries start after the array's header.
            var header = MessagePackReader(message, offset: secondStart)
            _ = try header.next()
            result.entries = header.offset..<reader.offset
        case .string(let packed), .binary(let packed):
            result = ForwardMessage(mode: .packedForward, tag: tag, entries: range(of: packed, in: message), entryCount: 0)
        default:
            guard second.eventTimeMilliseconds != nil || second == .null else {
                throw refuse("the second element is neither a time, entries nor packed entries")
            }
            guard count >= 3 else { throw refuse("a Message-mode message has a record") }
            var peek = MessagePackReader(message, offset: reader.offset)
            switch try peek.next() {
            case .map, .string, .binary: break
            default: throw refuse("a Message-mode record is neither a map nor a string")
            }
            try reader.skip()
            elementsRead = 3
            result = ForwardMessage(mode: .message, tag: tag, entries: secondStart..<reader.offset, entryCount: 1)
        }
        if elementsRead < count {
            try readOption(&reader, message, into: &result)
            elementsRead += 1
        }
        guard elementsRead == count, reader.isAtEnd else { throw refuse("bytes after the message's last element") }
        return result
    }

    private static func readOption(_ reader: inout MessagePackReader, _ message: UnsafeRawBufferPointer,
                                   into result: inout ForwardMessage) throws(MessagePackError) {
        switch try reader.next() {
        case .map(let count):
            for _ in 0..<count {
                let key = try reader.next()
                let valueStart = reader.offset
                let value = try reader.next()
                reader = MessagePackReader(message, offset: valueStart)
                try reader.skip()
                guard let name = key.bytes else { continue }
                if ASCII.equals(name, "chunk"), let chunk = value.bytes {
                    result.chunk = range(of: chunk, in: message)
                } else if ASCII.equals(name, "compressed"), let kind = value.bytes, ASCII.equals(kind, "gzip"),
                          result.mode == .packedForward {
                    result.mode = .compressedPackedForward
                }
            }
        case .null:
            break
        default:
            throw MessagePackError(kind: .malformed("the option is not a map"), offset: reader.offset)
        }
    }

    private static func range(of part: UnsafeRawBufferPointer, in whole: UnsafeRawBufferPointer) -> Range<Int> {
        let start = part.isEmpty ? 0 : whole.baseAddress!.distance(to: part.baseAddress!)
        return start..<(start + part.count)
    }

    /// The events, from the message's bytes (or, for CompressedPackedForward, from the inflated entries).
    public func events() -> ForwardEvents {
        switch mode {
        case .message: ForwardEvents(offset: entries.lowerBound, end: entries.upperBound, remaining: 1, isBare: true)
        case .forward: ForwardEvents(offset: entries.lowerBound, end: entries.upperBound, remaining: entryCount, isBare: false)
        case .packedForward: ForwardEvents(offset: entries.lowerBound, end: entries.upperBound, remaining: nil, isBare: false)
        case .compressedPackedForward: ForwardEvents(offset: 0, end: .max, remaining: nil, isBare: false)
        }
    }
}

/// One event: its time (nil when not a time) and its record's bytes.
public struct ForwardEvent: Equatable {
    public var timeMilliseconds: Int64?
    public var record: Range<Int>
}

/// A cursor over a message's events; `next` is given the same buffer each time.
public struct ForwardEvents {
    var offset: Int
    var end: Int
    /// Events left (nil: until the bytes end, as in a packed stream).
    var remaining: Int?
    /// Message mode: time and record stand in the message itself, not in a `[time, record]` entry.
    let isBare: Bool

    public mutating func next(in buffer: UnsafeRawBufferPointer) throws(ForwardError) -> ForwardEvent? {
        if remaining == 0 || offset >= min(end, buffer.count) { return nil }
        do { return try nextEvent(in: UnsafeRawBufferPointer(rebasing: buffer[..<min(end, buffer.count)])) } catch {
            throw ForwardError(error, in: "entry")
        }
    }

    private mutating func nextEvent(in buffer: UnsafeRawBufferPointer) throws(MessagePackError) -> ForwardEvent {
        var reader = MessagePackReader(buffer, offset: offset)
        var extraElements = 0
        if !isBare {
            guard case .array(let count) = try reader.next(), count >= 2 else {
                throw MessagePackError(kind: .malformed("an entry is not a [time, record] array"), offset: offset)
            }
            extraElements = count - 2  // tolerated, passed over
        }
        var time = try reader.next()
        if case .array(let count) = time, count >= 1 {  // Fluent Bit 2's [[time, metadata], record]
            time = try reader.next()
            for _ in 1..<count { try reader.skip() }
        }
        let recordStart = reader.offset
        try reader.skip()
        let record = recordStart..<reader.offset
        for _ in 0..<extraElements { try reader.skip() }
        offset = reader.offset
        remaining = remaining.map { $0 - 1 }
        return ForwardEvent(timeMilliseconds: time.eventTimeMilliseconds, record: record)
    }

    public var isFinished: Bool { remaining == 0 || offset >= end }
}
