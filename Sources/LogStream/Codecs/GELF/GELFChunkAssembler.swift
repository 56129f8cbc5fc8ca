// GELF's chunked UDP messages (go2docs.graylog.org/current/getting_in_log_data/gelf.html): a message too large
// for one datagram is sent as up to 128 chunks, each `1e 0f`, an 8-byte message id, its sequence number and the
// chunk count, then a piece of the (usually compressed) message. Chunks arrive in any order, interleaved with
// other messages' chunks, sometimes twice; a message is whole when every sequence number has arrived. One that
// stays incomplete is dropped after `expiryMilliseconds`; the pieces held are bounded by `maxPendingBytes`,
// beyond which the oldest incomplete messages are dropped first. Both are counted.

public struct GELFChunkAssembler {
    public static let magic: (UInt8, UInt8) = (0x1E, 0x0F)
    public static let headerBytes = 12
    public static let maxChunks = 128

    public let maxPendingBytes: Int
    /// What a held message and chunk cost besides their payload bytes (dictionary entry, array headers,
    /// malloc's rounding), counted against the bound so a flood of tiny chunks is bounded too.
    static let messageOverheadBytes = 160
    static let chunkOverheadBytes = 48
    public let expiryMilliseconds: Int64

    private struct Pending {
        var chunks: [[UInt8]?]
        var received = 0
        var bytes = 0
        let firstSeenMilliseconds: Int64
    }

    private var pending: [UInt64: Pending] = [:]
    /// Message ids in the order they were first seen (expiry order); ids completed or dropped are skipped.
    private var arrivals: [(id: UInt64, at: Int64)] = []
    private var arrivalsHead = 0
    public private(set) var pendingBytes = 0

    public private(set) var expiredCount: UInt64 = 0
    /// Incomplete messages dropped to stay under `maxPendingBytes`.
    public private(set) var droppedForMemoryCount: UInt64 = 0
    /// Chunks refused: a bad count or sequence number, a count that changed, a message larger than the bound.
    public private(set) var invalidChunkCount: UInt64 = 0
    public private(set) var duplicateChunkCount: UInt64 = 0

    public init(maxPendingBytes: Int, expiryMilliseconds: Int64 = 5000) {
        self.maxPendingBytes = maxPendingBytes
        self.expiryMilliseconds = expiryMilliseconds
    }

    public enum Outcome: Equatable {
        /// The message's last missing chunk: the payloads joined in order.
        case complete([UInt8])
        /// Held until its other chunks come.
        case held
        /// Dropped and counted (a duplicate or an invalid chunk).
        case ignored
    }

    public static func isChunk(_ datagram: UnsafeRawBufferPointer) -> Bool {
        datagram.count >= 2 && datagram[0] == magic.0 && datagram[1] == magic.1
    }

    /// Takes one chunk (a datagram starting with the magic bytes) received at `now`.
    public mutating func add(_ datagram: UnsafeRawBufferPointer, now: Int64) -> Outcome {
        expire(now: now)
        guard datagram.count >= Self.headerBytes else { return invalid() }
        var id: UInt64 = 0
        for index in 2..<10 { id = id << 8 | UInt64(datagram[index]) }
        let (sequence, count) = (Int(datagram[10]), Int(datagram[11]))
        guard (1...Self.maxChunks).contains(count), sequence < count else { return invalid() }
        let payload = UnsafeRawBufferPointer(rebasing: datagram[Self.headerBytes...])
        if count == 1 { return .complete(Array(payload)) }  // senders do send one-chunk "chunked" messages
        guard payload.count <= maxPendingBytes else { return invalid() }

        var message = pending.removeValue(forKey: id) ?? {
            arrivals.append((id, now))
            var fresh = Pending(chunks: Array(repeating: nil, count: count), firstSeenMilliseconds: now)
            fresh.bytes = Self.messageOverheadBytes + count * MemoryLayout<[UInt8]?>.stride
            pendingBytes += fresh.bytes
            return fresh
        }()
        guard message.chunks.count == count else {
            pending[id] = message
            return invalid()
        }
        guard message.chunks[sequence] == nil else {
            pending[id] = message
            duplicateChunkCount += 1
            return .ignored
        }
        message.chunks[sequence] = Array(payload)
        message.received += 1
        message.bytes += payload.count + Self.chunkOverheadBytes
        pendingBytes += payload.count + Self.chunkOverheadBytes
        if message.received == count {
            pendingBytes -= message.bytes
            var whole: [UInt8] = []
            whole.reserveCapacity(message.bytes - Self.messageOverheadBytes)
            for chunk in message.chunks { whole.append(contentsOf: chunk!) }
            compactArrivals()
            return .complete(whole)
        }
        pending[id] = message
        dropOldest(toFit: 0)
        return pending[id] == nil ? .ignored : .held
    }

    /// Drops the messages still incomplete `expiryMilliseconds` after their first chunk.
    public mutating func expire(now: Int64) {
        while arrivalsHead < arrivals.count, now - arrivals[arrivalsHead].at >= expiryMilliseconds {
            let id = arrivals[arrivalsHead].id
            arrivalsHead += 1
            if let message = pending[id], message.firstSeenMilliseconds == arrivals[arrivalsHead - 1].at {
                pending[id] = nil
                pendingBytes -= message.bytes
                expiredCount += 1
            }
        }
        compactArrivals()
    }

    /// Messages waiting for chunks.
    public var pendingCount: Int { pending.count }

    private mutating func dropOldest(toFit extra: Int) {
        while pendingBytes + extra > maxPendingBytes, arrivalsHead < arrivals.count {
            let (id, at) = arrivals[arrivalsHead]
            arrivalsHead += 1
            guard let message = pending[id], message.firstSeenMilliseconds == at else { continue }
            pending[id] = nil
            pendingBytes -= message.bytes
            droppedForMemoryCount += 1
        }
        compactArrivals()
    }

    private mutating func compactArrivals() {
        if arrivalsHead == arrivals.count {
            arrivals.removeAll(keepingCapacity: true)
            arrivalsHead = 0
        } else if arrivalsHead >= 1024, arrivalsHead * 2 >= arrivals.count {
            arrivals.removeFirst(arrivalsHead)
            arrivalsHead = 0
        }
        // Completed messages leave their arrival behind; without a bound a flood of small complete messages
        // would grow the list until their expiry passes.
        if arrivals.count - arrivalsHead > 4 * max(pending.count, 256) {
            arrivals = arrivals[arrivalsHead...].filter { pending[$0.id]?.firstSeenMilliseconds == $0.at }
            arrivalsHead = 0
        }
    }

    private mutating func invalid() -> Outcome {
        invalidChunkCount += 1
        return .ignored
    }
}
