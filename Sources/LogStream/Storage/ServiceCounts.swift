// Records per service name, counted without creating a String per record: names are numbered by an
// InternTable and counted by number. Distinct names are capped so a sender inventing names cannot grow it.

public final class ServiceCounts {
    public static let maxDistinct = 1024
    public static let maxNameBytes = 128
    /// The name reported for records without a service, and for names past the caps.
    public static let unknown = "unknown"
    public static let other = "(other)"

    private let names = InternTable(capacity: maxDistinct, maxNameBytes: maxNameBytes)
    private let counts = UnsafeMutablePointer<UInt64>.allocate(capacity: maxDistinct)
    private var unknownCount: UInt64 = 0
    private var otherCount: UInt64 = 0

    public init() {
        counts.initialize(repeating: 0, count: Self.maxDistinct)
    }

    deinit { counts.deallocate() }

    @inline(__always)
    public func increment(_ name: UnsafeRawBufferPointer) {
        if name.isEmpty {
            unknownCount += 1
        } else if let index = names.index(of: name) {
            counts[index] += 1
        } else {
            otherCount += 1
        }
    }

    /// Every name with its count, in the order first seen.
    public var all: [(name: String, count: UInt64)] {
        var result = (0..<names.count).map { (String(decoding: names.name(at: $0), as: UTF8.self), counts[$0]) }
        if unknownCount > 0 { result.append((Self.unknown, unknownCount)) }
        if otherCount > 0 { result.append((Self.other, otherCount)) }
        return result
    }
}
