// One Forward sender: bytes in, whole messages out, their events stored in slices, acks once durable.
// `inbox` holds what has arrived and not been consumed; a message is read in place there, so the inbox is
// neither read into nor compacted while a message is being stored (the socket is not watched meanwhile).

final class ForwardConnection: ReactorHandler {
    let transport: Transport
    var fd: FileDescriptor { transport.fd }
    private let peer: SocketAddress
    private unowned let listener: ForwardListener
    private let sink: ForwardEventSink
    private var inbox: [UInt8] = []
    /// Bytes of `inbox` already consumed.
    private var consumed = 0
    private var framer = MessagePackFramer()
    private var handshake: ForwardHandshake?
    /// The message being stored, when one spans turns or waits for the worker.
    private var job: Job?
    /// Messages seen, numbering their acks.
    private var sequence = 0
    private var acks: [PendingAck] = []
    private var outbound = OutboundQueue(limit: 1 << 20)
    private var isWatched = true
    private var isClosed = false
    private var closesAfterFlush = false
    private var lastActiveSecond: Int

    private struct Job {
        var message: ForwardMessage
        /// The message's place in `inbox`.
        var bytes: Range<Int>
        var events: ForwardEvents
        /// CompressedPackedForward: the inflated entries, once the worker is done.
        var inflated: [UInt8]?
        var waitsForWorker = false
        let sequence: Int
    }

    private struct PendingAck {
        var chunk: [UInt8]
        var sequence: Int
        /// Set once none of the message's records is held by a join: the last id stored by then.
        var lastID: UInt64?
    }

    /// `verifiedName`: the name the sender's client certificate proved (mutual TLS), every record's host.
    init(transport: Transport, peer: SocketAddress, verifiedName: String? = nil, listener: ForwardListener) {
        self.transport = transport
        self.peer = peer
        self.listener = listener
        let configuration = listener.configuration
        sink = ForwardEventSink(destination: listener.destination, peer: Array((verifiedName ?? peer.hostText).utf8),
                                peerIsVerified: verifiedName != nil, ingestProtocol: transport.isEncrypted ? .tls : .tcp,
                                maxLineBytes: configuration.maxLineBytes, joinsLines: configuration.joinsLines)
        lastActiveSecond = listener.reactor.seconds
        if let key = configuration.sharedKey {
            handshake = ForwardHandshake(sharedKey: key, serverHostname: configuration.hostname, nonce: Self.nonce())
        }
    }

    /// Sends HELO when a shared key is required.
    func greet() {
        guard let handshake else { return }
        send(handshake.helo)
    }

    func readable() {
        read(evenWithoutRoom: false)
    }

    private func read(evenWithoutRoom: Bool) {
        let buffer = listener.reactor.readBuffer
        for _ in 0..<streamReadsPerWakeup {
            guard !isClosed, job == nil else { return }
            guard evenWithoutRoom || listener.destination.hasRoom else {
                unwatch()
                listener.destination.whenRoom { [weak self] in self?.resume() }
                return
            }
            let result: FileDescriptor.ReadResult
            do { result = try transport.read(into: buffer) } catch {
                finish()
                return
            }
            switch result {
            case .bytes(let count):
                lastActiveSecond = listener.reactor.seconds
                compactInbox()
                inbox.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[..<count]))
                processInbox()
                if count < buffer.count { return }
            case .wouldBlock:
                return
            case .endOfFile:
                finish()
                return
            }
        }
    }

    /// Takes every whole message in the inbox, until one must wait for a later turn.
    private func processInbox() {
        while !isClosed, job == nil, consumed < inbox.count {
            let outcome: MessagePackFramer.Outcome
            do {
                outcome = try inbox.withUnsafeBytes { raw in
                    Result { () throws(MessagePackError) in try framer.end(in: UnsafeRawBufferPointer(rebasing: raw[consumed...])) }
                }.get()
            } catch {
                return refuse("not MessagePack: \(error)")
            }
            guard case .complete(let end) = outcome else {
                if case .needsMore(let atLeast) = outcome, atLeast > listener.configuration.maxMessageBytes {
                    refuse("a message of at least \(atLeast) bytes, over the \(listener.configuration.maxMessageBytes) allowed")
                }
                return
            }
            let bytes = consumed..<(consumed + end)
            consumed += end
            if handshake != nil {
                answerPing(bytes)
                continue
            }
            let parsed = inbox.withUnsafeBytes { raw in
                Result { () throws(ForwardError) in try ForwardMessage.parse(UnsafeRawBufferPointer(rebasing: raw[bytes])) }
            }
            switch parsed {
            case .failure(let error):
                return refuse(error.reason)
            case .success(let message):
                listener.counted()
                start(Job(message: message, bytes: bytes, events: message.events(), sequence: sequence))
                sequence += 1
            }
        }
    }

    private func start(_ newJob: Job) {
        job = newJob
        guard newJob.message.mode == .compressedPackedForward else { return continueJob() }
        job!.waitsForWorker = true
        unwatch()
        let compressed = inbox.withUnsafeBytes { raw in
            Array(raw[(newJob.bytes.lowerBound + newJob.message.entries.lowerBound)..<(newJob.bytes.lowerBound + newJob.message.entries.upperBound)])
        }
        let limit = listener.configuration.maxMessageBytes * ForwardListener.inflationFactor
        listener.worker.submit({ compressed.withUnsafeBytes { raw in
            Result { () throws(InflateError) in try Inflate.decompress(raw, .gzip, limit: limit) } } }, then: { [weak self] outcome in
            guard let self, !isClosed else { return }
            switch outcome {
            case .success(let inflated):
                job?.inflated = inflated
                job?.waitsForWorker = false
                continueJob()
            case .failure(let error):
                refuse("CompressedPackedForward entries: \(error)")
            }
        })
    }

    /// Stores up to a turn's worth of the current message's events; schedules the rest for the next turn.
    private func continueJob() {
        guard var current = job, !current.waitsForWorker, !isClosed else { return }
        let now = Clock.wallMilliseconds
        let outcome: Result<Bool, ForwardError>
        if let inflated = current.inflated {
            outcome = inflated.withUnsafeBytes { storeEvents(&current, in: $0, now: now) }
        } else {
            outcome = inbox.withUnsafeBytes { raw in
                storeEvents(&current, in: UnsafeRawBufferPointer(rebasing: raw[current.bytes]), now: now)
            }
        }
        switch outcome {
        case .failure(let error):
            job = nil
            refuse(error.reason)
        case .success(let finished) where !finished:
            job = current
            unwatch()
            _ = listener.reactor.schedule(afterMilliseconds: 0) { [weak self] in self?.continueJob() }
        case .success:
            job = nil
            if let chunk = current.message.chunk {
                inbox.withUnsafeBytes { raw in
                    acks.append(PendingAck(chunk: Array(raw[(current.bytes.lowerBound + chunk.lowerBound)..<(current.bytes.lowerBound + chunk.upperBound)]),
                                           sequence: current.sequence))
                }
            }
            processInbox()
            if job == nil { watch() }
        }
    }

    /// True when the message's events are all stored.
    private func storeEvents(_ current: inout Job, in events: UnsafeRawBufferPointer, now: Int64) -> Result<Bool, ForwardError> {
        // The tag is in the message; inflated entries are not.
        inbox.withUnsafeBytes { raw in
            let message = UnsafeRawBufferPointer(rebasing: raw[current.bytes])
            let tag = UnsafeRawBufferPointer(rebasing: message[current.message.tag])
            return Result { () throws(ForwardError) in
                for _ in 0..<ForwardListener.eventsPerTurn {
                    guard let event = try current.events.next(in: events) else { return true }
                    do throws(MessagePackError) { try sink.take(event, tag: tag, in: events, sequence: current.sequence, now: now) } catch {
                        throw ForwardError(error, in: "record")
                    }
                }
                return current.events.isFinished
            }
        }
    }

    private func answerPing(_ bytes: Range<Int>) {
        guard let handshake else { return }
        let outcome = inbox.withUnsafeBytes { handshake.answer(ping: UnsafeRawBufferPointer(rebasing: $0[bytes])) }
        switch outcome {
        case .accepted(let pong):
            self.handshake = nil
            send(pong)
        case .refused(let pong, let reason):
            listener.handshakeFailed()
            send(pong)
            closesAfterFlush = true
            listener.refused(peer, "handshake: \(reason)")
            if outbound.isEmpty { close() }
        }
    }

    // MARK: - Acks

    func releaseAcks(durableUpTo: UInt64) {
        guard !acks.isEmpty, !isClosed else { return }
        let held = sink.oldestHeldSequence
        var sent = 0
        for index in acks.indices {
            if acks[index].lastID == nil {
                guard held.map({ $0 > acks[index].sequence }) ?? true else { break }
                acks[index].lastID = sink.lastStoredID ?? 0
            }
            guard let lastID = acks[index].lastID, sink.lastStoredID == nil || lastID < durableUpTo else { break }
            var writer = MessagePackWriter()
            writer.map(count: 1)
            writer.string("ack")
            acks[index].chunk.withUnsafeBytes { writer.string($0) }
            send(writer.bytes)
            listener.countedAck()
            sent += 1
        }
        acks.removeFirst(sent)
    }

    func flushQuiet(now: Int64, quietMilliseconds: Int64) {
        sink.flushQuiet(now: now, quietMilliseconds: quietMilliseconds)
    }

    // MARK: - Socket

    private func send(_ bytes: [UInt8]) {
        guard !isClosed else { return }
        guard outbound.hasRoom(for: bytes.count) else {
            return refuse("does not read its acks")
        }
        outbound.append(bytes)
        writable()
    }

    func writable() {
        guard !isClosed else { return }
        do {
            if try outbound.flush(to: transport) {
                if closesAfterFlush { return close() }
                try listener.reactor.setInterest(isWatched ? .readable : [], for: fd)
            } else {
                try listener.reactor.setInterest(isWatched ? [.readable, .writable] : .writable, for: fd)
            }
        } catch {
            finish()
        }
    }

    private func watch() {
        guard !isWatched, !isClosed else { return }
        isWatched = true
        lastActiveSecond = listener.reactor.seconds
        do { try listener.reactor.setInterest(outbound.isEmpty ? .readable : [.readable, .writable], for: fd) } catch { finish() }
        read(evenWithoutRoom: false)  // what arrived meanwhile may already be waiting; edge or not, read it now
    }

    private func unwatch() {
        guard isWatched, !isClosed else { return }
        isWatched = false
        do { try listener.reactor.setInterest(outbound.isEmpty ? [] : .writable, for: fd) } catch { finish() }
    }

    private func resume() {
        guard job == nil else { return }
        watch()
    }

    private func compactInbox() {
        guard consumed > 0, job == nil else { return }
        inbox.removeFirst(consumed)
        consumed = 0
        if inbox.isEmpty && inbox.capacity > 1 << 20 { inbox = [] }
    }

    func isIdle(since second: Int) -> Bool {
        isWatched && job == nil && lastActiveSecond <= second
    }

    /// At shutdown: stores what has arrived (whole messages), then closes.
    func drain() {
        read(evenWithoutRoom: true)
        while job != nil, !isClosed, job?.waitsForWorker == false { continueJob() }
        finish()
    }

    private func refuse(_ reason: String) {
        listener.refused(peer, reason)
        finish()
    }

    /// The sender is done or gone: what joins still hold is stored.
    private func finish() {
        guard !isClosed else { return }
        sink.finish(now: Clock.wallMilliseconds)
        close()
    }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        listener.remove(self)
    }

    private static func nonce() -> [UInt8] {
        (0..<16).map { _ in UInt8.random(in: .min ... .max) }  // the system's generator: getrandom(2)
    }
}
