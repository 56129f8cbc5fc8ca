// Which levels and which services each block of 64 consecutive ids holds, kept by the ring's writer as it
// appends: a search for `level:error service:payment` skips every block that cannot hold a match without
// reading its records. Levels are an exact bit set; services a one-bit-per-name Bloom filter of 64 bits (a
// block may claim a service it lacks, never the reverse). 16 bytes per 64 records.
import Synchronization

final class BlockSummaries: @unchecked Sendable {
    static let idsPerBlockShift: UInt64 = 6

    /// Two words per entry: service bits, then level bits. Block `b` lives in entry `b % entryCount`.
    private let pages: ZeroedPages
    private let words: UnsafeMutablePointer<Atomic<UInt64>>
    private let entryCount: Int
    /// Writer only: the entry of the block being filled.
    private var writerEntry = 0

    /// Entries for every block a ring of `recordCapacity` can hold at once, plus the one being filled: an entry
    /// is reused only once all the ids of its previous block are evicted.
    /// The first id may fall inside a block (a ring continuing a history): that block's entry starts empty.
    init(recordCapacity: Int, firstID: UInt64 = 1) {
        entryCount = recordCapacity >> Int(Self.idsPerBlockShift) + 2
        pages = ZeroedPages(byteCount: entryCount * 2 * MemoryLayout<Atomic<UInt64>>.stride)
        words = pages.base.bindMemory(to: Atomic<UInt64>.self, capacity: entryCount * 2)
        writerEntry = Int((firstID >> Self.idsPerBlockShift) % UInt64(entryCount))
    }

    /// Writer: record `id` has `level` and the service whose bit is `serviceBit`. Called before `id` is published.
    @inline(__always) func note(id: UInt64, level: LogLevel, serviceBit: UInt64) {
        let levelBit = UInt64(1) << UInt64(level.rawValue)
        if id & (1 << Self.idsPerBlockShift - 1) == 0 {  // a block begins: its entry starts afresh
            writerEntry = Int((id >> Self.idsPerBlockShift) % UInt64(entryCount))
            words[writerEntry * 2].store(serviceBit, ordering: .relaxed)
            words[writerEntry * 2 + 1].store(levelBit, ordering: .relaxed)
        } else {
            let entry = words + writerEntry * 2
            entry[0].store(entry[0].load(ordering: .relaxed) | serviceBit, ordering: .relaxed)
            entry[1].store(entry[1].load(ordering: .relaxed) | levelBit, ordering: .relaxed)
        }
    }

    /// Whether block `block` may hold a record with one of `key`'s levels and services. Only ids already
    /// published may be asked about; a block whose ids were evicted may answer anything.
    func mayHold(block: UInt64, _ key: BlockKey) -> Bool {
        let entry = words + Int(block % UInt64(entryCount)) * 2
        return entry[1].load(ordering: .relaxed) & key.levels != 0 && entry[0].load(ordering: .relaxed) & key.services != 0
    }

    /// A service name's bit: a hash of its bytes with ASCII case folded (`| 0x20`: the same for either case of a
    /// letter), so that `service:Payment` and a record of `payment` agree. A record without a service counts as
    /// "unknown", as the API shows it. Eight bytes a step (the writer hashes every record's service): `name`
    /// must be followed by at least `8 - name.count` readable bytes when it is shorter than eight.
    @inline(__always) static func serviceBit(_ name: UnsafeRawBufferPointer, paddedTo readableBytes: Int) -> UInt64 {
        let fold: UInt64 = 0x2020_2020_2020_2020
        let multiplier: UInt64 = 0xFF51_AFD7_ED55_8CCD
        var hash = UInt64(name.count) &* 0x9E37_79B9_7F4A_7C15
        guard name.count >= 8 else {
            var word: UInt64 = 0
            if readableBytes >= 8 {
                word = name.baseAddress!.loadUnaligned(as: UInt64.self) & (1 << UInt64(8 * name.count) &- 1)  // past `name`: padding
            } else {
                for index in 0..<name.count { word |= UInt64(name[index]) << UInt64(8 * index) }
            }
            return 1 << (((hash ^ (word | fold)) &* multiplier) >> 58)
        }
        var offset = 0
        while offset + 8 <= name.count {
            hash = (hash ^ (name.loadUnaligned(fromByteOffset: offset, as: UInt64.self) | fold)) &* multiplier
            offset += 8
        }
        if offset < name.count {  // the last eight bytes again, overlapping
            hash = (hash ^ (name.loadUnaligned(fromByteOffset: name.count - 8, as: UInt64.self) | fold)) &* multiplier
        }
        return 1 << (hash >> 58)
    }

    static func serviceBit(_ name: [UInt8]) -> UInt64 {
        (name + [UInt8](repeating: 0, count: 8)).withUnsafeBytes { serviceBit(UnsafeRawBufferPointer(rebasing: $0[..<name.count]), paddedTo: $0.count) }
    }
}

/// The levels and services a filter can match, as bit sets over BlockSummaries' bits: a block whose bits miss
/// either set holds no match.
public struct BlockKey: Equatable, Sendable {
    var levels: UInt64
    var services: UInt64

    public static let any = BlockKey(levels: ~0, services: ~0)
    var isAny: Bool { self == .any }

    func intersection(_ other: BlockKey) -> BlockKey { BlockKey(levels: levels & other.levels, services: services & other.services) }
    func union(_ other: BlockKey) -> BlockKey { BlockKey(levels: levels | other.levels, services: services | other.services) }
}
