// Records per service name, counted without creating a String per record (NameCounts). Distinct names are
// capped so a sender inventing names cannot grow it.

public final class ServiceCounts {
    public static let maxDistinct = 1024
    public static let maxNameBytes = 128
    /// The name reported for records without a service, and for names past the caps.
    public static let unknown = "unknown"
    public static let other = "(other)"

    private let named = NameCounts(capacity: maxDistinct, maxNameBytes: maxNameBytes)
    private var unknownCount: UInt64 = 0
    private var otherCount: UInt64 = 0

    public init() {}

    @inline(__always)
    public func increment(_ name: UnsafeRawBufferPointer) {
        if name.isEmpty {
            unknownCount += 1
        } else if !named.increment(name) {
            otherCount += 1
        }
    }

    /// Every name with its count, in the order first seen.
    public var all: [(name: String, count: UInt64)] {
        var result = named.all
        if unknownCount > 0 { result.append((Self.unknown, unknownCount)) }
        if otherCount > 0 { result.append((Self.other, otherCount)) }
        return result
    }
}
