import Glibc
import Testing
@testable import LogStream

/// A data directory in a fresh temporary folder, with segments written from `BlockFormatTests.Sample`s.
final class TemporaryHistory {
    let path: String
    let directory: DataDirectory

    init() throws {
        var template = Array("/tmp/logstream-unit-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        path = String(cString: made!)
        directory = try DataDirectory(path: path + "/data")
    }

    deinit {
        for name in (try? FileSystem.entries(of: directory.path)) ?? [] { try? FileSystem.removeFile(directory.path + "/" + name) }
        rmdir(directory.path)
        rmdir(path)
    }

    /// Writes a segment of blocks of `perBlock` samples each; returns the bytes written.
    @discardableResult
    func writeSegment(_ samples: [BlockFormatTests.Sample], perBlock: Int, extra: [UInt8] = []) throws -> [UInt8] {
        var bytes = SegmentFormat.fileMagic
        for start in stride(from: 0, to: samples.count, by: perBlock) {
            bytes += BlockFormatTests.seal(Array(samples[start..<min(start + perBlock, samples.count)])).1
        }
        bytes += extra
        let file = try File(directory.segmentPath(firstID: samples[0].id), for: .creatingNew)
        try file.write(bytes)
        return bytes
    }

    func recover() throws -> RecoveredHistory {
        try Recovery.recover(directory, segmentBytes: 1 << 20, report: { _ in })
    }

    func source() throws -> SegmentSource {
        SegmentSource(catalog: SegmentCatalog(try recover().segments), report: { _ in })
    }
}

@Suite("Disk history read back: recovery of torn and corrupt files, and searches against a full scan")
struct SegmentHistoryTests {
    static func consecutive(_ count: Int, from first: UInt64 = 1) -> [BlockFormatTests.Sample] {
        BlockFormatTests.samples(count * 2, firstID: first).prefix(count).enumerated().map { index, sample in
            var sample = sample
            sample.id = first + UInt64(index)
            sample.time = 1_764_000_000_000 + Int64(index) * 10
            return sample
        }
    }

    @Test("segments are read back whole, and the next id follows the last")
    func recoversWholeSegments() throws {
        let history = try TemporaryHistory()
        try history.writeSegment(Self.consecutive(500), perBlock: 100)
        try history.writeSegment(Self.consecutive(300, from: 501), perBlock: 100)
        let recovered = try history.recover()
        #expect(recovered.segments.map(\.blocks.count) == [5, 3])
        #expect(recovered.nextIDOnDisk == 801 && recovered.tornBytesCut == 0 && recovered.corruptStretches == 0)
        #expect(recovered.appendable?.offset == recovered.segments[1].bytes)
    }

    @Test("a torn tail is cut back to the last whole block, whatever its length")
    func cutsATornTail() throws {
        for tail in [1, 50, 103, 104, 500] {
            let history = try TemporaryHistory()
            let samples = Self.consecutive(300)
            let partial = BlockFormatTests.seal(Self.consecutive(50, from: 301)).1
            let bytes = try history.writeSegment(samples, perBlock: 100, extra: Array(partial.prefix(tail)))
            let recovered = try history.recover()
            #expect(recovered.tornBytesCut == tail && recovered.nextIDOnDisk == 301)
            let size = try File(history.directory.segmentPath(firstID: 1), for: .reading).size()
            #expect(size == bytes.count - tail)
        }
    }

    @Test("a whole last block whose body fails its CRC is torn too; a corrupt block in the middle is skipped when read")
    func corruptBlocks() throws {
        let history = try TemporaryHistory()
        var bytes = try history.writeSegment(Self.consecutive(400), perBlock: 100)
        let blocks = try history.recover().segments[0].blocks
        bytes[blocks[1].offset + SegmentFormat.headerBytes + 10] ^= 1  // the second block's body
        bytes[bytes.count - 5] ^= 1  // the last block's body
        let file = try File(history.directory.segmentPath(firstID: 1), for: .writing)
        try file.write(bytes)
        let recovered = try history.recover()
        #expect(recovered.segments[0].blocks.count == 3 && recovered.nextIDOnDisk == 301)
        let source = SegmentSource(catalog: SegmentCatalog(recovered.segments), report: { _ in })
        var seen: [UInt64] = []
        _ = source.walkNewestFirst(1..<1000, hints: .none, { seen.append($0.id); return true }, discardTorn: {})
        #expect(seen == Array((201...300).reversed()) + Array((1...100).reversed()))
        #expect(source.corruptBlocksSkipped == 1)
    }

    @Test("a corrupt header in the middle is passed over to the next block that checks out")
    func resynchronizes() throws {
        let history = try TemporaryHistory()
        var bytes = try history.writeSegment(Self.consecutive(400), perBlock: 100)
        let blocks = try history.recover().segments[0].blocks
        bytes[blocks[1].offset + 20] ^= 0xFF  // the second block's header
        let file = try File(history.directory.segmentPath(firstID: 1), for: .writing)
        try file.write(bytes)
        let recovered = try history.recover()
        #expect(recovered.segments[0].blocks.map(\.header.firstID) == [1, 201, 301] && recovered.corruptStretches == 1)
    }

    @Test("files that are not the server's are left alone")
    func foreignFiles() throws {
        let history = try TemporaryHistory()
        let foreign = try File(history.directory.segmentPath(firstID: 7), for: .creatingNew)
        try foreign.write(Array("not a segment at all".utf8))
        let notes = try File(history.directory.path + "/notes.txt", for: .creatingNew)
        try notes.write(Array("mine".utf8))
        let recovered = try history.recover()
        #expect(recovered.segments.isEmpty && recovered.ignoredSegments.count == 1)
        #expect(FileSystem.kind(of: history.directory.path + "/notes.txt") == .regularFile)
        #expect(FileSystem.kind(of: history.directory.segmentPath(firstID: 7)) == .regularFile)
    }

    @Test("walks, summaries, level counts and first ids agree with a scan of every record")
    func sourceAgainstFullScan() throws {
        let history = try TemporaryHistory()
        let samples = Self.consecutive(1000)
        try history.writeSegment(Array(samples[..<600]), perBlock: 128)
        try history.writeSegment(Array(samples[600...]), perBlock: 128)
        let source = try history.source()
        #expect(source.storedIDs == 1..<1001)
        for ids: Range<UInt64> in [1..<1001, 100..<700, 599..<602, 990..<2000] {
            let wanted = samples.filter { ids.contains($0.id) }
            var seen: [UInt64] = []
            #expect(source.walkNewestFirst(ids, hints: .none, { seen.append($0.id); return true }, discardTorn: {}) == .exhausted)
            #expect(seen == wanted.map(\.id).reversed())
            var summaries: [(Int64, LogLevel, String)] = []
            source.forEachSummary(newestFirstIn: ids) { summaries.append(($0.receivedAtMilliseconds, $0.level, $0.service.text)); return true }
            #expect(summaries.map(\.0) == wanted.reversed().map(\.time) && summaries.map(\.2) == wanted.reversed().map(\.service))
        }
        // Stopping, and the levels-and-services skip.
        var visited = 0
        #expect(source.walkNewestFirst(1..<1001, hints: .none, { _ in visited += 1; return visited < 3 }, discardTorn: {}) == .stopped(at: 998))
        let errors = ScanHints(blockKey: BlockKey(levels: 1 << UInt64(LogLevel.error.rawValue), services: ~0))
        var errorIDs: [UInt64] = []
        _ = source.walkNewestFirst(1..<1001, hints: errors, { if $0.level == .error { errorIDs.append($0.id) }; return true }, discardTorn: {})
        #expect(errorIDs == samples.filter { $0.level == .error }.map(\.id).reversed())
        // Histogram counts, from headers where a block falls in one bucket and from the records elsewhere.
        for width in [Int64(7), 1000, 1_000_000] {
            let buckets = TimeBuckets(since: samples[0].time, until: samples[999].time, width: width, count: Int((samples[999].time - samples[0].time) / width) + 1)
            var counts = [UInt64](repeating: 0, count: buckets.count * 6)
            _ = counts.withUnsafeMutableBufferPointer { source.countLevels(newestFirstIn: 1..<1001, in: buckets, levels: ~0, into: $0) }
            var expected = [UInt64](repeating: 0, count: buckets.count * 6)
            for sample in samples { expected[Int((sample.time - buckets.since) / width) * 6 + Int(sample.level.rawValue)] += 1 }
            #expect(counts == expected, "bucket width \(width)")
        }
        #expect(source.firstID(receivedSince: samples[650].time, among: 1..<1001) == 651)
        #expect(source.read(777) { $0.line.text } == samples[776].line && source.read(5000) { _ in 0 } == nil)
    }

    @Test("rare words: a block whose filter lacks a required word is never decompressed")
    func requiredWords() throws {
        let history = try TemporaryHistory()
        try history.writeSegment(Self.consecutive(1000), perBlock: 100)
        let source = try history.source()
        let word = Tokens.hash(Array("request_id".utf8))
        var visited = 0
        _ = source.walkNewestFirst(1..<1001, hints: ScanHints(requiredWords: [word]), { _ in visited += 1; return true }, discardTorn: {})
        #expect(visited == 1000)
        visited = 0
        _ = source.walkNewestFirst(1..<1001, hints: ScanHints(requiredWords: [Tokens.hash(Array("nowhere".utf8))]), { _ in visited += 1; return true }, discardTorn: {})
        #expect(visited < 200, "blocks passed over: \(visited) records visited")
    }
}

@Suite("Retention arithmetic and the batches on their way to the disk")
struct RetentionAndBatchTests {
    @Test("the oldest files go first, until the bound holds, never the one being written")
    func retention() {
        let policy = RetentionPolicy(maxBytes: 1000, maxAgeMilliseconds: 100)
        #expect(policy.segmentsToRemove(sizes: [300, 300, 300], newest: [900, 950, 990], incoming: 50, now: 1000) == 0)
        #expect(policy.segmentsToRemove(sizes: [300, 300, 300], newest: [900, 950, 990], incoming: 200, now: 1000) == 1)
        #expect(policy.segmentsToRemove(sizes: [900, 900, 900], newest: [900, 950, 990], incoming: 0, now: 1000) == 2)
        #expect(policy.segmentsToRemove(sizes: [10, 10, 10], newest: [800, 850, 990], incoming: 0, now: 1000) == 2, "older than the period")
        #expect(policy.segmentsToRemove(sizes: [5000], newest: [1], incoming: 0, now: 1000) == 0)
        #expect(RetentionPolicy(maxBytes: 10 << 30, maxAgeMilliseconds: 1).segmentBytes == 256 << 20)
        #expect(RetentionPolicy(maxBytes: 1 << 20, maxAgeMilliseconds: 1).segmentBytes == 128 << 10)
    }

    @Test("a batch gives back every record as appended, by index and by id")
    func batchRoundTrip() {
        var batch = RecordBatch()
        let samples = SegmentHistoryTests.consecutive(50, from: 1000)
        for sample in samples {
            BlockFormatTests.withRecord(sample) { record in
                batch.append(NewRecord(line: record.line, host: record.host, level: record.level, service: record.service,
                                       ingestProtocol: record.ingestProtocol, isTruncated: record.isTruncated,
                                       receivedAtMilliseconds: record.receivedAtMilliseconds, fields: record.fields.blob,
                                       format: record.format, sourceTimeMilliseconds: record.sourceTimeMilliseconds), id: record.id)
            }
        }
        #expect(batch.ids == 1000..<1050 && batch.count == 50)
        var index = 0
        batch.forEach { record in
            let sample = samples[index]
            #expect(record.id == sample.id && record.line.text == sample.line && record.host.text == sample.host)
            #expect(record.service.text == sample.service && record.sourceTimeMilliseconds == sample.source && Array(record.fields.blob) == sample.fields)
            index += 1
        }
        #expect(batch.withRecord(id: 1049) { $0.line.text } == samples[49].line && batch.withRecord(id: 999) { _ in 0 } == nil)
        batch.removeAll()
        #expect(batch.isEmpty && batch.byteCount == 0)
    }
}
