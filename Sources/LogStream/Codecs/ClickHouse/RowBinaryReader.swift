// ClickHouse's RowBinary read back in place: what a cluster search asks its answers in, so that a record comes
// back as views into the response (no JSON to parse, no copy per string) and is rendered by the same code as
// a local one. The layout is the segment format's own coding (LEB128 lengths, little-endian integers), so the
// bounded ByteReader does the reading: a value that runs past the end sets `failed` and reads as empty or zero.

public struct RowBinaryReader {
    private var reader: ByteReader

    public init(_ bytes: UnsafeRawBufferPointer) { reader = ByteReader(bytes) }

    public var isAtEnd: Bool { reader.isAtEnd }
    public var failed: Bool { reader.failed }
    public var offset: Int { reader.offset }

    public mutating func string() -> UnsafeRawBufferPointer { reader.bytesWithLength() }
    public mutating func uint8() -> UInt8 { reader.byte() }
    public mutating func uint32() -> UInt32 { reader.fixed() }
    public mutating func uint64() -> UInt64 { reader.fixed() }
    public mutating func int64() -> Int64 { reader.fixed() }

    /// An Array's element count (its elements follow); bounded by the bytes left, since each takes one at least.
    public mutating func arrayCount() -> Int { reader.count(atMost: reader.bytes.count - reader.offset) }
}
