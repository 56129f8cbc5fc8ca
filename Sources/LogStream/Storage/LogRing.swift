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

    /// Six words per slot: arena start offset; lengths and flags; receive time; service range; fields length;
    /// source time.
    private let slots: UnsafeMutablePointer<Atomic<UInt64>>
    private let arena: UnsafeMutableRawPointer
    /// Ids below this are evicted (or about to be overwritten).
    private let oldestID = Atomic<UInt64>(1)
    /// One past the newest published id.
    private let nextID = Atomic<UInt64>(1)

    // Writer-only state.
    /// Logical (ever-growing) offset where the next record's bytes go; the arena position is this modulo size.
    private var writeOffset: UInt64 = 0
    public private(set) var evictedCount: UInt64 = 0

    static let wordsPerSlot = 6
    static let noSourceTime = Int64.min
    /// A line and its host must fit the 32- and 8-bit length fields of a slot.
    public static let maxLineBytes = Int(UInt32.max)
    public static let maxHostBytes = 255

    public init(capacity: Int, arenaBytes: Int) {
        precondition(capacity > 0 && arenaBytes > 0)
        self.capacity = capacity
        self.arenaBytes = arenaBytes
        let wordCount = capacity * Self.wordsPerSlot
        slots = UnsafeMutablePointer<Atomic<UInt64>>.allocate(capacity: wordCount)
        for index in 0..<wordCount { (slots + index).initialize(to: Atomic(0)) }
        arena = UnsafeMutableRawPointer.allocate(byteCount: arenaBytes, alignment: 64)
    }

    deinit {
        slots.deinitialize(count: capacity * Self.wordsPerSlot)
        slots.deallocate()
        arena.deallocate()
    }

    // MARK: Writer (one thread only)

    /// Copies the record into the ring, evicting the oldest as needed, and returns its id.
    /// A record larger than the whole arena is cut to fit.
    @discardableResult
    public func append(_ record: NewRecord) -> UInt64 {
        let hostBytes = min(record.host.count, Self.maxHostBytes)
        let lineBytes = min(record.line.count, arenaBytes - hostBytes)
        // Fields that do not fit whole are dropped: a cut blob would lose its last field anyway.
        let fieldsBytes = record.fields.count <= arenaBytes - hostBytes - lineBytes ? record.fields.count : 0
        let size = UInt64(hostBytes + lineBytes + fieldsBytes)
        let id = nextID.load(ordering: .relaxed)

        // Records are stored contiguously: one that would straddle the arena's end starts over at its beginning.
        var position = Int(writeOffset % UInt64(arenaBytes))
        if position + Int(size) > arenaBytes {
            writeOffset += UInt64(arenaBytes - position)
            position = 0
        }
        let start = writeOffset
        writeOffset += size
        evict(toAppend: id, endingAt: writeOffset)

        if hostBytes > 0 {
            arena.advanced(by: position).copyMemory(from: record.host.baseAddress!, byteCount: hostBytes)
        }
        if lineBytes > 0 {
            arena.advanced(by: position + hostBytes).copyMemory(from: record.line.baseAddress!, byteCount: lineBytes)
        }
        if fieldsBytes > 0 {
            arena.advanced(by: position + hostBytes + lineBytes).copyMemory(from: record.fields.baseAddress!, byteCount: fieldsBytes)
        }
        let service = record.service.map { $0.clamped(to: 0..<lineBytes) } ?? 0..<0
        let slot = self.slot(for: id)
        slot[0].store(start, ordering: .relaxed)
        slot[1].store(Self.packLengths(line: lineBytes, host: hostBytes, record: record), ordering: .relaxed)
        slot[2].store(UInt64(bitPattern: record.receivedAtMilliseconds), ordering: .relaxed)
        slot[3].store(UInt64(service.lowerBound) << 32 | UInt64(service.count), ordering: .relaxed)
        slot[4].store(UInt64(fieldsBytes), ordering: .relaxed)
        slot[5].store(UInt64(bitPattern: record.sourceTimeMilliseconds ?? Self.noSourceTime), ordering: .relaxed)
        nextID.store(id + 1, ordering: .releasing)
        return id
    }

    /// Advances the oldest id until a slot is free for `id` and no live record overlaps bytes below `end`.
    private func evict(toAppend id: UInt64, endingAt end: UInt64) {
        var oldest = oldestID.load(ordering: .relaxed)
        let horizon = end > UInt64(arenaBytes) ? end - UInt64(arenaBytes) : 0
        let before = oldest
        while oldest < id, id - oldest >= UInt64(capacity) || slot(for: oldest)[0].load(ordering: .relaxed) < horizon {
            oldest += 1
        }
        guard oldest != before else { return }
        evictedCount += oldest - before
        oldestID.store(oldest, ordering: .relaxed)
        // Readers must see the new horizon before they can see any byte overwritten after this point.
        atomicMemoryFence(ordering: .sequentiallyConsistent)
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
    public func read<Result>(_ id: UInt64, _ body: (LogRecord) -> Result) -> Result? {
        guard id >= oldestID.load(ordering: .acquiring), id < nextID.load(ordering: .acquiring) else { return nil }
        let slot = self.slot(for: id)
        let start = slot[0].load(ordering: .relaxed)
        let lengths = slot[1].load(ordering: .relaxed)
        let received = Int64(bitPattern: slot[2].load(ordering: .relaxed))
        let serviceWord = slot[3].load(ordering: .relaxed)
        let fieldsBytes = Int(truncatingIfNeeded: slot[4].load(ordering: .relaxed) & 0xFFFF_FFFF)
        let sourceTime = Int64(bitPattern: slot[5].load(ordering: .relaxed))

        let lineBytes = Int(lengths & 0xFFFF_FFFF)
        let hostBytes = Int(lengths >> 32 & 0xFF)
        let position = Int(start % UInt64(arenaBytes))
        let serviceStart = Int(serviceWord >> 32)
        let serviceBytes = Int(serviceWord & 0xFFFF_FFFF)
        // Words from a concurrently overwritten slot may disagree; never let them point outside the arena.
        guard position + hostBytes + lineBytes + fieldsBytes <= arenaBytes, serviceStart + serviceBytes <= lineBytes else {
            return nil
        }
        let host = UnsafeRawBufferPointer(start: arena + position, count: hostBytes)
        let line = UnsafeRawBufferPointer(start: arena + position + hostBytes, count: lineBytes)
        let record = LogRecord(
            id: id,
            receivedAtMilliseconds: received,
            level: LogLevel(rawValue: UInt8(lengths >> 40 & 0x7)) ?? .info,
            ingestProtocol: IngestProtocol(rawValue: UInt8(lengths >> 43 & 0x1)) ?? .udp,
            isTruncated: lengths >> 44 & 1 == 1,
            line: line,
            host: host,
            service: UnsafeRawBufferPointer(rebasing: line[serviceStart..<(serviceStart + serviceBytes)]),
            fields: RecordFields(blob: UnsafeRawBufferPointer(start: arena + position + hostBytes + lineBytes, count: fieldsBytes)),
            format: LogFormat(rawValue: UInt8(lengths >> 45 & 0x7)) ?? .plain,
            sourceTimeMilliseconds: sourceTime == Self.noSourceTime ? nil : sourceTime
        )
        let result = body(record)
        atomicMemoryFence(ordering: .acquiring)
        return oldestID.load(ordering: .relaxed) <= id ? result : nil
    }

    /// Visits stored records from the newest back, while `body` returns true.
    public func forEachNewestFirst(before id: UInt64? = nil, _ body: (LogRecord) -> Bool) {
        var current = min(id ?? .max, nextID.load(ordering: .acquiring))
        while current > 1 {
            current -= 1
            guard let keepGoing = read(current, body) else { return }  // reached evicted records
            if !keepGoing { return }
        }
    }

    // MARK: Slot layout

    private func slot(for id: UInt64) -> UnsafeMutablePointer<Atomic<UInt64>> {
        slots + Int(id % UInt64(capacity)) * Self.wordsPerSlot
    }

    /// line length: bits 0–31; host length: 32–39; level: 40–42; protocol: 43; truncated: 44; format: 45–47.
    private static func packLengths(line: Int, host: Int, record: NewRecord) -> UInt64 {
        UInt64(line) | UInt64(host) << 32 | UInt64(record.level.rawValue) << 40
            | UInt64(record.ingestProtocol.rawValue) << 43 | (record.isTruncated ? 1 << 44 : 0)
            | UInt64(record.format.rawValue) << 45
    }
}
