// Short byte strings (service names, hosts) numbered once, so a record or a counter refers to a name by a small
// index instead of carrying its bytes. One writer adds names; readers on any thread read the names published so
// far without a lock (a name's bytes and entry are written before the count that publishes them).
//
// Hand-written rather than a Dictionary<[UInt8], Int>: looking a name up must not build an Array from the
// bytes in the receive buffer (an allocation per line), and readers on other threads need a stable view.
import Synchronization

public final class InternTable: @unchecked Sendable {
    public let capacity: Int
    public let maxNameBytes: Int

    /// Name bytes, one after another; entry `i` is `offsets[i]..<offsets[i + 1]`.
    private let names: UnsafeMutableRawPointer
    private let offsets: UnsafeMutablePointer<Int>
    private let published = Atomic<Int>(0)

    // Writer-only: open addressing over entry indexes plus one (0 empty), power-of-two sized, at most half
    // full, on zero pages: a table of 65,535 names costs memory only for the slots it has used.
    private let slotPages: ZeroedPages
    private let slots: UnsafeMutablePointer<Int32>
    private let slotMask: Int
    private let hashes: UnsafeMutablePointer<UInt64>
    /// Per-process random seed, so a sender cannot choose names that all collide.
    private let seed = UInt64.random(in: .min ... .max)

    public init(capacity: Int, maxNameBytes: Int) {
        precondition(capacity > 0 && capacity < Int(Int32.max) / 2 && maxNameBytes > 0)
        self.capacity = capacity
        self.maxNameBytes = maxNameBytes
        names = .allocate(byteCount: capacity * maxNameBytes, alignment: 8)
        offsets = .allocate(capacity: capacity + 1)
        offsets.initialize(to: 0)
        var slotCount = 1
        while slotCount < capacity * 2 { slotCount <<= 1 }
        slotPages = ZeroedPages(byteCount: slotCount * MemoryLayout<Int32>.stride)
        slots = slotPages.base.bindMemory(to: Int32.self, capacity: slotCount)
        slotMask = slotCount - 1
        hashes = .allocate(capacity: capacity)
    }

    deinit {
        names.deallocate()
        offsets.deallocate()
        hashes.deallocate()
    }

    /// Names published so far (any thread).
    public var count: Int { published.load(ordering: .acquiring) }

    /// The bytes of entry `index`, which must be below `count` as read by the caller (any thread).
    public func name(at index: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: names + offsets[index], count: offsets[index + 1] - offsets[index])
    }

    /// The index of `name`, added if new (writer only). Nil when the name is longer than `maxNameBytes` or
    /// the table is full.
    @inline(__always)
    public func index(of name: UnsafeRawBufferPointer) -> Int? {
        guard name.count <= maxNameBytes else { return nil }
        let hash = Self.hash(name, seed: seed)
        var slot = Int(truncatingIfNeeded: hash) & slotMask
        let stored = published.load(ordering: .relaxed)
        while slots[slot] > 0 {
            let index = Int(slots[slot]) - 1
            if hashes[index] == hash, offsets[index + 1] - offsets[index] == name.count,
               Self.equal(UnsafeRawPointer(names + offsets[index]), name) {
                return index
            }
            slot = (slot + 1) & slotMask
        }
        guard stored < capacity else { return nil }
        if name.count > 0 { (names + offsets[stored]).copyMemory(from: name.baseAddress!, byteCount: name.count) }
        offsets[stored + 1] = offsets[stored] + name.count
        hashes[stored] = hash
        slots[slot] = Int32(stored + 1)
        published.store(stored + 1, ordering: .releasing)
        return stored
    }

    /// Eight bytes at a time, multiply-mixed (names are short; FNV's byte loop cost more than the lookup). The
    /// last word overlaps the one before it rather than being read byte by byte.
    @inline(__always)
    static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
        var hash = seed ^ UInt64(bytes.count) &* 0x9E37_79B9_7F4A_7C15
        func mix(_ word: UInt64) {
            hash = (hash ^ word) &* 0xFF51_AFD7_ED55_8CCD
            hash ^= hash >> 32
        }
        if bytes.count >= 8 {
            var offset = 0
            while offset + 8 < bytes.count {
                mix(bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
                offset += 8
            }
            mix(bytes.loadUnaligned(fromByteOffset: bytes.count - 8, as: UInt64.self))
        } else {
            var tail: UInt64 = 0
            for index in 0..<bytes.count { tail |= UInt64(bytes[index]) << (8 * UInt64(index)) }
            mix(tail)
        }
        hash = hash &* 0xC4CE_B9FE_1A85_EC53
        return hash ^ hash >> 29
    }

    /// `stored` (as long as `name`) holds the same bytes: word compares, inline, for names of a few words.
    @inline(__always)
    static func equal(_ stored: UnsafeRawPointer, _ name: UnsafeRawBufferPointer) -> Bool {
        if name.count < 8 {
            guard name.count >= 4 else { return name.elementsEqual(UnsafeRawBufferPointer(start: stored, count: name.count)) }
            let last = name.count - 4  // two four-byte words, overlapping for fewer than eight bytes
            return stored.loadUnaligned(as: UInt32.self) == name.loadUnaligned(as: UInt32.self)
                && stored.loadUnaligned(fromByteOffset: last, as: UInt32.self) == name.loadUnaligned(fromByteOffset: last, as: UInt32.self)
        }
        var offset = 0
        while offset + 8 < name.count {
            guard stored.loadUnaligned(fromByteOffset: offset, as: UInt64.self) == name.loadUnaligned(fromByteOffset: offset, as: UInt64.self) else {
                return false
            }
            offset += 8
        }
        let last = name.count - 8
        return stored.loadUnaligned(fromByteOffset: last, as: UInt64.self) == name.loadUnaligned(fromByteOffset: last, as: UInt64.self)
    }
}
