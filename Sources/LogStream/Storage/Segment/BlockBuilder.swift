// Gathers records into the next block and seals it: the columns of SegmentFormat.swift, compressed, with the
// header and the word filter. Reused from block to block; owned by the thread that writes the disk history.

public final class BlockBuilder {
    private var meta = ByteWriter()
    private var lines: [UInt8] = []
    private var fieldBlobs: [UInt8] = []
    /// Each line's length, so that words are taken line by line (lines are stored without separators).
    private var lineLengths: [Int32] = []
    private var hosts = NameDictionary()
    private var services = NameDictionary()
    private var levelCounts = [UInt32](repeating: 0, count: LogLevel.allCases.count)
    private var firstID: UInt64 = 0
    private var lastID: UInt64 = 0
    private var lastReceivedAt: Int64 = 0
    private var lastSourceTime: Int64?
    private var oldestReceivedAt = Int64.max
    private var newestReceivedAt = Int64.min
    public private(set) var recordCount = 0
    private let compressor: ZstdCompressor

    public init(compressor: ZstdCompressor = ZstdCompressor()) {
        self.compressor = compressor
        lines.reserveCapacity(SegmentFormat.blockTextBytes + 64 * 1024)
    }

    public var isEmpty: Bool { recordCount == 0 }
    /// The raw bytes gathered: the block is sealed when its text reaches `SegmentFormat.blockTextBytes`.
    public var textBytes: Int { lines.count + fieldBlobs.count }
    public var isFull: Bool { textBytes >= SegmentFormat.blockTextBytes || recordCount >= SegmentFormat.maxBlockRecords }
    /// The next id expected after the last record added (0 when empty).
    public var ids: Range<UInt64> { isEmpty ? 0..<0 : firstID..<lastID + 1 }

    /// Adds a record; ids must grow.
    public func add(_ record: LogRecord) {
        if isEmpty {
            (firstID, lastID, lastReceivedAt, lastSourceTime) = (record.id, record.id - 1, 0, nil)  // the first time is stored whole
        }
        precondition(record.id > lastID, "block records must come in id order")
        meta.varint(record.id - lastID - 1)
        meta.signedVarint(record.receivedAtMilliseconds &- lastReceivedAt)
        meta.bytes.append(record.level.rawValue & 0x7 | (record.isTruncated ? 8 : 0) | record.ingestProtocol.rawValue << 4)
        meta.bytes.append(record.format.rawValue)
        meta.varint(hosts.index(of: record.host))
        if record.service.isEmpty { services.usedNone = true }
        meta.varint(record.service.isEmpty ? 0 : services.index(of: record.service) + 1)
        meta.varint(record.line.count)
        meta.varint(record.fields.blob.count)
        if let source = record.sourceTimeMilliseconds {
            let delta = source &- (lastSourceTime ?? record.receivedAtMilliseconds)
            meta.varint(UInt64(bitPattern: delta << 1 ^ delta >> 63) &+ 1)
            lastSourceTime = source
        } else {
            meta.varint(0)
        }
        lines.append(contentsOf: record.line)
        lineLengths.append(Int32(record.line.count))
        fieldBlobs.append(contentsOf: record.fields.blob)
        levelCounts[Int(record.level.rawValue)] += 1
        lastID = record.id
        lastReceivedAt = record.receivedAtMilliseconds
        oldestReceivedAt = min(oldestReceivedAt, record.receivedAtMilliseconds)
        newestReceivedAt = max(newestReceivedAt, record.receivedAtMilliseconds)
        recordCount += 1
    }

    /// The block of everything added (header, word filter, compressed columns), and the builder emptied.
    public func seal() -> (header: BlockHeader, bytes: [UInt8]) {
        precondition(!isEmpty)
        var bloom = TokenBloom(forTextBytes: textBytes)
        lines.withUnsafeBytes { text in
            var start = 0
            for length in lineLengths {
                bloom.insertWords(of: UnsafeRawBufferPointer(rebasing: text[start..<start + Int(length)]))
                start += Int(length)
            }
        }
        fieldBlobs.withUnsafeBytes { blobs in  // blobs back to back read as one
            for field in RecordFields(blob: blobs) { bloom.insertWords(of: field.value) }
        }
        var names = ByteWriter()
        hosts.write(to: &names)
        services.write(to: &names)
        var rawMeta = names.bytes
        rawMeta.append(contentsOf: meta.bytes)

        var body = ByteWriter()
        bloom.append(to: &body)
        var output = body.bytes
        let metaStored = rawMeta.withUnsafeBytes { compressor.compress($0, appendingTo: &output) }
        lines.append(contentsOf: fieldBlobs)
        let textStored = lines.withUnsafeBytes { compressor.compress($0, appendingTo: &output) }
        let unknownBit = BlockSummaries.serviceBit(Array("unknown".utf8))
        let header = BlockHeader(
            firstID: firstID, lastID: lastID, recordCount: recordCount, bloomBytes: bloom.byteCount,
            metaStoredBytes: metaStored, metaRawBytes: rawMeta.count, textStoredBytes: textStored, textRawBytes: lines.count,
            oldestReceivedAt: oldestReceivedAt, newestReceivedAt: newestReceivedAt,
            serviceBits: services.names.reduce(services.usedNone ? unknownBit : 0) { $0 | BlockSummaries.serviceBit($1) },
            levelCounts: levelCounts, bodyCRC: output.withUnsafeBytes { CRC32.of($0) })
        var block = header.encoded()
        block.append(contentsOf: output)
        reset()
        return (header, block)
    }

    private func reset() {
        meta.bytes.removeAll(keepingCapacity: true)
        lines.removeAll(keepingCapacity: true)
        fieldBlobs.removeAll(keepingCapacity: true)
        lineLengths.removeAll(keepingCapacity: true)
        hosts = NameDictionary()
        services = NameDictionary()
        levelCounts = [UInt32](repeating: 0, count: LogLevel.allCases.count)
        (recordCount, oldestReceivedAt, newestReceivedAt) = (0, .max, .min)
    }
}

/// A block's hosts or services, numbered in order of first appearance. The last name looked up is checked
/// first: records from one sender come in runs.
struct NameDictionary {
    private(set) var names: [[UInt8]] = []
    private var numbers: [[UInt8]: Int] = [:]
    private var last = -1
    /// Whether a record without a name was added (services: "unknown").
    var usedNone = false

    mutating func index(of name: UnsafeRawBufferPointer) -> Int {
        if last >= 0, names[last].elementsEqual(name) { return last }
        let key = [UInt8](name)
        if let known = numbers[key] {
            last = known
            return known
        }
        names.append(key)
        numbers[key] = names.count - 1
        last = names.count - 1
        return last
    }

    func write(to writer: inout ByteWriter) {
        writer.varint(names.count)
        for name in names { name.withUnsafeBytes { writer.bytesWithLength($0) } }
    }
}
