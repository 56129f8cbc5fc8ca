// ClickHouse's RowBinary read back in place: what a cluster search asks its answers in, so that a record comes
// back as views into the response (no JSON to parse, no copy per string) and is rendered by the same code as
// a local one. Bounded: a value that runs past the end sets `failed` and reads as empty or zero, never traps.

public struct RowBinaryReader {
    public let bytes: UnsafeRawBufferPointer
    public private(set) var offset = 0
    public private(set) var failed = false

    public init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    public var isAtEnd: Bool { offset >= bytes.count }

    public mutating func string() -> UnsafeRawBufferPointer {
        let length = self.length()
        guard !failed, length <= bytes.count - offset else { return fail() }
        defer { offset += length }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + length])
    }

    public mutating func uint8() -> UInt8 { fixed(UInt8.self) }
    public mutating func uint32() -> UInt32 { fixed(UInt32.self) }
    public mutating func uint64() -> UInt64 { fixed(UInt64.self) }
    public mutating func int64() -> Int64 { fixed(Int64.self) }

    /// An Array's element count (its elements follow); bounded by the bytes left, since each takes one at least.
    public mutating func arrayCount() -> Int {
        let count = length()
        guard count <= bytes.count - offset else {
            failed = true
            return 0
        }
        return count
    }

    private mutating func length() -> Int {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while offset < bytes.count, shift < 64 {
            let byte = bytes[offset]
            offset += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 {
                guard value <= UInt64(Int.max) else { break }
                return Int(value)
            }
            shift += 7
        }
        failed = true
        return 0
    }

    private mutating func fixed<T: FixedWidthInteger>(_ type: T.Type) -> T {
        guard !failed, MemoryLayout<T>.size <= bytes.count - offset else {
            failed = true
            return 0
        }
        defer { offset += MemoryLayout<T>.size }
        return T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    private mutating func fail() -> UnsafeRawBufferPointer {
        failed = true
        return UnsafeRawBufferPointer(start: nil, count: 0)
    }
}
