import Testing
@testable import LogStream

@Suite("Disk blocks: records round-trip, every flipped byte is caught, the word filter never misses")
struct BlockFormatTests {
    struct Sample {
        var id: UInt64
        var line: String
        var host: String
        var service: String
        var level: LogLevel
        var time: Int64
        var source: Int64?
        var fields: [UInt8] = []
        var format: LogFormat = .plain
        var ingestProtocol: IngestProtocol = .tcp
        var truncated = false
    }

    static func samples(_ count: Int, firstID: UInt64 = 1) -> [Sample] {
        (0..<count).map { index in
            let id = firstID + UInt64(index) + (index > count / 2 ? 3 : 0)  // a gap, as a crash leaves
            var fields = FieldsBuilder()
            if index % 3 == 0 { withBytes("user") { name in withBytes("u\(index)") { fields.append(name: name, value: $0) } } }
            return Sample(id: id, line: "GET /api/orders/\(index) status=\(index % 7 == 0 ? 500 : 200) request_id=\(String(index * 7919, radix: 16))",
                          host: index % 5 == 0 ? "10.0.0.9" : "web-\(index % 3)", service: index % 4 == 0 ? "" : ["pay", "web", "auth"][index % 3],
                          level: LogLevel(rawValue: UInt8(index % 6))!, time: 1_764_000_000_000 + Int64(index) * 3 - (index == 5 ? 100 : 0),
                          source: index % 2 == 0 ? 1_764_000_000_000 - Int64(index) : nil, fields: fields.bytes,
                          format: index % 3 == 0 ? .logfmt : .plain, ingestProtocol: index % 2 == 0 ? .udp : .tcp, truncated: index == 7)
        }
    }

    static func withRecord<R>(_ sample: Sample, _ body: (LogRecord) -> R) -> R {
        withBytes(sample.line) { line in
            withBytes(sample.host) { host in
                withBytes(sample.service) { service in
                    withBytes(sample.fields) { fields in
                        body(LogRecord(id: sample.id, receivedAtMilliseconds: sample.time, level: sample.level,
                                       ingestProtocol: sample.ingestProtocol, isTruncated: sample.truncated, line: line, host: host,
                                       service: service, fields: RecordFields(blob: fields), format: sample.format,
                                       sourceTimeMilliseconds: sample.source))
                    }
                }
            }
        }
    }

    static func seal(_ samples: [Sample]) -> (BlockHeader, [UInt8]) {
        let builder = BlockBuilder()
        for sample in samples { withRecord(sample) { builder.add($0) } }
        return builder.seal()
    }

    static func decode(_ bytes: [UInt8], text: Bool = true) -> DecodedBlock? {
        bytes.withUnsafeBytes { raw in
            guard let header = BlockHeader(decoding: raw) else { return nil }
            return DecodedBlock(header: header, body: UnsafeRawBufferPointer(rebasing: raw[SegmentFormat.headerBytes...]), text: text,
                                decompressor: ZstdDecompressor())
        }
    }

    @Test("every value of every record comes back, ids with gaps, times out of order, names and fields")
    func roundTrip() throws {
        let samples = Self.samples(300)
        let (header, bytes) = Self.seal(samples)
        #expect(header.recordCount == 300 && header.firstID == 1 && header.lastID == samples.last!.id)
        #expect(header.totalBytes == bytes.count)
        #expect(header.oldestReceivedAt == samples.map(\.time).min() && header.newestReceivedAt == samples.map(\.time).max())
        #expect(header.levelCounts.reduce(0, +) == 300 && header.levelBits == 0b111111)
        let block = try #require(Self.decode(bytes))
        #expect(block.count == samples.count)
        for (index, sample) in samples.enumerated() {
            block.withRecord(at: index) { record in
                #expect(record.id == sample.id && record.line.text == sample.line && record.host.text == sample.host)
                #expect(record.service.text == sample.service && record.level == sample.level && record.receivedAtMilliseconds == sample.time)
                #expect(record.sourceTimeMilliseconds == sample.source && record.format == sample.format)
                #expect(record.ingestProtocol == sample.ingestProtocol && record.isTruncated == sample.truncated)
                #expect(Array(record.fields.blob) == sample.fields)
            }
        }
        #expect(block.index(ofFirstAtLeast: samples[200].id) == 200 && block.index(ofFirstAtLeast: 10_000) == 300)
    }

    @Test("a block of layout version 1 still reads; a version this reader does not know is refused")
    func olderVersionsRead() throws {
        // Only the first record has a source time: versions 1 and 2 encode that one alike.
        var samples = Self.samples(40)
        for index in samples.indices.dropFirst() { samples[index].source = nil }
        var (header, bytes) = Self.seal(samples)
        for version: UInt8 in [1, 3] {
            header.version = version
            let rewritten = header.encoded() + bytes[SegmentFormat.headerBytes...]
            let decoded = Self.decode(rewritten)
            if version == 3 { #expect(decoded == nil); continue }
            let block = try #require(decoded)
            #expect(block.count == samples.count)
            block.withRecord(at: 0) { #expect($0.sourceTimeMilliseconds == samples[0].source && $0.line.text == samples[0].line) }
        }
    }

    @Test("the header's service bits and levels are those of its records")
    func headerSummaries() {
        let (header, _) = Self.seal(Self.samples(8))
        for service in ["pay", "web", "auth", "unknown"] {
            #expect(header.serviceBits & BlockSummaries.serviceBit(Array(service.utf8)) != 0)
        }
    }

    @Test("a block without its text still gives the summaries")
    func summariesWithoutText() throws {
        let samples = Self.samples(50)
        let block = try #require(Self.decode(Self.seal(samples).1, text: false))
        for (index, sample) in samples.enumerated() {
            let summary = block.summaryView(at: index, includingNames: true)
            #expect(summary.receivedAtMilliseconds == sample.time && summary.level == sample.level)
            #expect(summary.host.text == sample.host && summary.service.text == sample.service && summary.format == sample.format)
        }
        withExtendedLifetime(block) {}
    }

    @Test("flipping any single byte of a block makes it unreadable: header CRC, body CRC")
    func everyFlipIsCaught() {
        let (_, bytes) = Self.seal(Self.samples(40))
        for position in bytes.indices {
            var damaged = bytes
            damaged[position] ^= 0x5A
            #expect(Self.decode(damaged) == nil, "flip at \(position) of \(bytes.count) went unnoticed")
        }
    }

    @Test("a block cut short anywhere is unreadable")
    func truncation() {
        let (_, bytes) = Self.seal(Self.samples(40))
        for length in stride(from: 0, to: bytes.count, by: 7) {
            #expect(Self.decode(Array(bytes[..<length])) == nil)
        }
    }

    @Test("the word filter holds every word of every line and field value, in any ASCII case, and rejects most others")
    func bloomAgainstFullScan() throws {
        let samples = Self.samples(2000)
        let (_, bytes) = Self.seal(samples)
        let header = try #require(bytes.withUnsafeBytes { BlockHeader(decoding: $0) })
        let bloom = bytes.withUnsafeBytes { TokenBloom(bytes: UnsafeRawBufferPointer(rebasing: $0[SegmentFormat.headerBytes..<SegmentFormat.headerBytes + header.bloomBytes])) }
        var present = Set<[UInt8]>()
        for sample in samples {
            for word in Tokens.words(in: Array(sample.line.utf8)) { present.insert(word) }
            for field in sample.fields.withUnsafeBytes({ Array(RecordFields(blob: $0).map { [UInt8]($0.value) }) }) {
                for word in Tokens.words(in: field) { present.insert(word) }
            }
        }
        let missed = present.filter { !bloom.mayContain(Tokens.hash($0)) }.map { String(decoding: $0, as: UTF8.self) }
        #expect(missed.isEmpty, "\(missed.count) of \(present.count) words missed, such as \(missed.prefix(5))")
        let upper = present.filter { !bloom.mayContain(Tokens.hash($0.map { $0 >= 97 && $0 <= 122 ? $0 - 32 : $0 })) }
        #expect(upper.isEmpty, "\(upper.count) upper-cased words missed")
        let absent = (0..<10_000).map { Array("zz\($0)q".utf8) }
        let falsePositives = absent.filter { bloom.mayContain(Tokens.hash($0)) }.count
        // These lines hold a new word every 25 bytes or so (ids, numbers): about 5 bits a word, 10 % expected.
        #expect(falsePositives < 1_500, "\(falsePositives) of 10,000 absent words passed the filter")
    }

    @Test("words are runs of letters, digits, _ and non-ASCII bytes")
    func tokenizer() {
        #expect(Tokens.words(in: Array("GET /api/v1?x=ünïcode_ok 10.0.0.1:80".utf8)).map { String(decoding: $0, as: UTF8.self) }
                == ["get", "api", "v1", "x", "ünïcode_ok", "10", "0", "0", "1", "80"])
        var hashes: [UInt64] = []
        withBytes("Error: disk-full") { Tokens.forEachWordHash(in: $0) { hashes.append($0) } }
        #expect(hashes == ["error", "disk", "full"].map { Tokens.hash(Array($0.utf8)) })
    }

    @Test("segment names carry the first id and nothing else is taken for one")
    func segmentNames() {
        #expect(SegmentFormat.segmentName(firstID: 42) == "00000000000000000042.lseg")
        #expect(SegmentFormat.firstID(ofSegmentNamed: "00000000000000000042.lseg") == 42)
        for other in ["42.lseg", "notes.txt", "00000000000000000042.lseg.tmp", "0000000000000000004x.lseg", "00000000000000000000.lseg"] {
            #expect(SegmentFormat.firstID(ofSegmentNamed: other) == nil)
        }
    }
}
