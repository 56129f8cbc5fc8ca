// Receives datagrams in batches; every non-empty line of a datagram is a record.

public final class UDPListener: ReactorHandler {
    public let fd: FileDescriptor
    private let sink: RecordSink
    private let maxLineBytes: Int
    private let batch = DatagramBatch(capacity: 32)

    /// Batches read per readiness event, so one busy socket cannot starve the others.
    static let batchesPerWakeup = 8

    /// Datagrams the kernel discarded because the receive buffer was full (SO_RXQ_OVFL), since we started.
    public var kernelDrops: UInt64 { batch.kernelDrops }
    /// Receive errors other than "nothing waiting" (the socket stays open: UDP has no connection to lose).
    public private(set) var receiveErrors = 0
    /// The last sender and its address as text, since bursts usually come from one sender.
    private var lastSender: SocketAddress?
    private var lastHost: [UInt8] = []
    /// Its number in the ring's host table, found once per sender change rather than per line (as TCP does).
    private var lastHostNumber: Int?

    public init(fd: FileDescriptor, sink: RecordSink, maxLineBytes: Int) {
        self.fd = fd
        self.sink = sink
        self.maxLineBytes = maxLineBytes
    }

    public func readable() {
        for _ in 0..<Self.batchesPerWakeup {
            do { guard try batch.receive(from: fd) else { return } } catch {
                receiveErrors += 1
                return
            }
            let now = Clock.wallMilliseconds
            for index in 0..<batch.count {
                let isCut = batch.isTruncated(at: index)
                updateHost(for: batch.sender(at: index))
                lastHost.withUnsafeBytes { host in
                    LineFramer.forEachLine(in: batch.payload(at: index), maxLineBytes: maxLineBytes) { line in
                        var line = line
                        line.isTruncated = line.isTruncated || isCut
                        sink.ingest(line, host: host, hostNumber: lastHostNumber, protocol: .udp, receivedAtMilliseconds: now)
                    }
                }
            }
            if batch.count < batch.capacity { return }
        }
    }

    private func updateHost(for sender: SocketAddress) {
        if sender == lastSender { return }
        lastSender = sender
        lastHost = Array(sender.hostText.utf8)
        lastHostNumber = lastHost.withUnsafeBytes { sink.ring.hosts.index(of: $0) }
    }
}
