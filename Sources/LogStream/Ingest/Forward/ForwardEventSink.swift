// Forward events to records, for one connection: the text is parsed like any line (a JSON line in Docker's
// `log` gives its level, service and fields), the record's members add theirs, Docker's pieces of a long line
// are joined first, and with multi-line joining on, a trace's lines join their record, per tag. Records held
// back by either join are not acknowledged until they are stored: `oldestHeldSequence` tells the connection.

final class ForwardEventSink {
    private let destination: RecordDestination
    private let peer: [UInt8]
    private let peerNumber: Int?
    private let peerIsVerified: Bool
    private let ingestProtocol: IngestProtocol
    private let maxLineBytes: Int
    private let joinsLines: Bool
    private var record = ForwardRecord()
    private var fields = FieldsBuilder()
    private var recentMinute = RecentMinute()
    /// Docker's pieces of long lines, by partial id, with the message they began in.
    private var partials: [[UInt8]: PartialLine] = [:]
    /// Multi-line joining, by tag.
    private var joiners: [[UInt8]: MultilineJoiner<HeldEvent>] = [:]
    /// The id of the last record stored.
    private(set) var lastStoredID: UInt64?

    /// What a held record keeps of its first line's event.
    struct HeldEvent {
        var tag: [UInt8]
        var timeMilliseconds: Int64?
        var record: [UInt8]
        var sequence: Int
    }

    /// A long line whose last piece has not come yet.
    struct PartialLine {
        var text: [UInt8] = []
        var tag: [UInt8]
        var sequence: Int
        var lastPieceMilliseconds: Int64
    }

    /// Most partial lines and tags in the making at once; beyond, the oldest is stored as it is.
    static let maxHeldStreams = 256

    /// `peerIsVerified`: `peer` is the name a client certificate proved, every record's host whatever it claims;
    /// `ingestProtocol`: TLS over Forward's encrypted port.
    init(destination: RecordDestination, peer: [UInt8], peerIsVerified: Bool = false, ingestProtocol: IngestProtocol = .tcp,
         maxLineBytes: Int, joinsLines: Bool) {
        self.destination = destination
        self.peer = peer
        self.peerIsVerified = peerIsVerified
        self.ingestProtocol = ingestProtocol
        peerNumber = peer.withUnsafeBytes { destination.hostNumber(of: $0) }
        self.maxLineBytes = maxLineBytes
        self.joinsLines = joinsLines
    }

    /// Takes one event of the message numbered `sequence`; `buffer` holds its record.
    func take(_ event: ForwardEvent, tag: UnsafeRawBufferPointer, in buffer: UnsafeRawBufferPointer, sequence: Int,
              now: Int64) throws(MessagePackError) {
        let recordBytes = UnsafeRawBufferPointer(rebasing: buffer[event.record])
        try record.read(recordBytes)
        if let partial = record.partial {
            let id = Array(partial.id)
            var held = partials.removeValue(forKey: id) ?? PartialLine(tag: Array(tag), sequence: sequence, lastPieceMilliseconds: now)
            if let text = record.text { held.text.append(contentsOf: text.prefix(maxLineBytes + 1 - min(held.text.count, maxLineBytes + 1))) }
            held.lastPieceMilliseconds = now
            guard partial.isLast else {
                if partials.count >= Self.maxHeldStreams, let oldest = partials.min(by: { $0.value.sequence < $1.value.sequence }) {
                    storePieces(partials.removeValue(forKey: oldest.key)!, now: now)  // a sender that never finishes its lines
                }
                partials[id] = held
                return
            }
            let delivered = held.text.withUnsafeBytes { joined in
                Result { () throws(MessagePackError) in
                    try deliver(text: joined, tag: tag, time: event.timeMilliseconds, recordBytes: recordBytes, sequence: held.sequence, now: now)
                }
            }
            return try delivered.get()
        }
        let text = record.text ?? UnsafeRawBufferPointer(start: nil, count: 0)
        try deliver(text: text, tag: tag, time: event.timeMilliseconds, recordBytes: recordBytes, sequence: sequence, now: now)
    }

    /// A whole line: joined with its neighbours when multi-line joining is on, else stored.
    private func deliver(text: UnsafeRawBufferPointer, tag: UnsafeRawBufferPointer, time: Int64?, recordBytes: UnsafeRawBufferPointer,
                         sequence: Int, now: Int64) throws(MessagePackError) {
        guard joinsLines, record.text != nil || record.partial != nil else {
            return store(text: text, isTruncated: text.count > maxLineBytes, tag: tag, time: time, now: now)
        }
        let key = Array(tag)
        var joiner = joiners.removeValue(forKey: key) ?? MultilineJoiner(maxBytes: maxLineBytes)
        var failure: MessagePackError?
        joiner.feed(text, isTruncated: false, context: { HeldEvent(tag: key, timeMilliseconds: time, record: Array(recordBytes), sequence: sequence) },
                    now: now) { joined, isTruncated, held in
            do throws(MessagePackError) { try storeHeld(joined, isTruncated: isTruncated, held, now: now) } catch { failure = error }
        }
        if joiner.hasPending { joiners[key] = joiner }
        if joiners.count > Self.maxHeldStreams { flushOldestJoiner(now: now) }
        if let failure { throw failure }
    }

    private func storeHeld(_ text: UnsafeRawBufferPointer, isTruncated: Bool, _ held: HeldEvent, now: Int64) throws(MessagePackError) {
        let stored = held.record.withUnsafeBytes { recordBytes in
            Result { () throws(MessagePackError) in
                try record.read(recordBytes)
                held.tag.withUnsafeBytes { tag in store(text: text, isTruncated: isTruncated, tag: tag, time: held.timeMilliseconds, now: now) }
            }
        }
        try stored.get()
    }

    /// Stores one record from `record` (as read last) with `text`.
    private func store(text: UnsafeRawBufferPointer, isTruncated: Bool, tag: UnsafeRawBufferPointer, time: Int64?, now: Int64) {
        let text = UnsafeRawBufferPointer(rebasing: text[..<min(text.count, maxLineBytes)])
        fields.removeAll()
        let parsed = RecordParser.parse(text, receivedAt: now, fields: &fields, recentMinute: &recentMinute)
        record.fields.bytes.withUnsafeBytes { members in
            for field in RecordFields(blob: members) { fields.append(name: field.name, value: field.value, kind: field.kind) }
        }
        fields.append(name: "tag", value: tag)
        let content = parsed.map { UnsafeRawBufferPointer(rebasing: text[$0.content]) } ?? text
        let textLevel = parsed.flatMap { $0.namesLevel ? $0.level : nil }
        let level = record.level ?? textLevel ?? (record.isStandardError ? .error : .info)
        // A structured line names its own service; a plain line's `[name]` is weaker than the record's members.
        let textService = parsed.flatMap { parsed in parsed.format == .plain ? nil : parsed.service.map { UnsafeRawBufferPointer(rebasing: text[$0]) } }
        let service = record.service ?? textService ?? record.containerService ?? tag
        let hostFromText = parsed?.hostname.map { UnsafeRawBufferPointer(rebasing: text[$0]) }
        let host = peerIsVerified ? nil : record.host ?? hostFromText
        peer.withUnsafeBytes { peer in
            fields.bytes.withUnsafeBytes { fieldBytes in
                let newRecord = NewRecord(line: content, host: host ?? peer, level: level, service: service, ingestProtocol: ingestProtocol,
                                          isTruncated: isTruncated, receivedAtMilliseconds: now, fields: fieldBytes, format: .forward,
                                          sourceTimeMilliseconds: time ?? parsed?.sourceTimeMilliseconds,
                                          hostNumber: host == nil ? peerNumber : nil)
                lastStoredID = destination.store(newRecord)
            }
        }
    }

    /// The oldest message any held record or piece belongs to; nil when nothing is held.
    var oldestHeldSequence: Int? {
        let pieces = partials.values.lazy.map(\.sequence).min()
        let joined = joiners.values.lazy.compactMap { $0.pendingContext?.sequence }.min()
        return [pieces, joined].compactMap { $0 }.min()
    }

    /// Stores the joined records whose last line came `quietMilliseconds` ago or more (all, at 0), and the
    /// pieces of lines whose last piece is as late (Docker sends a line's pieces back to back): held records
    /// hold back acknowledgements, so nothing is held for long.
    func flushQuiet(now: Int64, quietMilliseconds: Int64) {
        for key in Array(joiners.keys) where now - joiners[key]!.lastLineMilliseconds >= quietMilliseconds {
            var joiner = joiners.removeValue(forKey: key)!
            joiner.flush { text, isTruncated, held in try? storeHeld(text, isTruncated: isTruncated, held, now: now) }
        }
        for key in Array(partials.keys) where now - partials[key]!.lastPieceMilliseconds >= quietMilliseconds {
            storePieces(partials.removeValue(forKey: key)!, now: now)
        }
    }

    /// At the end of the connection: everything held is stored.
    func finish(now: Int64) {
        flushQuiet(now: now, quietMilliseconds: 0)
    }

    /// The pieces of a line whose last piece never came, as one record.
    private func storePieces(_ piece: PartialLine, now: Int64) {
        record = ForwardRecord()
        piece.text.withUnsafeBytes { text in
            piece.tag.withUnsafeBytes { store(text: text, isTruncated: text.count > maxLineBytes, tag: $0, time: nil, now: now) }
        }
    }

    private func flushOldestJoiner(now: Int64) {
        guard let oldest = joiners.min(by: { $0.value.lastLineMilliseconds < $1.value.lastLineMilliseconds })?.key else { return }
        var joiner = joiners.removeValue(forKey: oldest)!
        joiner.flush { text, isTruncated, held in try? storeHeld(text, isTruncated: isTruncated, held, now: now) }
    }
}
