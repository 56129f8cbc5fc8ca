// Records per service name since start, counted by the service's number in the ring's service table (which
// the record carries anyway): no second lookup of the name per record. Distinct names are capped so a sender
// inventing names cannot grow the output.

public final class ServiceCounts {
    public static let maxDistinct = 1024
    public static let maxNameBytes = 128
    /// The name reported for records without a service, and for names past the caps.
    public static let unknown = "unknown"
    public static let other = "(other)"

    private let names: InternTable
    private let counts: UnsafeMutablePointer<UInt64>
    private var unknownCount: UInt64 = 0
    private var otherCount: UInt64 = 0

    /// `names`: the table the numbers passed to `increment` refer to.
    public init(names: InternTable) {
        self.names = names
        counts = .allocate(capacity: Self.maxDistinct)
        counts.initialize(repeating: 0, count: Self.maxDistinct)
    }

    deinit { counts.deallocate() }

    /// One record of the service numbered `number` (nil: not numbered), whose name is `nameBytes` long (0: none).
    @inline(__always)
    public func increment(number: Int?, nameBytes: Int) {
        if nameBytes == 0 {
            unknownCount += 1
        } else if let number, number < Self.maxDistinct, nameBytes <= Self.maxNameBytes {
            counts[number] += 1
        } else {
            otherCount += 1
        }
    }

    /// Every name with its count, in the order first seen.
    public var all: [(name: String, count: UInt64)] {
        var result = (0..<min(names.count, Self.maxDistinct)).filter { counts[$0] > 0 }.map {
            (String(decoding: names.name(at: $0), as: UTF8.self), counts[$0])
        }
        if unknownCount > 0 { result.append((Self.unknown, unknownCount)) }
        if otherCount > 0 { result.append((Self.other, otherCount)) }
        return result
    }
}
