// A closed segment's block headers gathered in one small file beside it, so that start-up reads one file in
// order instead of one header a block from all over the segment (on a cold page cache that is one disk read
// a block: seconds for 10 GB). It only saves time: a missing, cut or stale index (its segment is not the
// size it names) is ignored and the segment's headers are hopped through as before.
//
// Layout (SegmentFormat's conventions): the 8-byte magic "LSIDX\0\0\1", u64 the segment's size in bytes,
// u32 block count, then per block u64 offset and its 104 header bytes as in the segment, then u32 CRC-32 of
// everything before it.

public enum SegmentIndex {
    static let magic: [UInt8] = Array("LSIDX".utf8) + [0, 0, 1]
    static let suffix = ".lidx"

    /// The index of a segment of `segmentBytes` bytes holding `blocks` (offsets and headers, oldest first).
    public static func encode(_ blocks: [BlockEntry], segmentBytes: Int) -> [UInt8] {
        var writer = ByteWriter()
        writer.bytes.reserveCapacity(magic.count + 16 + blocks.count * (8 + SegmentFormat.headerBytes))
        writer.bytes.append(contentsOf: magic)
        writer.fixed(UInt64(segmentBytes))
        writer.fixed(UInt32(blocks.count))
        for block in blocks {
            writer.fixed(UInt64(block.offset))
            writer.bytes.append(contentsOf: block.header.encoded())
        }
        let crc = writer.bytes.withUnsafeBytes { CRC32.of($0) }
        writer.fixed(crc)
        return writer.bytes
    }

    /// The blocks an index names, if it checks out (magic, CRC, every header's own CRC, offsets in order
    /// within the segment, ids growing past `previousLastID`, as Recovery.hop wants them) and describes a
    /// segment of exactly `segmentBytes`; else nil.
    public static func decode(_ bytes: UnsafeRawBufferPointer, segmentBytes: Int, after previousLastID: UInt64 = 0) -> [BlockEntry]? {
        guard bytes.count >= magic.count + 16 else { return nil }
        let body = UnsafeRawBufferPointer(rebasing: bytes[..<(bytes.count - 4)])
        var reader = ByteReader(bytes)
        guard Array(reader.take(magic.count)) == magic, reader.fixed(UInt64.self) == UInt64(segmentBytes) else { return nil }
        let count = Int(reader.fixed(UInt32.self))
        guard bytes.count == magic.count + 16 + count * (8 + SegmentFormat.headerBytes),
              bytes.loadUnaligned(fromByteOffset: bytes.count - 4, as: UInt32.self) == CRC32.of(body).littleEndian else { return nil }
        var blocks: [BlockEntry] = []
        blocks.reserveCapacity(count)
        var (end, lastID) = (SegmentFormat.fileMagic.count, previousLastID)
        for _ in 0..<count {
            let offset = Int(clamping: reader.fixed(UInt64.self))
            guard let header = BlockHeader(decoding: reader.take(SegmentFormat.headerBytes)), offset >= end,
                  header.firstID > lastID, offset + header.totalBytes <= segmentBytes else { return nil }
            blocks.append(BlockEntry(offset: offset, header: header))
            (end, lastID) = (offset + header.totalBytes, header.lastID)
        }
        return blocks
    }

    /// The index file's name for the segment whose first record is `id`.
    public static func name(firstID id: UInt64) -> String {
        String(SegmentFormat.segmentName(firstID: id).dropLast(SegmentFormat.segmentSuffix.count)) + suffix
    }
}
