// Little-endian integers and LEB128 varints, written to a growing buffer and read back from a bounded view.
// The reader never traps on bad bytes: a value that runs past the end makes it `failed`, and the caller drops
// the block (corrupt data on disk must be counted, never crash the server).

struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    mutating func varint(_ value: Int) { varint(UInt64(value)) }

    /// Zig-zag: small negative numbers stay short.
    mutating func signedVarint(_ value: Int64) { varint(UInt64(bitPattern: value << 1 ^ value >> 63)) }

    mutating func fixed<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func bytesWithLength(_ value: UnsafeRawBufferPointer) {
        varint(value.count)
        bytes.append(contentsOf: value)
    }
}

struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    var offset = 0
    private(set) var failed = false

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var isAtEnd: Bool { offset == bytes.count }

    mutating func varint() -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while offset < bytes.count, shift < 64 {
            let byte = bytes[offset]
            offset += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
        failed = true
        return 0
    }

    /// A varint that must fit `limit`; larger is a failure (and 0).
    mutating func count(atMost limit: Int) -> Int {
        let value = varint()
        guard value <= UInt64(limit) else { failed = true; return 0 }
        return Int(value)
    }

    mutating func signedVarint() -> Int64 {
        let value = varint()
        return Int64(bitPattern: value >> 1) ^ -Int64(bitPattern: value & 1)
    }

    mutating func fixed<T: FixedWidthInteger>(_: T.Type = T.self) -> T {
        let size = MemoryLayout<T>.size
        guard offset + size <= bytes.count else { failed = true; offset = bytes.count; return 0 }
        defer { offset += size }
        return T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    mutating func byte() -> UInt8 { fixed(UInt8.self) }

    mutating func take(_ count: Int) -> UnsafeRawBufferPointer {
        guard count >= 0, count <= bytes.count - offset else { failed = true; offset = bytes.count; return UnsafeRawBufferPointer(start: nil, count: 0) }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count])
    }

    mutating func bytesWithLength() -> UnsafeRawBufferPointer { take(count(atMost: bytes.count - offset)) }
}
