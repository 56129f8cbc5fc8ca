// Bytes waiting for a slow socket: chunks written in order, bounded so a peer that stops reading
// costs at most `limit` bytes of memory.
import Glibc

public struct OutboundQueue {
    private var chunks: [[UInt8]] = []
    /// Index of the first unwritten chunk; written chunks are dropped in batches, not one by one.
    private var head = 0
    /// Bytes of `chunks[head]` already written.
    private var headOffset = 0
    public private(set) var pendingBytes = 0
    public let limit: Int

    public init(limit: Int) { self.limit = limit }

    public var isEmpty: Bool { pendingBytes == 0 }

    /// True when `count` more bytes fit under the bound.
    public func hasRoom(for count: Int) -> Bool { pendingBytes + count <= limit }

    public mutating func append(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        chunks.append(bytes)
        pendingBytes += bytes.count
    }

    /// Writes as much as the socket takes. Returns true when everything queued has been written.
    public mutating func flush(to fd: FileDescriptor) throws(SystemError) -> Bool {
        defer { dropWrittenChunks() }
        while head < chunks.count {
            let offset = headOffset
            let written = try chunks[head].withUnsafeBytes { bytes in
                Result { () throws(SystemError) in try fd.write(UnsafeRawBufferPointer(rebasing: bytes[offset...])) }
            }.get()
            if written == 0 { return false }
            pendingBytes -= written
            headOffset += written
            if headOffset == chunks[head].count {
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
        } else if head >= 64 {
            chunks.removeFirst(head)
            head = 0
        }
    }
}
