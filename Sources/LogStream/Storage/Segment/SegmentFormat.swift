// The disk history's byte layout, written down once. Any change to a field's place, width or meaning changes
// `version` (VictoriaLogs' consts.go); a reader refuses versions it does not know. All integers are
// little-endian; "varint" is unsigned LEB128, "svarint" zig-zag LEB128.
//
// Segment file `<first id, 20 digits>.lseg`: the 8-byte magic "LSSEG\0\0\1", then blocks back to back, oldest
// first. Records never span blocks; blocks never span files; a file's ids follow the previous file's.
//
// Block:
//   header (104 bytes)
//     0  u32 magic "LBLK"          4  u8 version, u8 bloom probes, u16 header bytes (104)
//     8  u64 first id              16 u64 last id                24 u32 records
//    28  u32 bloom bytes           32 u32 meta stored bytes      36 u32 meta raw bytes
//    40  u32 text stored bytes     44 u32 text raw bytes
//    48  i64 oldest receive time   56 i64 newest receive time    (ms since the epoch)
//    64  u64 service bits (BlockSummaries' hash of each service, OR-ed; "unknown" for none)
//    72  u32 x 6 records per level (trace, debug, info, warn, error, fatal)
//    96  u32 CRC-32 of everything after the header (bloom, meta, text)
//   100  u32 CRC-32 of header bytes 0-99
//   bloom: TokenBloom's words (u64 each) over the words of every line and field value
//   meta:  zstd frame of: varint host count, that many (varint length, bytes); the same for services; then per
//          record: varint id - previous id - 1 (the first: id - first id), svarint receive time - previous
//          (the first: the time itself), u8 level (bits 0-2) | truncated (3) | protocol (4-7), u8 format,
//          varint host index, varint service index + 1 (0: none), varint line bytes, varint fields bytes,
//          varint source time (0: none, else zig-zag of source time - reference, plus 1; the reference is the
//          source time of the block's previous record that had one, else this record's receive time; version 1
//          always took the receive time, which cost a log's steady offset from the clock on every record)
//   text:  zstd frame of every record's line, then every record's fields blob (RecordFields), in record order
//
// The header's CRC lets a reader trust the lengths before it reads the rest; the second CRC covers the rest.
// A torn tail (a crash mid-write) is a block whose bytes end early; a corrupt block fails a CRC or its
// decompression, and a reader looks for the next header that checks out.
//
// Beside the segments: `<first id>.lidx`, a closed segment's index (SegmentIndex.swift); `ids`, the id
// reservation (8-byte magic "LSIDS\0\0\1", u64 first id not handed out yet, u32 CRC-32 of the 16 bytes before
// it), rewritten by rename.

public enum SegmentFormat {
    public static let version: UInt8 = 2
    /// Versions a reader decodes (1: source times against the receive time only).
    static let readableVersions: ClosedRange<UInt8> = 1...2
    static let fileMagic: [UInt8] = Array("LSSEG".utf8) + [0, 0, 1]
    static let blockMagic: UInt32 = 0x4B4C_424C  // "LBLK"
    static let headerBytes = 104
    static let idsMagic: [UInt8] = Array("LSIDS".utf8) + [0, 0, 1]
    /// The ClickHouse shipping cursor's file: the first id not shipped yet.
    static let shippedMagic: [UInt8] = Array("LSSHIP".utf8) + [0, 1]
    static let segmentSuffix = ".lseg"

    /// A block is sealed once its text reaches this (or at each sync): large enough for zstd to find the
    /// repeats between lines, small enough that a search decompresses little beyond what it needs.
    public static let blockTextBytes = 1 << 20
    /// Bounds a reader accepts (a corrupt length must not make it allocate gigabytes).
    static let maxBlockRecords = 1 << 22
    static let maxBlockRawBytes = 1 << 30

    /// The file name of the segment whose first record is `id`.
    public static func segmentName(firstID id: UInt64) -> String {
        let digits = String(id)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + segmentSuffix
    }

    /// The first id of a segment named as `segmentName` names them; nil for any other file.
    public static func firstID(ofSegmentNamed name: String) -> UInt64? {
        guard name.hasSuffix(segmentSuffix) else { return nil }
        let digits = name.dropLast(segmentSuffix.count)
        guard digits.count == 20, digits.allSatisfy(\.isASCII), let id = UInt64(digits), id > 0 else { return nil }
        return id
    }
}

/// A block of a segment: where it starts and what its header says.
public struct BlockEntry: Sendable {
    public var offset: Int
    public var header: BlockHeader

    /// The block's bytes after its header, within its segment's mapped `bytes`.
    func body(in bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        let start = offset + SegmentFormat.headerBytes
        return UnsafeRawBufferPointer(rebasing: bytes[start..<start + header.bodyBytes])
    }
}

/// A block's header: what a reader knows of a block without decompressing it.
public struct BlockHeader: Equatable, Sendable {
    public var firstID: UInt64
    public var lastID: UInt64
    public var recordCount: Int
    public var bloomBytes: Int
    public var metaStoredBytes: Int
    public var metaRawBytes: Int
    public var textStoredBytes: Int
    public var textRawBytes: Int
    public var oldestReceivedAt: Int64
    public var newestReceivedAt: Int64
    public var serviceBits: UInt64
    public var levelCounts: [UInt32]
    public var bodyCRC: UInt32
    /// The layout version it was written in (SegmentFormat.readableVersions).
    public var version = SegmentFormat.version

    /// Bytes after the header: bloom, meta, text.
    public var bodyBytes: Int { bloomBytes + metaStoredBytes + textStoredBytes }
    public var totalBytes: Int { SegmentFormat.headerBytes + bodyBytes }
    public var ids: Range<UInt64> { firstID..<lastID + 1 }
    /// Levels present, as bits by raw value (BlockKey's).
    public var levelBits: UInt64 {
        levelCounts.indices.reduce(0) { levelCounts[$1] > 0 ? $0 | 1 << UInt64($1) : $0 }
    }

    func encoded() -> [UInt8] {
        var writer = ByteWriter()
        writer.fixed(SegmentFormat.blockMagic)
        writer.fixed(version)
        writer.fixed(UInt8(TokenBloom.probes))
        writer.fixed(UInt16(SegmentFormat.headerBytes))
        writer.fixed(firstID)
        writer.fixed(lastID)
        for count in [recordCount, bloomBytes, metaStoredBytes, metaRawBytes, textStoredBytes, textRawBytes] { writer.fixed(UInt32(count)) }
        writer.fixed(oldestReceivedAt)
        writer.fixed(newestReceivedAt)
        writer.fixed(serviceBits)
        for count in levelCounts { writer.fixed(count) }
        writer.fixed(bodyCRC)
        let crc = writer.bytes.withUnsafeBytes { CRC32.of($0) }
        writer.fixed(crc)
        return writer.bytes
    }

    /// The header at the start of `bytes`, or nil when there is none there that checks out (magic, version,
    /// CRC, lengths within bounds).
    public init?(decoding bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= SegmentFormat.headerBytes else { return nil }
        var reader = ByteReader(UnsafeRawBufferPointer(rebasing: bytes[..<SegmentFormat.headerBytes]))
        guard reader.fixed(UInt32.self) == SegmentFormat.blockMagic else { return nil }
        version = reader.byte()
        guard SegmentFormat.readableVersions.contains(version), reader.byte() == UInt8(TokenBloom.probes),
              reader.fixed(UInt16.self) == UInt16(SegmentFormat.headerBytes) else { return nil }
        let crc = CRC32.of(UnsafeRawBufferPointer(rebasing: bytes[..<(SegmentFormat.headerBytes - 4)]))
        firstID = reader.fixed()
        lastID = reader.fixed()
        let counts = (0..<6).map { _ in Int(reader.fixed(UInt32.self)) }
        (recordCount, bloomBytes, metaStoredBytes, metaRawBytes, textStoredBytes, textRawBytes) = (counts[0], counts[1], counts[2], counts[3], counts[4], counts[5])
        oldestReceivedAt = reader.fixed()
        newestReceivedAt = reader.fixed()
        serviceBits = reader.fixed()
        levelCounts = (0..<6).map { _ in reader.fixed(UInt32.self) }
        bodyCRC = reader.fixed()
        guard reader.fixed(UInt32.self) == crc, firstID > 0, lastID >= firstID, recordCount > 0,
              recordCount <= SegmentFormat.maxBlockRecords, UInt64(recordCount - 1) <= lastID - firstID,
              bloomBytes % 8 == 0, counts[1...].allSatisfy({ $0 <= SegmentFormat.maxBlockRawBytes }) else { return nil }
    }

    init(firstID: UInt64, lastID: UInt64, recordCount: Int, bloomBytes: Int, metaStoredBytes: Int, metaRawBytes: Int,
         textStoredBytes: Int, textRawBytes: Int, oldestReceivedAt: Int64, newestReceivedAt: Int64, serviceBits: UInt64,
         levelCounts: [UInt32], bodyCRC: UInt32) {
        (self.firstID, self.lastID, self.recordCount, self.bloomBytes) = (firstID, lastID, recordCount, bloomBytes)
        (self.metaStoredBytes, self.metaRawBytes, self.textStoredBytes, self.textRawBytes) = (metaStoredBytes, metaRawBytes, textStoredBytes, textRawBytes)
        (self.oldestReceivedAt, self.newestReceivedAt, self.serviceBits) = (oldestReceivedAt, newestReceivedAt, serviceBits)
        (self.levelCounts, self.bodyCRC) = (levelCounts, bodyCRC)
    }
}
