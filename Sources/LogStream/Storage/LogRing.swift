// The newest records, bounded by count and by bytes. One writer appends; any number of readers on other
// threads read without locks. Record bytes live in a circular byte arena; per-record metadata in fixed slots
// (SlotLayout.swift).
//
// Readers never see a torn record: the writer advances `oldestID` (then fences) before it overwrites any slot
// or arena bytes, and a reader re-checks `oldestID` (after a fence) once it has read a record. If the record
// was evicted meanwhile, the read is discarded (a seqlock in which the sequence is the eviction horizon).
import Synchronization

public final class LogRing: @unchecked Sendable {
    public let capacity: Int
    public let arenaBytes: Int
    /// Hosts by number: a record names its host in two bytes of its slot rather than in the arena.
    public let hosts: InternTable
    /// Services by number, the same way: whatever set the service (a line's `[name]`, an OTLP resource), the
    /// record carries it by value.
    public let services: InternTable
    /// Levels and services per block of ids, so that filters skip blocks without reading their records.
    let blockSummaries: BlockSummaries
    /// The bit of a record without a service ("unknown").
    private let unknownServiceBit: UInt64
    /// Writer only: each numbered service's block-summary bit, hashed once (0: not yet).
    private let serviceBitPages: ZeroedPages
    private let serviceBits: UnsafeMutablePointer<UInt64>

    /// `SlotLayout.wordsPerSlot` words per slot, on zero pages: a zero word is an `Atomic(0)`.
    private let slotPages: ZeroedPages
    private let slots: UnsafeMutablePointer<Atomic<UInt64>>
    private let arenaPages: ZeroedPages
    private let arena: UnsafeMutableRawPointer
    /// Ids below this are evicted (or about to be overwritten).
    private let oldestID: Atomic<UInt64>
    /// One past the newest published id.
    private let nextID: Atomic<UInt64>

    // Writer-only state.
    /// Logical (ever-growing) offset where the next record's bytes go; the arena position is this modulo size.
    private var writeOffset: UInt64 = 0
    /// `writeOffset % arenaBytes`, and the slots of the next and oldest ids, kept as they advance: a 64-bit
    /// division costs the writer more than the rest of an append.
    private var writePosition = 0
    private var nextSlot: Int
    private var oldestSlot: Int
    public private(set) var evictedCount: UInt64 = 0

    public static let maxLineBytes = SlotLayout.maxLineBytes
    public static let maxHostBytes = SlotLayout.maxHostBytes
    /// Longer service names are numbered no more; they are stored with their records.
    public static let maxNumberedServiceBytes = 255

    /// `hostCapacity` distinct hosts and `serviceCapacity` distinct services are numbered (at most 65,535, the
    /// width of their slot fields); later ones are stored with each record. The first record gets `firstID`:
    /// a ring that continues a history starts after its last id.
    public init(capacity: Int, arenaBytes: Int, hostCapacity: Int = SlotLayout.maxNumbered,
                serviceCapacity: Int = SlotLayout.maxNumbered, firstID: UInt64 = 1) {
        precondition(capacity > 0 && arenaBytes > 0 && firstID > 0)
        precondition((1...SlotLayout.maxNumbered).contains(hostCapacity) && (1...SlotLayout.maxNumbered).contains(serviceCapacity))
        hosts = InternTable(capacity: hostCapacity, maxNameBytes: SlotLayout.maxHostBytes)
        services = InternTable(capacity: serviceCapacity, maxNameBytes: Self.maxNumberedServiceBytes)
        serviceBitPages = ZeroedPages(byteCount: serviceCapacity * MemoryLayout<UInt64>.stride)
        serviceBits = serviceBitPages.base.bindMemory(to: UInt64.self, capacity: serviceCapacity)
        blockSummaries = BlockSummaries(recordCapacity: capacity, firstID: firstID)
        unknownServiceBit = BlockSummaries.serviceBit(Array("unknown".utf8))
        self.capacity = capacity
        self.arenaBytes = arenaBytes
        slotPages = ZeroedPages(byteCount: capacity * SlotLayout.wordsPerSlot * MemoryLayout<Atomic<UInt64>>.stride)
        slots = slotPages.base.bindMemory(to: Atomic<UInt64>.self, capacity: capacity * SlotLayout.wordsPerSlot)
        arenaPages = ZeroedPages(byteCount: arenaBytes)
        arena = arenaPages.base
        oldestID = Atomic(firstID)
        nextID = Atomic(firstID)
        nextSlot = Int(firstID % UInt64(capacity))
        oldestSlot = nextSlot
    }

    // MARK: Writer (one thread only)

    /// Copies the record into the ring, evicting the oldest as needed, and returns its id.
    /// A record larger than the whole arena is cut to fit.
    @discardableResult
    public func append(_ record: NewRecord) -> UInt64 {
        append(record, serviceNumber: serviceNumber(of: record))
    }

    /// The record's service number in `services`: the one it carries, else looked up (and added); nil for no
    /// service, or one the table cannot number.
    @inline(__always) func serviceNumber(of record: NewRecord) -> Int? {
        record.serviceNumber ?? (record.service.isEmpty ? nil : services.index(of: record.service))
    }

    /// The same, with the service's number in `services` already looked up (nil: none, or not numbered).
    func append(_ record: NewRecord, serviceNumber serviceIndex: Int?) -> UInt64 {
        // A known host or service is a number in the slot; one that finds its table full is stored inline.
        let host = Self.prefix(record.host, SlotLayout.maxHostBytes)
        let hostNumber = (record.hostNumber ?? hosts.index(of: host)).map { $0 + 1 } ?? 0
        let inlineHostBytes = hostNumber == 0 ? host.count : 0
        let service = Self.prefix(record.service, SlotLayout.maxServiceBytes)
        let inlineServiceBytes = serviceIndex == nil ? min(service.count, arenaBytes - inlineHostBytes) : 0
        let lineBytes = min(record.line.count, arenaBytes - inlineHostBytes - inlineServiceBytes)
        // Fields that do not fit whole are dropped: a cut blob would lose its last field anyway.
        let room = arenaBytes - inlineHostBytes - inlineServiceBytes - lineBytes
        let fieldsBytes = record.fields.count <= min(SlotLayout.maxFieldsBytes, room) ? record.fields.count : 0
        let size = inlineHostBytes + inlineServiceBytes + lineBytes + fieldsBytes
        let id = nextID.load(ordering: .relaxed)

        // Records are stored contiguously: one that would straddle the arena's end starts over at its beginning.
        if writePosition + size > arenaBytes {
            writeOffset += UInt64(arenaBytes - writePosition)
            writePosition = 0
        }
        let start = writeOffset
        var cursor = arena.advanced(by: writePosition)
        writeOffset += UInt64(size)
        writePosition += size
        evict(toAppend: id, endingAt: writeOffset)

        @inline(__always) func copy(_ bytes: UnsafeRawBufferPointer, _ count: Int) {
            guard count > 0 else { return }
            cursor.copyMemory(from: bytes.baseAddress!, byteCount: count)
            cursor += count
        }
        copy(host, inlineHostBytes)
        copy(service, inlineServiceBytes)
        copy(record.line, lineBytes)
        copy(record.fields, fieldsBytes)
        let words = SlotWords(
            offset: start, lineBytes: lineBytes, fieldsBytes: fieldsBytes, receivedAtMilliseconds: record.receivedAtMilliseconds,
            hostNumber: hostNumber, serviceNumber: serviceIndex.map { $0 + 1 } ?? 0, inlineServiceBytes: inlineServiceBytes,
            inlineHostBytes: inlineHostBytes, level: record.level, isTruncated: record.isTruncated,
            ingestProtocol: record.ingestProtocol, format: record.format, sourceTimeMilliseconds: record.sourceTimeMilliseconds)
        let slot = slots + nextSlot * SlotLayout.wordsPerSlot
        nextSlot = nextSlot + 1 == capacity ? 0 : nextSlot + 1
        slot[0].store(words.offset, ordering: .relaxed)
        slot[1].store(words.lengths, ordering: .relaxed)
        slot[2].store(words.timeAndHost, ordering: .relaxed)
        slot[3].store(words.attributes, ordering: .relaxed)
        slot[4].store(words.sourceTime, ordering: .relaxed)
        blockSummaries.note(id: id, level: record.level, serviceBit: serviceBit(service, index: serviceIndex))
        nextID.store(id + 1, ordering: .releasing)
        return id
    }

    /// The block-summary bit of a record's service: a numbered service's is hashed once.
    @inline(__always) private func serviceBit(_ service: UnsafeRawBufferPointer, index: Int?) -> UInt64 {
        guard let index else { return service.isEmpty ? unknownServiceBit : BlockSummaries.serviceBit(service, paddedTo: service.count) }
        if serviceBits[index] == 0 { serviceBits[index] = BlockSummaries.serviceBit(service, paddedTo: service.count) }  // a bit is never 0
        return serviceBits[index]
    }

    @inline(__always) private static func prefix(_ bytes: UnsafeRawBufferPointer, _ count: Int) -> UnsafeRawBufferPointer {
        bytes.count > count ? UnsafeRawBufferPointer(rebasing: bytes[..<count]) : bytes
    }

    /// Advances the oldest id until a slot is free for `id` and no live record overlaps bytes below `end`.
    @inline(__always) private func evict(toAppend id: UInt64, endingAt end: UInt64) {
        var oldest = oldestID.load(ordering: .relaxed)
        let horizon = end > UInt64(arenaBytes) ? end - UInt64(arenaBytes) : 0
        let before = oldest
        while oldest < id, id - oldest >= UInt64(capacity) || slots[oldestSlot * SlotLayout.wordsPerSlot].load(ordering: .relaxed) < horizon {
            oldest += 1
            oldestSlot = oldestSlot + 1 == capacity ? 0 : oldestSlot + 1
        }
        guard oldest != before else { return }
        evictedCount += oldest - before
        oldestID.store(oldest, ordering: .relaxed)
        // Readers must see the new horizon before they can see any byte overwritten after this point: a reader
        // that sees a later store then fences (acquiring) before it re-reads the horizon. (Free on x86.)
        atomicMemoryFence(ordering: .releasing)
    }

    // MARK: Readers (any thread)

    /// The ids currently stored: `oldest..<next`.
    public var storedIDs: Range<UInt64> {
        let next = nextID.load(ordering: .acquiring)
        let oldest = oldestID.load(ordering: .acquiring)
        return min(oldest, next)..<next
    }

    public var storedCount: Int { storedIDs.count }

    /// Bytes of the arena between the oldest record and the write position (writer's thread only).
    public var storedBytes: Int {
        let oldest = oldestID.load(ordering: .relaxed)
        guard oldest < nextID.load(ordering: .relaxed) else { return 0 }
        return Int(writeOffset - slot(for: oldest)[0].load(ordering: .relaxed))
    }

    /// Calls `body` with record `id` and returns its result, or nil when the record is not (or no longer) stored.
    /// `body` may see garbage if the record is evicted while it runs; its result is then discarded.
    @inline(__always)
    public func read<Result>(_ id: UInt64, _ body: (LogRecord) -> Result) -> Result? {
        guard id >= oldestID.load(ordering: .acquiring), id < nextID.load(ordering: .acquiring) else { return nil }
        let words = self.words(for: id)
        let summary = words.summary
        let position = Int(words.offset % UInt64(arenaBytes))
        // Words from a concurrently overwritten slot may disagree; never let them point outside the arena.
        guard position + words.recordBytes <= arenaBytes, (summary.hostIndex ?? -1) < hosts.count,
              (summary.serviceIndex ?? -1) < services.count else {
            return nil
        }
        var cursor = arena + position
        func take(_ count: Int) -> UnsafeRawBufferPointer {
            defer { cursor += count }
            return UnsafeRawBufferPointer(start: cursor, count: count)
        }
        let inlineHost = take(words.inlineHostBytes)
        let inlineService = take(words.inlineServiceBytes)
        let line = take(words.lineBytes)
        let fields = take(words.fieldsBytes)
        let record = LogRecord(
            id: id,
            receivedAtMilliseconds: summary.receivedAtMilliseconds,
            level: summary.level,
            ingestProtocol: summary.ingestProtocol,
            isTruncated: words.isTruncated,
            line: line,
            host: summary.hostIndex.map { hosts.name(at: $0) } ?? inlineHost,
            service: summary.serviceIndex.map { services.name(at: $0) } ?? inlineService,
            fields: RecordFields(blob: fields),
            format: summary.format,
            sourceTimeMilliseconds: words.sourceTimeMilliseconds
        )
        let result = body(record)
        atomicMemoryFence(ordering: .acquiring)
        return oldestID.load(ordering: .relaxed) <= id ? result : nil
    }

    // MARK: Raw views for scans that need less than a whole record

    /// Where record `id`'s bytes start (a logical arena offset), or nil when `id` is not stored (any more).
    func startOffset(of id: UInt64) -> UInt64? {
        guard id < nextID.load(ordering: .acquiring) else { return nil }
        let start = slot(for: id)[0].load(ordering: .relaxed)
        atomicMemoryFence(ordering: .acquiring)
        return oldestID.load(ordering: .relaxed) <= id ? start : nil
    }

    /// One past record `id`'s last byte (logical), or nil when `id` is not stored (any more).
    func endOffset(of id: UInt64) -> UInt64? {
        guard id < nextID.load(ordering: .acquiring) else { return nil }
        let words = self.words(for: id)
        atomicMemoryFence(ordering: .acquiring)
        guard oldestID.load(ordering: .relaxed) <= id else { return nil }
        return words.offset + UInt64(words.recordBytes)
    }

    /// Summaries of the records among `ids`, newest first, handed to `body` a batch at a time while it returns
    /// true (one call per batch, not per record: a histogram over a million records is a loop over words).
    /// Reads two words of each slot (three for a name stored inline) and nothing of the text; ends at the
    /// first record evicted. A record torn while `body` reads its names may be counted with garbage: these are
    /// figures, and its names stay inside the arena.
    public func forEachSummaryBatch(newestFirstIn wanted: Range<UInt64>, includingNames: Bool,
                                    _ body: (UnsafeBufferPointer<RecordSummary>) -> Bool) -> WalkEnd {
        let batch = UnsafeMutableBufferPointer<RecordSummary>.allocate(capacity: Self.summaryBatch)
        defer { batch.deallocate() }
        var (count, lowest) = (0, wanted.upperBound)
        let none = UnsafeRawBufferPointer(start: nil, count: 0)
        let end = forEachSlot(newestFirstIn: wanted) { id, slot, timeAndHost, attributes in
            var (host, service) = (none, none)
            if includingNames { (host, service) = names(timeAndHost: timeAndHost, attributes: attributes, offset: slot[0].load(ordering: .relaxed)) }
            batch[count] = RecordSummary(receivedAtMilliseconds: SlotSummary.receivedAtMilliseconds(timeAndHost), attributes: attributes,
                                         host: host, service: service)
            (count, lowest) = (count + 1, id)
            guard count == batch.count else { return true }
            count = 0
            return body(UnsafeBufferPointer(batch))
        }
        if count > 0, !body(UnsafeBufferPointer(rebasing: batch[..<count])) { return .stopped(at: lowest) }
        return end
    }

    /// A slot's host and service: from the tables by number, else stored inline at the record's start. Words
    /// from a slot being overwritten may disagree: numbers beyond the names published so far, or inline
    /// lengths past the arena's end, give empty names, never a view outside.
    private func names(timeAndHost: UInt64, attributes: UInt64, offset: UInt64) -> (UnsafeRawBufferPointer, UnsafeRawBufferPointer) {
        let words = SlotWords(offset: offset, lengths: 0, timeAndHost: timeAndHost, attributes: attributes, sourceTime: 0)
        let summary = words.summary
        var (host, service) = (UnsafeRawBufferPointer(start: nil, count: 0), UnsafeRawBufferPointer(start: nil, count: 0))
        let position = Int(offset % UInt64(arenaBytes))
        if position + words.inlineHostBytes + words.inlineServiceBytes <= arenaBytes {
            host = UnsafeRawBufferPointer(start: arena + position, count: words.inlineHostBytes)
            service = UnsafeRawBufferPointer(start: arena + position + words.inlineHostBytes, count: words.inlineServiceBytes)
        }
        if let index = summary.hostIndex { host = index < hosts.count ? hosts.name(at: index) : UnsafeRawBufferPointer(start: nil, count: 0) }
        if let index = summary.serviceIndex { service = index < services.count ? services.name(at: index) : UnsafeRawBufferPointer(start: nil, count: 0) }
        return (host, service)
    }

    static let summaryBatch = 512

    public func countLevels(newestFirstIn wanted: Range<UInt64>, in buckets: TimeBuckets, levels: UInt64,
                            into counts: UnsafeMutableBufferPointer<UInt64>) -> WalkEnd {
        let end = forEachSlot(newestFirstIn: wanted) { _, _, timeAndHost, attributes in
            let time = SlotSummary.receivedAtMilliseconds(timeAndHost)
            guard time >= buckets.since else { return false }  // records arrive in receive order: the rest is older
            buckets.count(receivedAt: time, level: SlotSummary.level(attributes), levels: levels, into: counts)
            return true
        }
        if case .stopped = end { return .exhausted }  // it stops only where the records before the buckets begin
        return end
    }

    /// The ids of `wanted` the ring holds now, and how a walk that visits all of them ends: `.gone(below:)`
    /// when older ids of `wanted` are no longer here, for an older source to take over.
    func held(_ wanted: Range<UInt64>) -> (ids: Range<UInt64>, end: WalkEnd) {
        let stored = storedIDs
        let lower = min(max(wanted.lowerBound, stored.lowerBound), wanted.upperBound)
        let upper = max(min(wanted.upperBound, stored.upperBound), lower)
        return (lower..<upper, wanted.lowerBound < lower ? .gone(below: lower) : .exhausted)
    }

    /// Each slot among `wanted`, newest first, with its words 2 and 3 (time and host; the attributes), while
    /// `body` returns true. Nothing else of the record is read, and no division is made per record; the walk
    /// ends at the first record evicted. Inlined into its callers, so that their loops stay tight.
    @inline(__always)
    private func forEachSlot(newestFirstIn wanted: Range<UInt64>,
                             _ body: (_ id: UInt64, _ slot: UnsafeMutablePointer<Atomic<UInt64>>, _ timeAndHost: UInt64,
                                      _ attributes: UInt64) -> Bool) -> WalkEnd {
        let (ids, end) = held(wanted)
        guard !ids.isEmpty else { return end }
        var slotIndex = Int((ids.upperBound - 1) % UInt64(capacity))  // then stepped down
        var id = ids.upperBound
        while id > ids.lowerBound {
            id -= 1
            let slot = slots + slotIndex * SlotLayout.wordsPerSlot
            let (timeAndHost, attributes) = (slot[2].load(ordering: .relaxed), slot[3].load(ordering: .relaxed))
            atomicMemoryFence(ordering: .acquiring)
            guard oldestID.load(ordering: .relaxed) <= id else { return .gone(below: id + 1) }
            guard body(id, slot, timeAndHost, attributes) else { return .stopped(at: id) }
            slotIndex = slotIndex == 0 ? capacity - 1 : slotIndex - 1
        }
        return end
    }

    /// The arena's bytes at logical offsets `range`, which must not cross the arena's end. They may be
    /// overwritten while read: callers treat what they find there as a hint and check it through `read`.
    func arenaText(_ range: Range<UInt64>) -> UnsafeRawBufferPointer {
        let position = Int(range.lowerBound % UInt64(arenaBytes))
        precondition(position + range.count <= arenaBytes, "a text scan crossed the arena's end")
        return UnsafeRawBufferPointer(start: arena + position, count: range.count)
    }

    private func slot(for id: UInt64) -> UnsafeMutablePointer<Atomic<UInt64>> {
        slots + Int(id % UInt64(capacity)) * SlotLayout.wordsPerSlot
    }

    @inline(__always) private func words(for id: UInt64) -> SlotWords {
        let slot = self.slot(for: id)
        return SlotWords(offset: slot[0].load(ordering: .relaxed), lengths: slot[1].load(ordering: .relaxed),
                         timeAndHost: slot[2].load(ordering: .relaxed), attributes: slot[3].load(ordering: .relaxed),
                         sourceTime: slot[4].load(ordering: .relaxed))
    }
}
