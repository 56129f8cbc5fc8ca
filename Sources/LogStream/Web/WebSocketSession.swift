// One live-tail client speaking the original LogStream's protocol over RFC 6455: it sends update_filters and
// receives history, then new_log for every new matching record (or, when it asked for batches, a batch message
// a few times a second). Its send queue is bounded: a client that cannot keep up loses messages (and is told
// how many), never slowing ingestion or other clients. Histories are gathered on the worker thread; live
// messages published meanwhile wait behind them, so the client sees no gap and no repeat.

final class WebSocketSession: ReactorHandler {
    let transport: Transport
    var fd: FileDescriptor { transport.fd }
    private unowned let liveTail: LiveTail
    private var input: [UInt8] = []
    private var output: OutboundQueue
    private var assembler = WebSocketMessageAssembler(maxMessageBytes: maxMessageBytes)
    private(set) var filter = RecordFilter.everything
    /// The client asked for batch messages instead of one new_log per record.
    private(set) var isBatching = false
    /// Entries for the next batch message, comma-separated, without the enclosing brackets.
    private var batch: [UInt8] = []
    /// A history is being gathered on the worker: live messages wait here, and the client's next messages
    /// stay unread, until it is sent.
    private var isAwaitingHistory = false
    private var held: [[UInt8]] = []
    private var heldBytes = 0
    /// Messages dropped since the client was last told.
    private var droppedCount = 0
    /// When the client last sent anything, when we pinged it without an answer yet, and since when it has been
    /// too far behind to take live messages (the reactor's seconds).
    private var lastHeardSecond: Int
    private var pingSentSecond: Int?
    private var behindSinceSecond: Int?
    /// Our close frame is queued: nothing more is read or sent.
    private var isClosing = false
    private var isClosed = false

    static let maxMessageBytes = 64 * 1024
    static let sendQueueBytes = 1024 * 1024
    static let historyCount = 50
    static let maxHistoryCount = 10_000
    static let readChunkBytes = 16 * 1024
    static let retainedBatchBytes = 64 * 1024
    /// Reads per readiness event, so one chatty client cannot starve the others.
    static let readsPerWakeup = 8

    init(transport: Transport, liveTail: LiveTail, output: OutboundQueue) {
        self.transport = transport
        self.liveTail = liveTail
        self.output = output
        // The queue comes from the HTTP connection (with the 101 in it) and its 8 MiB answer bound: a live
        // client gets the live-tail bound, or every client that never reads would hold 8 MiB.
        self.output.limit = Self.sendQueueBytes
        lastHeardSecond = liveTail.reactor.seconds
    }

    enum Health { case fine, unanswered, behind }

    /// Timer: pings a client quiet for `intervalSeconds`; closes one that has not answered a ping within as long,
    /// or that has stayed too far behind to take live messages for as long (it is not reading: no close frame
    /// could reach it).
    func checkHealth(intervalSeconds: Int) -> Health {
        guard !isClosing, !isClosed else { return .fine }
        let now = liveTail.reactor.seconds
        if let since = behindSinceSecond, now - since >= intervalSeconds {
            close()
            return .behind
        }
        if let sent = pingSentSecond, now - sent >= intervalSeconds {
            fail(WebSocketFailure(.policyViolation, "ping not answered"))
            flush()
            return .unanswered
        }
        if pingSentSecond == nil, now - lastHeardSecond >= intervalSeconds {
            var frame: [UInt8] = []
            WebSocketFrameCodec.encode(.ping, payload: UnsafeRawBufferPointer(start: nil, count: 0), into: &frame)
            output.append(frame)
            pingSentSecond = now
            flush()
        }
        return .fine
    }

    func readable() {
        guard !isClosing, !isClosed, isAcceptingInput else { return }
        let buffer = UnsafeMutableRawBufferPointer(rebasing: liveTail.reactor.readBuffer[..<Self.readChunkBytes])
        for _ in 0..<Self.readsPerWakeup {
            let result: FileDescriptor.ReadResult
            do { result = try transport.read(into: buffer) } catch {
                close()
                return
            }
            switch result {
            case .bytes(let count):
                receive(Array(buffer[..<count]))
                if isClosing || !isAcceptingInput { return }
            case .wouldBlock:
                flush()
                return
            case .endOfFile:
                close()
                return
            }
        }
        flush()
    }

    func writable() {
        flush()
        if !isClosing, !isClosed, isAcceptingInput, !input.isEmpty { receive([]) }
    }

    /// A client's messages are not read while our replies to earlier ones wait: that bounds what a client that
    /// sends (pings, filter updates) but never reads can make us hold.
    private var isAcceptingInput: Bool { output.pendingBytes <= Self.sendQueueBytes && !isAwaitingHistory }

    /// Decodes and handles every whole frame in `bytes` (and what was left over before them), then sends
    /// what the frames asked for.
    func receive(_ bytes: [UInt8]) {
        if !bytes.isEmpty {
            lastHeardSecond = liveTail.reactor.seconds
            pingSentSecond = nil
        }
        input.append(contentsOf: bytes)
        var consumed = 0
        decoding: while !isClosing && isAcceptingInput {
            let decoded = input.withUnsafeMutableBytes { raw in
                WebSocketFrameCodec.decode(UnsafeMutableRawBufferPointer(rebasing: raw[consumed...]), maxPayloadBytes: Self.maxMessageBytes)
            }
            switch decoded {
            case .incomplete:
                break decoding
            case .invalid(let code, let reason):
                fail(WebSocketFailure(code, reason))
            case .frame(let frame, let length):
                let payloadRange = (consumed + frame.payload.lowerBound)..<(consumed + frame.payload.upperBound)
                consumed += length
                let outcome = input.withUnsafeBytes { assembler.take(frame, payload: UnsafeRawBufferPointer(rebasing: $0[payloadRange])) }
                switch outcome {
                case .success(let message?): handle(message)
                case .success(nil): continue
                case .failure(let failure): fail(failure)
                }
            }
        }
        input.removeFirst(consumed)
        flush()
    }

    private func handle(_ message: WebSocketMessage) {
        switch message {
        case .text(let bytes):
            guard let message = ClientMessage.decode(bytes), message.type == "update_filters" else { return }
            let filters = message.filters
            let expression: Query?
            do { expression = try QueryParser.parse(filters?.q ?? "") } catch {
                sendError("q: \(error)")  // the filter in force stays as it was
                return
            }
            filter = RecordFilter(query: filters?.query, level: filters?.level, service: filters?.service,
                                  fields: filters?.fields ?? [:], expression: expression)
            isBatching = message.batch
            let limit = min(max(message.limit ?? Self.historyCount, 0), Self.maxHistoryCount)
            requestHistory(limit: limit, after: message.after)
        case .ping(let payload):
            var frame: [UInt8] = []
            payload.withUnsafeBytes { WebSocketFrameCodec.encode(.pong, payload: $0, into: &frame) }
            output.append(frame)
        case .close:
            output.append(WebSocketFrameCodec.closeFrame(.normal))
            isClosing = true
        case .binary, .pong:
            break
        }
    }

    /// The server is stopping: say so with 1001 and close once flushed.
    func goAway() {
        guard !isClosing else { return }
        output.append(WebSocketFrameCodec.closeFrame(.goingAway, reason: "server stopping"))
        isClosing = true
        flush()
    }

    private func fail(_ failure: WebSocketFailure) {
        output.append(WebSocketFrameCodec.closeFrame(failure.code, reason: failure.reason))
        isClosing = true
    }

    /// `{"type":"history","data":[...]}`: the newest matching records not yet published live, gathered on the
    /// worker. Batching clients also get `"complete"` (false when `limit` cut the history short) and `"next_id"`,
    /// the id the next live record will have: a client holding ids at or above it knows the server restarted.
    private func requestHistory(limit: Int, after: UInt64?) {
        // What was gathered under the old filter is superseded by the history.
        batch.removeAll()
        held.removeAll()
        heldBytes = 0
        isAwaitingHistory = true
        let (source, filter, isBatching) = (liveTail.source, filter, isBatching)
        let window = RecordWindow(beforeID: liveTail.publishedUpTo, afterID: after)
        liveTail.worker.submit({
            var json = JSONWriter(capacity: 16 * 1024)
            json.raw("{\"type\":\"history\",\"data\":")
            let listed = LogEntryJSON.appendNewest(from: source, matching: filter, limit: limit, window: window, to: &json)
            if isBatching {
                json.raw(listed.isComplete ? ",\"complete\":true,\"next_id\":" : ",\"complete\":false,\"next_id\":")
                json.integer(Int(window.beforeID ?? 0))
            }
            json.raw("}")
            return WebSocketFrameCodec.textFrame(json.bytes)
        }, then: { [weak self] frame in self?.historyArrived(frame) })
    }

    /// Reactor thread: the history goes out first, then what was published while it was gathered.
    private func historyArrived(_ frame: [UInt8]) {
        guard !isClosed, isAwaitingHistory else { return }
        isAwaitingHistory = false
        guard !isClosing else { return }
        output.append(frame)
        for message in held { output.append(message) }
        held.removeAll()
        heldBytes = 0
        if input.isEmpty { flush() } else { receive([]) }  // messages the client sent meanwhile
    }

    /// `{"type":"error","message":...}`: a filter the client sent could not be used.
    private func sendError(_ message: String) {
        var json = JSONWriter(capacity: 256)
        json.raw("{\"type\":\"error\",\"message\":")
        json.string(message)
        json.raw("}")
        output.append(WebSocketFrameCodec.textFrame(json.bytes))
    }

    /// Queues a live message unless the client is too far behind; then it is counted as dropped.
    func offer(estimatedBytes: Int, _ frame: () -> [UInt8]) {
        guard !isClosing else { return }
        guard output.hasRoom(for: heldBytes + estimatedBytes) else {
            drop()
            return
        }
        if isAwaitingHistory {
            let message = frame()
            held.append(message)
            heldBytes += message.count
        } else {
            output.append(frame())
        }
    }

    /// Adds a record's JSON to the next batch message, unless the client is too far behind.
    func offerToBatch(estimatedBytes: Int, _ entry: () -> [UInt8]) {
        guard !isClosing else { return }
        guard output.hasRoom(for: batch.count + estimatedBytes) else {
            drop()
            return
        }
        if !batch.isEmpty { batch.append(UInt8(ascii: ",")) }
        batch.append(contentsOf: entry())
    }

    private func drop() {
        droppedCount += 1
        liveTail.droppedMessageCount += 1
        if behindSinceSecond == nil { behindSinceSecond = liveTail.reactor.seconds }
    }

    /// `{"type":"batch","data":[...]}`, oldest first: what was gathered since the last one (timer).
    func sendBatch() {
        guard !batch.isEmpty, !isAwaitingHistory, !isClosing, !isClosed else { return }
        var json = JSONWriter(capacity: batch.count + 32)
        json.raw("{\"type\":\"batch\",\"data\":[")
        json.bytes.append(contentsOf: batch)
        json.raw("]}")
        // Keep a small buffer for the next batch; give a burst's large one back, or every session would
        // keep the largest batch it ever had (up to 2 MiB each).
        batch.removeAll(keepingCapacity: batch.capacity <= Self.retainedBatchBytes)
        output.append(WebSocketFrameCodec.textFrame(json.bytes))
        flush()
    }

    private func close(gracefully: Bool = false) {
        guard !isClosed else { return }
        isClosed = true
        liveTail.close(self, gracefully: gracefully)
    }

    func flush() {
        guard !isClosed else { return }
        let isDone: Bool
        do { isDone = try output.flush(to: transport) } catch {
            close()
            return
        }
        if isDone { behindSinceSecond = nil }  // caught up
        if isDone && droppedCount > 0 && !isClosing {
            output.append(WebSocketFrameCodec.textFrame(Array("{\"type\":\"dropped\",\"count\":\(droppedCount)}".utf8)))
            droppedCount = 0
            flush()
            return
        }
        if isClosing && isDone {
            close(gracefully: true)
            return
        }
        var interest: Interest = isAcceptingInput && !isClosing ? .readable : []
        if !isDone { interest.insert(.writable) }
        do { try liveTail.reactor.setInterest(interest, for: fd) } catch { close() }
    }
}
