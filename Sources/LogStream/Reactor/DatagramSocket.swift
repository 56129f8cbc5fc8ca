// Receiving datagrams in batches (recvmmsg): one call fills many slots of one buffer, each with its length,
// whether the kernel cut it, and its sender. The kernel's count of datagrams it dropped for a full receive
// buffer (SO_RXQ_OVFL) comes with them.
import CEpoll
import Glibc

public final class DatagramBatch {
    public let capacity: Int
    /// Large enough for any UDP payload, so that no datagram is cut.
    public static let slotBytes = 65_536

    private let buffer: UnsafeMutableRawBufferPointer
    private var lengths: [UInt32]
    private var flags: [UInt32]
    private var sources: [sockaddr_storage]
    /// Datagrams in the batch from the last receive.
    public private(set) var count = 0
    /// Datagrams the kernel discarded because the receive buffer was full, since this batch was made.
    public private(set) var kernelDrops: UInt64 = 0
    /// The kernel's running total for the socket as last reported (a 32-bit counter that wraps).
    private var kernelDropTotal: UInt32 = 0

    public init(capacity: Int) {
        self.capacity = capacity
        buffer = .allocate(byteCount: capacity * Self.slotBytes, alignment: 64)
        lengths = [UInt32](repeating: 0, count: capacity)
        flags = [UInt32](repeating: 0, count: capacity)
        sources = [sockaddr_storage](repeating: sockaddr_storage(), count: capacity)
    }

    deinit { buffer.deallocate() }

    /// Reads up to `capacity` datagrams from a non-blocking socket; false when none was waiting.
    public func receive(from fd: FileDescriptor) throws(SystemError) -> Bool {
        var dropTotal = kernelDropTotal
        let received = try nonBlockingCall("recvmmsg", cepoll_recv_datagrams(
            fd.rawValue, buffer.baseAddress!.assumingMemoryBound(to: UInt8.self), Self.slotBytes, UInt32(capacity),
            &lengths, &flags, &sources, &dropTotal))
        count = Int(received ?? 0)
        kernelDrops += UInt64(dropTotal &- kernelDropTotal)
        kernelDropTotal = dropTotal
        return count > 0
    }

    /// Datagram `index` of the last receive: valid until the next one.
    public func payload(at index: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: buffer[(index * Self.slotBytes)..<(index * Self.slotBytes + Int(lengths[index]))])
    }

    /// Whether the kernel cut datagram `index` to fit its slot (MSG_TRUNC).
    public func isTruncated(at index: Int) -> Bool {
        flags[index] & UInt32(MSG_TRUNC) != 0
    }

    /// Who sent datagram `index`.
    public func sender(at index: Int) -> SocketAddress {
        SocketAddress(storage: sources[index])
    }
}
