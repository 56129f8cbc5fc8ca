// Counts per service name without creating a String per record: an open-addressing table keyed by the
// name's bytes. Distinct names are capped so a sender inventing names cannot grow it without bound.
import Glibc

public struct ServiceCounts {
    public static let maxDistinct = 1024
    /// The name reported for records without a service, and for names past the cap.
    public static let unknown = "unknown"
    public static let other = "(other)"

    private var names: [[UInt8]] = []
    private var counts: [UInt64] = []
    /// Indexes into `names`, or -1; sized to a power of two at least twice `maxDistinct`.
    private var table = [Int32](repeating: -1, count: 2048)
    private var unknownCount: UInt64 = 0
    private var otherCount: UInt64 = 0

    public init() {}

    public mutating func increment(_ name: UnsafeRawBufferPointer) {
        if name.isEmpty { unknownCount += 1; return }
        var slot = Int(Self.hash(name)) & (table.count - 1)
        while table[slot] >= 0 {
            let index = Int(table[slot])
            if names[index].count == name.count, names[index].withUnsafeBytes({ memcmp($0.baseAddress!, name.baseAddress!, name.count) == 0 }) {
                counts[index] += 1
                return
            }
            slot = (slot + 1) & (table.count - 1)
        }
        guard names.count < Self.maxDistinct else { otherCount += 1; return }
        table[slot] = Int32(names.count)
        names.append(Array(name))
        counts.append(1)
    }

    /// Every name with its count.
    public var all: [(name: String, count: UInt64)] {
        var result = zip(names, counts).map { (String(decoding: $0, as: UTF8.self), $1) }
        if unknownCount > 0 { result.append((Self.unknown, unknownCount)) }
        if otherCount > 0 { result.append((Self.other, otherCount)) }
        return result
    }

    /// FNV-1a.
    private static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var hash: UInt32 = 2_166_136_261
        for byte in bytes { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return hash
    }
}
