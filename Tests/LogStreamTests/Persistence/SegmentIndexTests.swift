import Testing
@testable import LogStream

@Suite("Segment indexes: the headers of a closed segment in one file, trusted only when they check out")
struct SegmentIndexTests {
    /// A segment of four blocks, its index, and the blocks as hopping finds them.
    static func indexedSegment(_ history: TemporaryHistory, from first: UInt64 = 1) throws -> (bytes: [UInt8], blocks: [BlockEntry]) {
        let bytes = try history.writeSegment(SegmentHistoryTests.consecutive(400, from: first), perBlock: 100)
        let (blocks, _, _) = bytes.withUnsafeBytes { Recovery.hop($0, size: bytes.count, after: 0) }
        try history.directory.writeIndex(firstID: first, SegmentIndex.encode(blocks, segmentBytes: bytes.count))
        return (bytes, blocks)
    }

    @Test("an index gives back every offset and header; any flipped byte, a cut, or another segment size is refused")
    func roundTripAndRejection() throws {
        var blocks: [BlockEntry] = []
        for index in 0..<3 {
            let header = BlockFormatTests.seal(SegmentHistoryTests.consecutive(10, from: UInt64(1 + index * 10))).0
            blocks.append(BlockEntry(offset: 8 + index * 5000, header: header))
        }
        let encoded = SegmentIndex.encode(blocks, segmentBytes: 20_000)
        let decoded = try #require(encoded.withUnsafeBytes { SegmentIndex.decode($0, segmentBytes: 20_000) })
        #expect(decoded.map { $0.offset } == blocks.map { $0.offset })
        #expect(decoded.map { $0.header } == blocks.map { $0.header })
        #expect(encoded.withUnsafeBytes { SegmentIndex.decode($0, segmentBytes: 20_001) } == nil)
        #expect(encoded.withUnsafeBytes { SegmentIndex.decode($0, segmentBytes: 20_000, after: 1) } == nil, "ids must follow the previous segment's")
        for index in encoded.indices {
            var flipped = encoded
            flipped[index] ^= 0x10
            #expect(flipped.withUnsafeBytes { SegmentIndex.decode($0, segmentBytes: 20_000) } == nil)
        }
        for length in [0, 10, encoded.count - 1] {
            #expect(Array(encoded.prefix(length)).withUnsafeBytes { SegmentIndex.decode($0, segmentBytes: 20_000) } == nil)
        }
    }

    @Test("start-up takes a closed segment's blocks from its index, not from its headers")
    func recoveryUsesTheIndex() throws {
        let history = try TemporaryHistory()
        var (bytes, blocks) = try Self.indexedSegment(history)
        try history.writeSegment(SegmentHistoryTests.consecutive(100, from: 401), perBlock: 100)
        // A header the index makes unnecessary to read: hopping would skip its block as a corrupt stretch.
        bytes[blocks[1].offset + 20] ^= 0xFF
        try File(history.directory.segmentPath(firstID: 1), for: .writing).write(bytes)
        let recovered = try history.recover()
        #expect(recovered.segments[0].blocks.map(\.header.firstID) == [1, 101, 201, 301] && recovered.corruptStretches == 0)
        #expect(recovered.nextIDOnDisk == 501)
        // Without it, the headers are hopped through.
        try FileSystem.removeFile(history.directory.indexPath(firstID: 1))
        #expect(try history.recover().segments[0].blocks.map(\.header.firstID) == [1, 201, 301])
    }

    @Test("a stale index (its segment grew after it) is ignored; an orphan one is removed")
    func staleAndOrphanIndexes() throws {
        let history = try TemporaryHistory()
        var (bytes, _) = try Self.indexedSegment(history)
        bytes += BlockFormatTests.seal(SegmentHistoryTests.consecutive(50, from: 401)).1
        try File(history.directory.segmentPath(firstID: 1), for: .writing).write(bytes)
        try history.writeSegment(SegmentHistoryTests.consecutive(10, from: 451), perBlock: 10)
        let recovered = try history.recover()
        #expect(recovered.segments[0].blocks.count == 5 && recovered.nextIDOnDisk == 461)
        try history.directory.writeIndex(firstID: 999, [1, 2, 3])
        _ = try history.recover()
        #expect(FileSystem.kind(of: history.directory.indexPath(firstID: 999)) == nil)
        #expect(FileSystem.kind(of: history.directory.indexPath(firstID: 1)) == .regularFile)
    }
}
