// A block read back: its CRC checked, its columns decompressed and decoded into one entry per record, and
// records handed out as the same LogRecord views the ring gives. Anything that does not check out (a CRC, a
// zstd frame, a length, an index) makes the whole block unreadable, never a trap.

public final class DecodedBlock: @unchecked Sendable {
    public let header: BlockHeader
    /// Per record, oldest first.
    private(set) var entries: [Entry] = []
    /// Names and text live in buffers of the block's own, so that the views handed out stay valid for as long
    /// as the block is held (a batch of summaries points into them).
    private var hosts: [Range<Int>] = []
    private var services: [Range<Int>] = []
    private var names = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    /// Lines then field blobs; empty when decoded without text.
    private var text = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    public let hasText: Bool

    struct Entry {
        var id: UInt64
        var receivedAt: Int64
        var sourceTime: Int64?
        var level: LogLevel
        var isTruncated: Bool
        var ingestProtocol: IngestProtocol
        var format: LogFormat
        var host: Int
        /// -1: none.
        var service: Int
        var lineStart: Int
        var lineBytes: Int
        var fieldsStart: Int
        var fieldsBytes: Int
    }

    /// Decodes a block from its header and the bytes after it (`header.bodyBytes` of them). Without `text`,
    /// only what summaries need is decompressed.
    public init?(header: BlockHeader, body: UnsafeRawBufferPointer, text wantsText: Bool, decompressor: ZstdDecompressor) {
        self.header = header
        hasText = wantsText
        guard body.count >= header.bodyBytes else { return nil }
        let body = UnsafeRawBufferPointer(rebasing: body[..<header.bodyBytes])
        guard CRC32.of(body) == header.bodyCRC else { return nil }
        let metaStart = header.bloomBytes
        let textStart = metaStart + header.metaStoredBytes
        var meta = [UInt8](repeating: 0, count: header.metaRawBytes)
        guard meta.withUnsafeMutableBytes({ decompressor.decompress(UnsafeRawBufferPointer(rebasing: body[metaStart..<textStart]), into: $0) }) else { return nil }
        if wantsText {
            text = .allocate(byteCount: header.textRawBytes, alignment: 8)
            guard decompressor.decompress(UnsafeRawBufferPointer(rebasing: body[textStart...]), into: text) else { return nil }
        }
        guard meta.withUnsafeBytes({ decodeMeta($0) }) else { return nil }
    }

    deinit {
        text.deallocate()
        names.deallocate()
    }

    private func decodeMeta(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var reader = ByteReader(bytes)
        var found: [UnsafeRawBufferPointer] = []
        func nameList() -> [Range<Int>] {
            let count = reader.count(atMost: header.recordCount + 1)
            let start = found.count
            found += (0..<count).map { _ in reader.bytesWithLength() }
            return (start..<found.count).map { $0..<$0 + 1 }  // indices into `found`, made byte ranges below
        }
        hosts = nameList()
        services = nameList()
        guard !reader.failed else { return false }
        names = .allocate(byteCount: max(1, found.reduce(0) { $0 + $1.count }), alignment: 1)
        var ranges: [Range<Int>] = []
        var end = 0
        for name in found {
            if !name.isEmpty { UnsafeMutableRawBufferPointer(rebasing: names[end..<end + name.count]).copyMemory(from: name) }
            ranges.append(end..<end + name.count)
            end += name.count
        }
        hosts = hosts.map { ranges[$0.lowerBound] }
        services = services.map { ranges[$0.lowerBound] }
        entries.reserveCapacity(header.recordCount)
        var (id, time) = (header.firstID &- 1, Int64(0))
        var lineStart = 0
        var fieldsLengths = 0
        var previousSource: Int64?
        for _ in 0..<header.recordCount {
            id = id &+ reader.varint() &+ 1
            time = time &+ reader.signedVarint()
            let attributes = reader.byte()
            let format = reader.byte()
            let host = reader.count(atMost: hosts.count - 1)
            let service = reader.count(atMost: services.count) - 1
            let lineBytes = reader.count(atMost: header.textRawBytes)
            let fieldsBytes = reader.count(atMost: header.textRawBytes)
            let source = reader.varint()
            guard !reader.failed, id <= header.lastID, let level = LogLevel(rawValue: attributes & 7),
                  let ingestProtocol = IngestProtocol(rawValue: attributes >> 4), let logFormat = LogFormat(rawValue: format) else { return false }
            var sourceTime: Int64?
            if source != 0 {
                let zigzag = source &- 1
                let reference = header.version >= 2 ? previousSource ?? time : time
                sourceTime = reference &+ (Int64(bitPattern: zigzag >> 1) ^ -Int64(bitPattern: zigzag & 1))
                previousSource = sourceTime
            }
            entries.append(Entry(id: id, receivedAt: time, sourceTime: sourceTime, level: level, isTruncated: attributes & 8 != 0,
                                 ingestProtocol: ingestProtocol, format: logFormat, host: host, service: service,
                                 lineStart: lineStart, lineBytes: lineBytes, fieldsStart: fieldsLengths, fieldsBytes: fieldsBytes))
            lineStart += lineBytes
            fieldsLengths += fieldsBytes
        }
        // Field blobs follow every line; their offsets are known once all lines are counted.
        guard reader.isAtEnd, entries.last?.id == header.lastID, lineStart + fieldsLengths == header.textRawBytes else { return false }
        for index in entries.indices { entries[index].fieldsStart += lineStart }
        return true
    }

    public var count: Int { entries.count }

    /// The index of the first record whose id is at least `id` (`count` when none is).
    func index(ofFirstAtLeast id: UInt64) -> Int {
        var (low, high) = (0, entries.count)
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].id < id { low = middle + 1 } else { high = middle }
        }
        return low
    }

    public func id(at index: Int) -> UInt64 { entries[index].id }

    /// Record `index` as the ring would hand it out; its views live for the call. Needs the text.
    public func withRecord<Result>(at index: Int, _ body: (LogRecord) -> Result) -> Result {
        precondition(hasText)
        let entry = entries[index]
        let text = UnsafeRawBufferPointer(self.text)
        return withExtendedLifetime(self) {
            body(LogRecord(id: entry.id, receivedAtMilliseconds: entry.receivedAt, level: entry.level,
                           ingestProtocol: entry.ingestProtocol, isTruncated: entry.isTruncated,
                           line: UnsafeRawBufferPointer(rebasing: text[entry.lineStart..<entry.lineStart + entry.lineBytes]),
                           host: name(hosts[entry.host]), service: entry.service < 0 ? Self.none : name(services[entry.service]),
                           fields: RecordFields(blob: UnsafeRawBufferPointer(rebasing: text[entry.fieldsStart..<entry.fieldsStart + entry.fieldsBytes])),
                           format: entry.format, sourceTimeMilliseconds: entry.sourceTime))
        }
    }

    /// Record `index` without its text, as histograms and facets read it. Its name views are valid while this
    /// block is held. Without `includingNames`, they are empty.
    func summaryView(at index: Int, includingNames: Bool) -> RecordSummary {
        let entry = entries[index]
        let attributes = SlotWords.attributes(level: entry.level, ingestProtocol: entry.ingestProtocol, format: entry.format)
        guard includingNames else { return RecordSummary(receivedAtMilliseconds: entry.receivedAt, attributes: attributes, host: Self.none, service: Self.none) }
        return RecordSummary(receivedAtMilliseconds: entry.receivedAt, attributes: attributes, host: name(hosts[entry.host]),
                             service: entry.service < 0 ? Self.none : name(services[entry.service]))
    }

    private static var none: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: nil, count: 0) }
    private func name(_ range: Range<Int>) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: names[range]) }

    func receivedAt(at index: Int) -> Int64 { entries[index].receivedAt }
    func level(at index: Int) -> LogLevel { entries[index].level }

    /// Bytes held: for a cache's bound.
    public var residentBytes: Int { text.count + entries.count * MemoryLayout<Entry>.stride }
}
