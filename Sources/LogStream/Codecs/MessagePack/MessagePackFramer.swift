// Finds where each top-level value of a MessagePack stream ends as its bytes arrive, resuming where the last
// read stopped: a Forward message of many entries arriving in 64 KiB reads is walked once, not once per read.

public struct MessagePackFramer {
    /// Bytes of the current value walked so far, and what is left of it.
    private var walked = 0
    private var progress = MessagePackReader.SkipProgress()

    public init() {}

    public enum Outcome: Equatable {
        /// The value is whole: its length.
        case complete(length: Int)
        /// The stream must hold at least this many bytes before the value can be whole.
        case needsMore(atLeast: Int)
    }

    /// `stream` starts with the current value (and holds at least the bytes seen before).
    public mutating func end(in stream: UnsafeRawBufferPointer) throws(MessagePackError) -> Outcome {
        var reader = MessagePackReader(stream, offset: walked)
        do { try reader.skip(resuming: &progress) } catch {
            guard error.kind == .truncated else { throw error }
            walked = reader.offset
            return .needsMore(atLeast: max(error.bytesNeeded, stream.count + 1))
        }
        defer { self = MessagePackFramer() }
        return .complete(length: reader.offset)
    }

    /// Whether part of a value has been seen.
    public var isInsideValue: Bool { walked > 0 }
}
