// Receives datagrams in batches with recvmmsg; every non-empty line of a datagram is a record.
import CEpoll
import Glibc

public final class UDPListener: ReactorHandler {
    public let fd: FileDescriptor
    private let sink: RecordSink
    private let maxLineBytes: Int

    static let batchSize = 32
    /// Large enough for any UDP payload, so no datagram is cut.
    static let slotBytes = 65_536
    /// Batches read per readiness event, so one busy socket cannot starve the others.
    static let batchesPerWakeup = 8

    private let buffer: UnsafeMutableRawBufferPointer
    private var lengths = [UInt32](repeating: 0, count: batchSize)
    private var flags = [UInt32](repeating: 0, count: batchSize)
    private var sources = [sockaddr_storage](repeating: sockaddr_storage(), count: batchSize)
    /// Datagrams the kernel discarded because the receive buffer was full (SO_RXQ_OVFL), since we started.
    public private(set) var kernelDrops: UInt64 = 0
    /// The kernel's running total for this socket as last reported (a 32-bit counter).
    private var kernelDropTotal: UInt32 = 0
    /// The last sender's address and its text, since bursts usually come from one sender.
    private var lastSource = sockaddr_storage()
    private var lastHost: [UInt8] = []
    /// Its number in the ring's host table, found once per sender change rather than per line (as TCP does).
    private var lastHostNumber: Int?

    public init(fd: FileDescriptor, sink: RecordSink, maxLineBytes: Int) {
        self.fd = fd
        self.sink = sink
        self.maxLineBytes = maxLineBytes
        buffer = .allocate(byteCount: Self.batchSize * Self.slotBytes, alignment: 64)
    }

    deinit { buffer.deallocate() }

    public func readable() {
        for _ in 0..<Self.batchesPerWakeup {
            var dropTotal = kernelDropTotal
            let count = Int(cepoll_recv_datagrams(fd.rawValue, buffer.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                                  Self.slotBytes, UInt32(Self.batchSize), &lengths, &flags, &sources,
                                                  &dropTotal))
            guard count > 0 else { return }
            kernelDrops += UInt64(dropTotal &- kernelDropTotal)  // wrapping: the kernel's counter is 32 bits
            kernelDropTotal = dropTotal
            let now = RecordSink.now()
            for index in 0..<count {
                let datagram = UnsafeRawBufferPointer(rebasing: buffer[(index * Self.slotBytes)..<(index * Self.slotBytes + Int(lengths[index]))])
                let isCut = flags[index] & UInt32(MSG_TRUNC) != 0
                updateHost(for: index)
                lastHost.withUnsafeBytes { host in
                    LineFramer.forEachLine(in: datagram, maxLineBytes: maxLineBytes) { line in
                        var line = line
                        line.isTruncated = line.isTruncated || isCut
                        sink.ingest(line, host: host, hostNumber: lastHostNumber, protocol: .udp, receivedAtMilliseconds: now)
                    }
                }
            }
            if count < Self.batchSize { return }
        }
    }

    private func updateHost(for index: Int) {
        let isSame = withUnsafeBytes(of: &sources[index]) { new in
            withUnsafeBytes(of: &lastSource) { old in new.elementsEqual(old) }
        }
        if isSame && !lastHost.isEmpty { return }
        lastSource = sources[index]
        lastHost = Array(SocketAddress(storage: sources[index]).hostText.utf8)
        lastHostNumber = lastHost.withUnsafeBytes { sink.ring.hosts.index(of: $0) }
    }
}
