// Counters for /api/stats, kept by the reactor thread as records arrive.

public final class IngestStats {
    public private(set) var received: UInt64 = 0
    public private(set) var truncated: UInt64 = 0
    public private(set) var byLevel = [UInt64](repeating: 0, count: LogLevel.allCases.count)
    public private(set) var byProtocol = [UInt64](repeating: 0, count: IngestProtocol.allCases.count)
    public private(set) var byService = ServiceCounts()
    /// Received counts sampled once a second, newest last, for the rate.
    private var samples: [UInt64] = []
    static let rateWindowSeconds = 5

    public init() {}

    public func count(level: LogLevel, protocol ingestProtocol: IngestProtocol, service: UnsafeRawBufferPointer,
                               isTruncated: Bool) {
        received += 1
        if isTruncated { truncated += 1 }
        byLevel[Int(level.rawValue)] += 1
        byProtocol[Int(ingestProtocol.rawValue)] += 1
        byService.increment(service)
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
