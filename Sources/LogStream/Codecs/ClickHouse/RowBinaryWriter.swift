// ClickHouse's RowBinary insert format, written row by row into one growing buffer: what the shipper sends.
// Chosen by measurement (../shared/CLICKHOUSE.md: RowBinary 750 k rows/s into 18.16, TabSeparated 674 k,
// JSONEachRow 547 k): the server parses no text, and writing it needs no escaping, only lengths. The layout,
// the same on 18.16 and current releases: a String is its LEB128 length and bytes, integers are little-endian
// fixed width, a DateTime is UInt32 seconds, an Array is its LEB128 count and then its elements; the columns
// come in the order the INSERT names them.

public struct RowBinaryWriter {
    /// The segment format's writer: LEB128 lengths and little-endian integers are RowBinary's coding too.
    private var writer = ByteWriter()
    public var bytes: [UInt8] { writer.bytes }
    /// Where each finished row starts in `bytes`: what lets a rejected batch be split into halves.
    public private(set) var rowStarts: [Int] = []

    public init(reservingCapacity capacity: Int = 0) { writer.bytes.reserveCapacity(capacity) }

    public var rowCount: Int { rowStarts.count }

    /// Marks the start of a row; its columns follow.
    public mutating func beginRow() { rowStarts.append(writer.bytes.count) }

    /// The bytes of rows `rows` (a sub-batch to send on its own).
    public func bytes(ofRows rows: Range<Int>) -> ArraySlice<UInt8> {
        let end = rows.upperBound == rowStarts.count ? writer.bytes.count : rowStarts[rows.upperBound]
        return writer.bytes[rowStarts[rows.lowerBound]..<end]
    }

    /// Takes back the row begun last (a record found torn after it was written).
    public mutating func removeLastRow() {
        guard let start = rowStarts.popLast() else { return }
        writer.bytes.removeSubrange(start...)
    }

    public mutating func removeAll() {
        writer.bytes.removeAll(keepingCapacity: true)
        rowStarts.removeAll(keepingCapacity: true)
    }

    public mutating func string(_ value: UnsafeRawBufferPointer) { writer.bytesWithLength(value) }

    public mutating func string(_ value: String) {
        var value = value
        value.withUTF8 { string(UnsafeRawBufferPointer($0)) }
    }

    public mutating func uint8(_ value: UInt8) { writer.bytes.append(value) }
    public mutating func uint32(_ value: UInt32) { writer.fixed(value) }
    public mutating func uint64(_ value: UInt64) { writer.fixed(value) }
    public mutating func int64(_ value: Int64) { writer.fixed(value) }

    /// A DateTime: seconds since the epoch, clamped to the type's range (1970 to 2106).
    public mutating func dateTime(seconds: Int64) { writer.fixed(UInt32(clamping: seconds)) }

    /// An Array's element count; the elements follow.
    public mutating func arrayCount(_ count: Int) { writer.varint(count) }
}
