// Bytes waiting for a slow socket: chunks written in order, bounded so a peer that stops reading
// costs at most `limit` bytes of memory.
//
// Small messages (a live-tail frame is a few hundred bytes) are copied into blocks of up to `blockBytes` rather
// than queued one array each: one write() then sends many of them, and a slow client holds a few blocks instead
// of thousands of small arrays, whose freeing left holes in malloc's heap that RSS never gave back
// (bench/SOAK.md). A block starts small and grows as filled, so memory stays within about twice what is
// pending even when small and large messages alternate. Large messages are queued as they are, without a copy.
import Glibc

public struct OutboundQueue {
    private var chunks: [[UInt8]] = []
    /// Index of the first unwritten chunk; written chunks are emptied at once and dropped from the array in
    /// batches, not one by one.
    private var head = 0
    /// Bytes of `chunks[head]` already written.
    private var headOffset = 0
    /// The last chunk is a block of ours that later small messages may be copied into.
    private var lastIsBlock = false
    public private(set) var pendingBytes = 0
    /// The bound on pending bytes (a WebSocket session narrows its HTTP connection's once upgraded).
    public var limit: Int

    static let blockBytes = 64 * 1024
    static let firstBlockBytes = 4 * 1024
    /// Messages up to this size are copied into blocks.
    static let copiedBytes = 8 * 1024

    public init(limit: Int) { self.limit = limit }

    public var isEmpty: Bool { pendingBytes == 0 }

    /// Bytes of memory the chunks take (their capacity, written ones included), for tests of the bound.
    var heldBytes: Int { chunks.reduce(0) { $0 + $1.capacity } }

    /// True when `count` more bytes fit under the bound.
    public func hasRoom(for count: Int) -> Bool { pendingBytes + count <= limit }

    public mutating func append(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        pendingBytes += bytes.count
        guard bytes.count <= Self.copiedBytes else {
            chunks.append(bytes)
            lastIsBlock = false
            return
        }
        if lastIsBlock, chunks[chunks.count - 1].count + bytes.count <= Self.blockBytes {
            chunks[chunks.count - 1].append(contentsOf: bytes)
            return
        }
        var block: [UInt8] = []
        block.reserveCapacity(Self.firstBlockBytes)
        block.append(contentsOf: bytes)
        chunks.append(block)
        lastIsBlock = true
    }

    /// Writes as much as the socket takes. Returns true when everything queued has been written.
    public mutating func flush(to fd: FileDescriptor) throws(SystemError) -> Bool {
        try flush { bytes throws(SystemError) in try fd.send(bytes) }
    }

    /// Writes through `send` (which returns the count it took, 0 when full) until it takes no more. After a
    /// 0, the next call offers the same unwritten bytes first (TLS requires it).
    public mutating func flush(_ send: (UnsafeRawBufferPointer) throws(SystemError) -> Int) throws(SystemError) -> Bool {
        defer { dropWrittenChunks() }
        while head < chunks.count {
            let offset = headOffset
            let written = try chunks[head].withUnsafeBytes { bytes in
                Result { () throws(SystemError) in try send(UnsafeRawBufferPointer(rebasing: bytes[offset...])) }
            }.get()
            if written == 0 { return false }
            pendingBytes -= written
            headOffset += written
            if headOffset == chunks[head].count {
                chunks[head] = []  // its memory goes now, not when the written chunks are dropped
                head += 1
                headOffset = 0
            }
        }
        return true
    }

    private mutating func dropWrittenChunks() {
        if head == chunks.count {
            chunks.removeAll(keepingCapacity: true)
            head = 0
            lastIsBlock = false
        } else if head >= 64 {
            chunks.removeFirst(head)
            head = 0
        }
    }
}
