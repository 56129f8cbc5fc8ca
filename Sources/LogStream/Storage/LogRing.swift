// The newest records, bounded by count and by bytes. One writer appends; any number of readers on other
// threads read without locks. Record bytes live in a circular byte arena; per-record metadata in fixed slots.
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
    /// Levels and services per block of ids, so that filters skip blocks without reading their records.
    let blockSummaries: BlockSummaries
    /// The bit of a record without a service ("unknown").
    private let unknownServiceBit: UInt64

    /// Five words per slot (layout under "Slot layout"), on zero pages: a zero word is an `Atomic(0)`.
    private let slotPages: ZeroedPages
    private let slots: UnsafeMutablePointer<Atomic<UInt64>>
    private let arenaPages: ZeroedPages
    private let arena: UnsafeMutableRawPointer
    /// Ids below this are evicted (or about to be overwritten).
    private let oldestID = Atomic<UInt64>(1)
    /// One past the newest published id.
    private let nextID = Atomic<UInt64>(1)

    // Writer-only state.
    /// Logical (ever-growing) offset where the next record's bytes go; the arena position is this modulo size.
    private var writeOffset: UInt64 = 0
    /// `writeOffset % arenaBytes`, and the slots of the next and oldest ids, kept as they advance: a 64-bit
    /// division costs the writer more than the rest of an append.
    private var writePosition = 0
    private var nextSlot: Int
    private var oldestSlot: Int
    public private(set) var evictedCount: UInt64 = 0

    static let wordsPerSlot = 5
    static let noSourceTime = Int64.min
    /// The widths of the slot's length fields.
    public static let maxLineBytes = Int(UInt32.max)
    public static let maxHostBytes = 255
    static let maxFieldsBytes = 1 << 24 - 1
    static let maxServiceBytes = Int(UInt16.max)

    /// `hostCapacity` distinct hosts are numbered (at most 65,535, the width of the slot's field); later ones are
    /// stored with each line.
    public init(capacity: Int, arenaBytes: Int, hostCapacity: Int = 65_535) {
        precondition(capacity > 0 && arenaBytes > 0 && (1...65_535).contains(hostCapacity))
        hosts = InternTable(capacity: hostCapacity, maxNameBytes: Self.maxHostBytes)
        blockSummaries = BlockSummaries(recordCapacity: capacity)
        unknownServiceBit = BlockSummaries.serviceBit(Array("unknown".utf8))
        self.capacity = capacity
        self.arenaBytes = arenaBytes
        slotPages = ZeroedPages(byteCount: capacity * Self.wordsPerSlot * MemoryLayout<Atomic<UInt64>>.stride)
        slots = slotPages.base.bindMemory(to: Atomic<UInt64>.self, capacity: capacity * Self.wordsPerSlot)
        arenaPages = ZeroedPages(byteCount: arenaBytes)
        arena = arenaPages.base
        nextSlot = 1 % capacity  // ids start at 1
        oldestSlot = nextSlot
    }

    // MARK: Writer (one thread only)

    /// Copies the record into the ring, evicting the oldest as needed, and returns its id.
    /// A record larger than the whole arena is cut to fit.
    @discardableResult
    public func append(_ record: NewRecord) -> UInt64 {
        // A known host is a number in the slot; a host that finds the table full is stored with the line.
        let host = record.host.count > Self.maxHostBytes ? UnsafeRawBufferPointer(rebasing: record.host[..<Self.maxHostBytes]) : record.host
        let hostNumber = (record.hostNumber ?? hosts.index(of: host)).map { $0 + 1 } ?? 0
        let inlineHostBytes = hostNumber == 0 ? host.count : 0
        let lineBytes = min(record.line.count, arenaBytes - inlineHostBytes)
        // Fields that do not fit whole are dropped: a cut blob would lose its last field anyway.
        let fieldsBytes = record.fields.count <= min(Self.maxFieldsBytes, arenaBytes - inlineHostBytes - lineBytes) ? record.fields.count : 0
        let size = UInt64(inlineHostBytes + lineBytes + fieldsBytes)
        let id = nextID.load(ordering: .relaxed)

        // Records are stored contiguously: one that would straddle the arena's end starts over at its beginning.
        if writePosition + Int(size) > arenaBytes {
            writeOffset += UInt64(arenaBytes - writePosition)
            writePosition = 0
        }
        let position = writePosition
        let start = writeOffset
        writeOffset += size
        writePosition += Int(size)
        evict(toAppend: id, endingAt: writeOffset)

        if inlineHostBytes > 0 {
            arena.advanced(by: position).copyMemory(from: host.baseAddress!, byteCount: inlineHostBytes)
        }
        if lineBytes > 0 {
            arena.advanced(by: position + inlineHostBytes).copyMemory(from: record.line.baseAddress!, byteCount: lineBytes)
        }
        if fieldsBytes > 0 {
            arena.advanced(by: position + inlineHostBytes + lineBytes).copyMemory(from: record.fields.baseAddress!, byteCount: fieldsBytes)
        }
        let service = record.service.map { $0.clamped(to: 0..<lineBytes) } ?? 0..<0
        let slot = slots + nextSlot * Self.wordsPerSlot
        nextSlot = nextSlot + 1 == capacity ? 0 : nextSlot + 1
        slot[0].store(start, ordering: .relaxed)
        slot[1].store(Self.packLengths(line: lineBytes, fields: fieldsBytes, record: record), ordering: .relaxed)
        slot[2].store(UInt64(truncatingIfNeeded: record.receivedAtMilliseconds) & Self.receivedMask | UInt64(hostNumber) << 48,
                      ordering: .relaxed)
        slot[3].store(UInt64(service.lowerBound) << 32 | UInt64(min(service.count, Self.maxServiceBytes)) << 16
                      | UInt64(inlineHostBytes) << 8, ordering: .relaxed)
        slot[4].store(UInt64(bitPattern: record.sourceTimeMilliseconds ?? Self.noSourceTime), ordering: .relaxed)
        let serviceBit = service.isEmpty ? unknownServiceBit
            : BlockSummaries.serviceBit(UnsafeRawBufferPointer(rebasing: record.line[service]), paddedTo: record.line.count - service.lowerBound)
        blockSummaries.note(id: id, level: record.level, serviceBit: serviceBit)
        nextID.store(id + 1, ordering: .releasing)
        return id
    }

    /// Advances the oldest id until a slot is free for `id` and no live record overlaps bytes below `end`.
    @inline(__always) private func evict(toAppend id: UInt64, endingAt end: UInt64) {
        var oldest = oldestID.load(ordering: .relaxed)
        let horizon = end > UInt64(arenaBytes) ? end - UInt64(arenaBytes) : 0
        let before = oldest
        while oldest < id, id - oldest >= UInt64(capacity) || slots[oldestSlot * Self.wordsPerSlot].load(ordering: .relaxed) < horizon {
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
        let slot = self.slot(for: id)
        let start = slot[0].load(ordering: .relaxed)
        let lengths = slot[1].load(ordering: .relaxed)
        let timeWord = slot[2].load(ordering: .relaxed)
        let serviceWord = slot[3].load(ordering: .relaxed)
        let sourceTime = Int64(bitPattern: slot[4].load(ordering: .relaxed))

        let summary = SlotSummary(lengths: lengths, timeWord: timeWord)
        let (lineBytes, fieldsBytes) = (Self.lineBytes(lengths), Self.fieldsBytes(lengths))
        let inlineHostBytes = Self.inlineHostBytes(serviceWord)
        let position = Int(start % UInt64(arenaBytes))
        let serviceStart = Int(serviceWord >> 32)
        let serviceBytes = Int(serviceWord >> 16 & 0xFFFF)
        // Words from a concurrently overwritten slot may disagree; never let them point outside the arena.
        guard position + inlineHostBytes + lineBytes + fieldsBytes <= arenaBytes, serviceStart + serviceBytes <= lineBytes,
              (summary.hostIndex ?? -1) < hosts.count else {
            return nil
        }
        let host = summary.hostIndex.map { hosts.name(at: $0) } ?? UnsafeRawBufferPointer(start: arena + position, count: inlineHostBytes)
        let line = UnsafeRawBufferPointer(start: arena + position + inlineHostBytes, count: lineBytes)
        let record = LogRecord(
            id: id,
            receivedAtMilliseconds: summary.receivedAtMilliseconds,
            level: summary.level,
            ingestProtocol: summary.ingestProtocol,
            isTruncated: lengths >> 60 & 1 == 1,
            line: line,
            host: host,
            service: UnsafeRawBufferPointer(rebasing: line[serviceStart..<(serviceStart + serviceBytes)]),
            fields: RecordFields(blob: UnsafeRawBufferPointer(start: arena + position + inlineHostBytes + lineBytes, count: fieldsBytes)),
            format: summary.format,
            sourceTimeMilliseconds: sourceTime == Self.noSourceTime ? nil : sourceTime
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
        let slot = slot(for: id)
        let (start, lengths, serviceWord) = (slot[0].load(ordering: .relaxed), slot[1].load(ordering: .relaxed), slot[3].load(ordering: .relaxed))
        atomicMemoryFence(ordering: .acquiring)
        guard oldestID.load(ordering: .relaxed) <= id else { return nil }
        return start + UInt64(Self.lineBytes(lengths) + Self.fieldsBytes(lengths) + Self.inlineHostBytes(serviceWord))
    }

    /// What a record's slot alone says, without its text.
    struct SlotSummary {
        var receivedAtMilliseconds: Int64
        var level: LogLevel
        var ingestProtocol: IngestProtocol
        var format: LogFormat
        /// The host's index in `hosts`; nil when the host is stored with the line (the table was full).
        var hostIndex: Int?
    }

    /// The slot summaries of the records in `ids`, newest first, while `body` returns true; ends at the first
    /// record evicted. Reads three words of each slot and nothing else: histograms and facets of levels, hosts,
    /// protocols and formats.
    func forEachSlotSummary(newestFirstIn ids: Range<UInt64>, _ body: (SlotSummary) -> Bool) {
        let ids = ids.clamped(to: storedIDs)
        guard !ids.isEmpty else { return }
        var slotIndex = Int((ids.upperBound - 1) % UInt64(capacity))  // then stepped down: no division per record
        var id = ids.upperBound
        while id > ids.lowerBound {
            id -= 1
            let slot = slots + slotIndex * Self.wordsPerSlot
            let (lengths, timeWord) = (slot[1].load(ordering: .relaxed), slot[2].load(ordering: .relaxed))
            atomicMemoryFence(ordering: .acquiring)
            guard oldestID.load(ordering: .relaxed) <= id else { return }
            guard body(SlotSummary(lengths: lengths, timeWord: timeWord)) else { return }
            slotIndex = slotIndex == 0 ? capacity - 1 : slotIndex - 1
        }
    }

    /// The arena's bytes at logical offsets `range`, which must not cross the arena's end. They may be
    /// overwritten while read: callers treat what they find there as a hint and check it through `read`.
    func arenaText(_ range: Range<UInt64>) -> UnsafeRawBufferPointer {
        let position = Int(range.lowerBound % UInt64(arenaBytes))
        precondition(position + range.count <= arenaBytes, "a text scan crossed the arena's end")
        return UnsafeRawBufferPointer(start: arena + position, count: range.count)
    }

    // MARK: Slot layout

    private func slot(for id: UInt64) -> UnsafeMutablePointer<Atomic<UInt64>> {
        slots + Int(id % UInt64(capacity)) * Self.wordsPerSlot
    }

    /// Word 0: the record's logical arena offset. Word 1 (below): lengths and flags. Word 2: receive time in
    /// milliseconds (bits 0–47, good until the year 10889) and the host's number in `hosts` plus one (48–63; 0
    /// when the host is stored in the arena before the line). Word 3: service start (32–63) and length (16–31)
    /// in the line, inline host length (8–15). Word 4: source time, or `noSourceTime`.
    static let receivedMask: UInt64 = 1 << 48 - 1

    @inline(__always) static func lineBytes(_ lengths: UInt64) -> Int { Int(lengths & 0xFFFF_FFFF) }
    @inline(__always) static func fieldsBytes(_ lengths: UInt64) -> Int { Int(lengths >> 32 & UInt64(maxFieldsBytes)) }
    @inline(__always) static func inlineHostBytes(_ serviceWord: UInt64) -> Int { Int(serviceWord >> 8 & 0xFF) }

    /// line length: bits 0–31; fields length: 32–55; level: 56–58; protocol: 59; truncated: 60; format: 61–63.
    @inline(__always) private static func packLengths(line: Int, fields: Int, record: NewRecord) -> UInt64 {
        UInt64(line) | UInt64(fields) << 32 | UInt64(record.level.rawValue) << 56
            | UInt64(record.ingestProtocol.rawValue) << 59 | (record.isTruncated ? 1 << 60 : 0)
            | UInt64(record.format.rawValue) << 61
    }
}

extension LogRing.SlotSummary {
    /// Decodes a slot's words 1 (lengths and flags) and 2 (receive time and host number): the one place that
    /// reads their layout back.
    @inline(__always) init(lengths: UInt64, timeWord: UInt64) {
        let hostNumber = Int(timeWord >> 48)
        self.init(receivedAtMilliseconds: Int64(bitPattern: timeWord & LogRing.receivedMask),
                  level: LogLevel(rawValue: UInt8(lengths >> 56 & 0x7)) ?? .info,
                  ingestProtocol: IngestProtocol(rawValue: UInt8(lengths >> 59 & 0x1)) ?? .udp,
                  format: LogFormat(rawValue: UInt8(lengths >> 61 & 0x7)) ?? .plain,
                  hostIndex: hostNumber > 0 ? hostNumber - 1 : nil)
    }
}
