// Counts per name without a String or an allocation per count: names are numbered by an InternTable and
// counted by number. Shared by the service counters of /api/stats and the facets of a search.

public final class NameCounts {
    private let names: InternTable
    private let counts: UnsafeMutablePointer<UInt64>

    public init(capacity: Int, maxNameBytes: Int) {
        names = InternTable(capacity: capacity, maxNameBytes: maxNameBytes)
        counts = .allocate(capacity: capacity)
        counts.initialize(repeating: 0, count: capacity)
    }

    deinit { counts.deallocate() }

    /// Counts `name` once; false, counting nothing, when it is longer than the limit or the table is full.
    @inline(__always) @discardableResult
    public func increment(_ name: UnsafeRawBufferPointer) -> Bool {
        guard let index = names.index(of: name) else { return false }
        counts[index] += 1
        return true
    }

    /// Every name counted, in the order first seen.
    public var all: [(name: String, count: UInt64)] {
        (0..<names.count).map { (String(decoding: names.name(at: $0), as: UTF8.self), counts[$0]) }
    }
}
