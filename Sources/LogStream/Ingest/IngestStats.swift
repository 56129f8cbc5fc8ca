// Counters for /api/stats, kept by the reactor thread as records arrive. Plain words in one allocation: an
// Array per counter group would cost a uniqueness check on every increment of every line.

public final class IngestStats {
    private let counters: UnsafeMutablePointer<UInt64>
    public let byService: ServiceCounts
    /// Received counts sampled once a second, newest last, for the rate.
    private var samples: [UInt64] = []
    static let rateWindowSeconds = 5

    // Counter layout: received, truncated, then one per level, then one per protocol.
    private static let levelBase = 2
    private static let protocolBase = levelBase + LogLevel.allCases.count
    private static let counterCount = protocolBase + IngestProtocol.allCases.count

    /// `serviceNames`: the table whose numbers records carry for their services.
    public init(serviceNames: InternTable) {
        byService = ServiceCounts(names: serviceNames)
        counters = .allocate(capacity: Self.counterCount)
        counters.initialize(repeating: 0, count: Self.counterCount)
    }

    deinit { counters.deallocate() }

    public var received: UInt64 { counters[0] }
    public var truncated: UInt64 { counters[1] }
    public var byLevel: [UInt64] { (0..<LogLevel.allCases.count).map { counters[Self.levelBase + $0] } }
    public var byProtocol: [UInt64] { (0..<IngestProtocol.allCases.count).map { counters[Self.protocolBase + $0] } }

    @inline(__always)
    public func count(level: LogLevel, protocol ingestProtocol: IngestProtocol, serviceNumber: Int?, serviceBytes: Int,
                      isTruncated: Bool) {
        counters[0] += 1
        if isTruncated { counters[1] += 1 }
        counters[Self.levelBase + Int(level.rawValue)] += 1
        counters[Self.protocolBase + Int(ingestProtocol.rawValue)] += 1
        byService.increment(number: serviceNumber, nameBytes: serviceBytes)
    }

    /// Called once a second.
    public func sampleRate() {
        samples.append(received)
        if samples.count > Self.rateWindowSeconds + 1 { samples.removeFirst() }
    }

    /// Records per second over the last few seconds.
    public var rate: Double {
        guard let first = samples.first, let last = samples.last, samples.count > 1 else { return 0 }
        return Double(last - first) / Double(samples.count - 1)
    }
}
