// Counts over the records a filter and a window select: a histogram of levels per time bucket (the dashboard's
// chart) and the most common values of one attribute (its facets). Both walk the window like a listing
// (RecordWindow.walkNewestFirst), or, when only levels filter and the counted value is in the slot, the
// source's summaries. A record torn by eviction may already be counted: these are figures, not records, so
// that is accepted.

public struct LevelHistogram: Equatable, Sendable {
    public var since: Int64
    public var bucketMilliseconds: Int64
    /// One row per bucket, oldest first; each row counts records per level (`LogLevel.rawValue` order).
    public var counts: [[UInt64]]

    public static let maxBuckets = 1000

    /// `buckets` buckets over `since...until` (receive time), at least one millisecond each, counting the
    /// records of `window` (its ids; its times are replaced by `since` and `until`).
    public init(source: any RecordSource, filter: RecordFilter, window: RecordWindow = RecordWindow(), since: Int64, until: Int64,
                buckets: Int) {
        let (width, bucketCount) = Self.bucketWidth(since: since, until: until, buckets: buckets)
        self.since = since
        bucketMilliseconds = width
        let levels = LogLevel.allCases.count
        // One flat buffer, written through a pointer: nested arrays mutated inside the closure cost a
        // uniqueness check per record.
        var flat = [UInt64](repeating: 0, count: bucketCount * levels)
        var covered = window
        (covered.since, covered.until) = (since, until)
        flat.withUnsafeMutableBufferPointer { counts in
            if let wanted = filter.levelsWhenOnlyLevelCounts {
                // Only levels to match (or nothing): the source counts, from what it keeps per record (the
                // ring: two words of each slot), without reading a record.
                let buckets = TimeBuckets(since: since, until: until, width: width, count: bucketCount)
                _ = source.countLevels(newestFirstIn: covered.ids(in: source), in: buckets, levels: wanted, into: counts)
                return
            }
            _ = covered.walkNewestFirst(in: source, matching: filter) { record in
                let bucket = Int((record.receivedAtMilliseconds - since) / width)
                if bucket < bucketCount { counts[bucket * levels + Int(record.level.rawValue)] += 1 }
                return true
            }
        }
        counts = stride(from: 0, to: flat.count, by: levels).map { Array(flat[$0..<($0 + levels)]) }
    }
}

public struct Facets: Equatable, Sendable {
    public enum Attribute: Equatable, Sendable {
        case service, level, host, protocolName, format
        case field([UInt8])

        /// `service`, `level`, `host`, `protocol`, `format` or `field.<name>`.
        public init?(_ name: String) {
            switch name {
            case "service": self = .service
            case "level": self = .level
            case "host": self = .host
            case "protocol": self = .protocolName
            case "format": self = .format
            case _ where name.hasPrefix("field.") && name.count > 6: self = .field(Array(name.utf8.dropFirst(6)))
            default: return nil
            }
        }

        /// Whether a record's summary holds the value (its text need not be read).
        var isInSummary: Bool {
            switch self {
            case .level, .host, .service, .protocolName, .format: true
            case .field: false
            }
        }
    }

    /// The most common values, most common first (ties by value), at most `limit`.
    public var top: [(value: String, count: UInt64)]
    /// Matching records whose value is not in `top` (or has no value for a field).
    public var others: UInt64
    public var total: UInt64

    public static let maxDistinct = 10_000

    public static func == (lhs: Facets, rhs: Facets) -> Bool {
        lhs.others == rhs.others && lhs.total == rhs.total && lhs.top.elementsEqual(rhs.top) { $0 == $1 }
    }

    public init(source: any RecordSource, filter: RecordFilter, window: RecordWindow, attribute: Attribute, limit: Int) {
        var tally = Tally()
        if let levels = filter.levelsWhenOnlyLevelCounts, attribute.isInSummary {
            tally.countSummaries(of: source, window: window, levels: levels, attribute: attribute)
        } else {
            tally.countRecords(of: source, window: window, filter: filter, attribute: attribute)
        }
        var counted: [(value: String, count: UInt64)]
        switch attribute {
        case .level: counted = LogLevel.allCases.map { ($0.name, tally.byRawValue[Int($0.rawValue)]) }
        case .protocolName: counted = IngestProtocol.allCases.map { ($0.name, tally.byRawValue[Int($0.rawValue)]) }
        case .format: counted = LogFormat.allCases.map { ($0.name, tally.byRawValue[Int($0.rawValue)]) }
        case .service, .host, .field: counted = tally.names.all.map { ($0.name, $0.count) }
        }
        let sorted = counted.filter { $0.count > 0 }.sorted { $0.count != $1.count ? $0.count > $1.count : $0.value < $1.value }
        top = Array(sorted.prefix(max(0, limit)))
        others = tally.uncounted + sorted.dropFirst(max(0, limit)).reduce(0) { $0 + $1.count }
        total = tally.total
    }

    /// Counts without an allocation per record: levels, protocols and formats (small enums) by raw value; names
    /// and field values by NameCounts.
    private struct Tally {
        var byRawValue = [UInt64](repeating: 0, count: SlotLayout.formatCodes)
        let names = NameCounts(capacity: Facets.maxDistinct, maxNameBytes: 255)
        var uncounted: UInt64 = 0
        var total: UInt64 = 0
        static let unknown = Array("unknown".utf8)

        mutating func tally(_ value: UnsafeRawBufferPointer) {
            if !names.increment(value) { uncounted += 1 }
        }

        /// Only levels to match, and the value is in the summary: no record's text is read.
        mutating func countSummaries(of source: any RecordSource, window: RecordWindow, levels: UInt64, attribute: Attribute) {
            Self.unknown.withUnsafeBytes { unknown in
                _ = source.forEachSummaryBatch(newestFirstIn: window.ids(in: source),
                                               includingNames: attribute == .host || attribute == .service) { batch in
                    for record in batch {
                        if let since = window.since, record.receivedAtMilliseconds < since { return false }  // receive order
                        if let until = window.until, record.receivedAtMilliseconds > until { continue }
                        guard levels & 1 << UInt64(record.level.rawValue) != 0 else { continue }
                        total += 1
                        switch attribute {
                        case .level: byRawValue[Int(record.level.rawValue)] += 1
                        case .protocolName: byRawValue[Int(record.ingestProtocol.rawValue)] += 1
                        case .format: byRawValue[Int(record.format.rawValue)] += 1
                        case .host: tally(record.host)
                        case .service: tally(record.service.isEmpty ? unknown : record.service)
                        case .field: preconditionFailure("not in a summary")
                        }
                    }
                    return true
                }
            }
        }

        mutating func countRecords(of source: any RecordSource, window: RecordWindow, filter: RecordFilter, attribute: Attribute) {
            Self.unknown.withUnsafeBytes { unknown in
                _ = window.walkNewestFirst(in: source, matching: filter) { record in
                    total += 1
                    switch attribute {
                    case .level: byRawValue[Int(record.level.rawValue)] += 1
                    case .protocolName: byRawValue[Int(record.ingestProtocol.rawValue)] += 1
                    case .format: byRawValue[Int(record.format.rawValue)] += 1
                    case .service: tally(record.service.isEmpty ? unknown : record.service)
                    case .host: tally(record.host)
                    case .field(let name):
                        if let value = record.fields.value(named: name) { tally(value) } else { uncounted += 1 }
                    }
                    return true
                }
            }
        }
    }
}
