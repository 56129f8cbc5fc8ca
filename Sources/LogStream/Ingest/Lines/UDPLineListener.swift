// Receives datagrams in batches and hands each to a consumer: line parsing, where every non-empty line of a
// datagram is a record, or GELF. While the destination has no room the socket is not read: the kernel drops
// what its buffer cannot hold, and counts it (kernelDrops).

/// What a datagram listener hands each datagram to.
public protocol DatagramConsumer: AnyObject {
    var destination: RecordDestination { get }
    func ingest(datagram: UnsafeRawBufferPointer, isTruncated: Bool, host: UnsafeRawBufferPointer, hostNumber: Int?,
                maxLineBytes: Int, receivedAtMilliseconds: Int64)
}

extension LineIngest: DatagramConsumer {
    @inline(__always)
    public func ingest(datagram: UnsafeRawBufferPointer, isTruncated: Bool, host: UnsafeRawBufferPointer, hostNumber: Int?,
                       maxLineBytes: Int, receivedAtMilliseconds: Int64) {
        LineFramer.forEachLine(in: datagram, maxLineBytes: maxLineBytes) { line in
            var line = line
            line.isTruncated = line.isTruncated || isTruncated
            ingest(line, host: host, hostNumber: hostNumber, protocol: .udp, receivedAtMilliseconds: receivedAtMilliseconds)
        }
    }
}

/// Batches read per readiness event, so one busy socket cannot starve the others.
let datagramBatchesPerWakeup = 8

public final class UDPLineListener<Consumer: DatagramConsumer>: ReactorHandler {
    public let fd: FileDescriptor
    private let reactor: Reactor
    private let ingest: Consumer
    private let maxLineBytes: Int
    private let batch = DatagramBatch(capacity: 32)
    private var isPaused = false

    /// Datagrams the kernel discarded because the receive buffer was full (SO_RXQ_OVFL), since we started.
    public var kernelDrops: UInt64 { batch.kernelDrops }
    /// Receive errors other than "nothing waiting" (the socket stays open: UDP has no connection to lose).
    public private(set) var receiveErrors = 0
    /// The last sender and its address as text, since bursts usually come from one sender.
    private var lastSender: SocketAddress?
    private var lastHost: [UInt8] = []
    /// Its number in the ring's host table, found once per sender change rather than per line (as TCP does).
    private var lastHostNumber: Int?

    public init(fd: FileDescriptor, reactor: Reactor, ingest: Consumer, maxLineBytes: Int) {
        self.fd = fd
        self.reactor = reactor
        self.ingest = ingest
        self.maxLineBytes = maxLineBytes
    }

    public func readable() {
        read(evenWithoutRoom: false)
    }

    /// Reads what the socket holds; at shutdown, whether or not the destination has room.
    public func read(evenWithoutRoom: Bool) {
        for _ in 0..<datagramBatchesPerWakeup {
            guard evenWithoutRoom || ingest.destination.hasRoom else {
                pause()
                return
            }
            do { guard try batch.receive(from: fd) else { return } } catch {
                receiveErrors += 1
                return
            }
            let now = Clock.wallMilliseconds
            for index in 0..<batch.count {
                let isCut = batch.isTruncated(at: index)
                updateHost(for: batch.sender(at: index))
                lastHost.withUnsafeBytes { host in
                    ingest.ingest(datagram: batch.payload(at: index), isTruncated: isCut, host: host, hostNumber: lastHostNumber,
                                  maxLineBytes: maxLineBytes, receivedAtMilliseconds: now)
                }
            }
            if batch.count < batch.capacity { return }
        }
    }

    /// Not read until the destination has room. If the interest cannot be changed, reading simply goes on.
    private func pause() {
        guard !isPaused, (try? reactor.setInterest([], for: fd)) != nil else { return }
        isPaused = true
        ingest.destination.whenRoom { [weak self] in self?.resume() }
    }

    private func resume() {
        do {
            try reactor.setInterest(.readable, for: fd)
            isPaused = false
        } catch {
            receiveErrors += 1
            ingest.destination.whenRoom { [weak self] in self?.resume() }  // tried again after the next turn
        }
    }

    private func updateHost(for sender: SocketAddress) {
        if sender == lastSender { return }
        lastSender = sender
        lastHost = Array(sender.hostText.utf8)
        lastHostNumber = lastHost.withUnsafeBytes { ingest.destination.hostNumber(of: $0) }
    }
}
