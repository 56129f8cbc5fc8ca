// A record's structured fields, packed into one byte blob stored after its line: no dictionary, no String per
// field. Each entry is: kind (1 byte), name length (1 byte), value length (2 bytes, little-endian), name, value.

public enum FieldKind: UInt8, Sendable {
    /// UTF-8 text.
    case string = 0
    /// A JSON literal written as is (number, true, false, null).
    case literal = 1
}

/// Builds a blob in a buffer the caller reuses from record to record.
public struct FieldsBuilder {
    public private(set) var bytes: [UInt8] = []
    public private(set) var count = 0

    public static let maxFields = 64
    public static let maxNameBytes = 255
    public static let maxValueBytes = Int(UInt16.max)

    public init() {
        bytes.reserveCapacity(1024)
    }

    public var isEmpty: Bool { bytes.isEmpty }

    public mutating func removeAll() {
        guard !bytes.isEmpty else { return }  // most lines have no fields: skip the array's uniqueness check
        bytes.removeAll(keepingCapacity: true)
        count = 0
    }

    /// Becomes a copy of `other`, in the storage it already has (no allocation once it has grown).
    public mutating func replaceAll(with other: FieldsBuilder) {
        bytes.removeAll(keepingCapacity: true)
        bytes.append(contentsOf: other.bytes)
        count = other.count
    }

    /// Where the builder stands, to take back fields added by a parse that then failed.
    public var mark: (bytes: Int, count: Int) { (bytes.count, count) }

    public mutating func rollBack(to mark: (bytes: Int, count: Int)) {
        bytes.removeSubrange(mark.bytes...)
        count = mark.count
    }

    /// Starts a field named `sd.<id>.<param>` (RFC 5424 structured data).
    public mutating func beginField(structuredDataID id: UnsafeRawBufferPointer, param: UnsafeRawBufferPointer) {
        guard count < Self.maxFields else { isDropping = true; return }
        isDropping = false
        bytes.append(FieldKind.string.rawValue)
        let nameBytes = min(3 + id.count + 1 + param.count, Self.maxNameBytes)
        bytes.append(UInt8(nameBytes))
        valueLengthAt = bytes.count
        bytes.append(0)
        bytes.append(0)
        let nameStart = bytes.count
        bytes.append(contentsOf: "sd.".utf8)
        bytes.append(contentsOf: id)
        bytes.append(UInt8(ascii: "."))
        bytes.append(contentsOf: param)
        bytes.removeSubrange((nameStart + nameBytes)...)
        count += 1
    }

    /// Adds a field; names and values past their limits are cut, fields past the limit are dropped.
    public mutating func append(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, kind: FieldKind = .string) {
        beginField(name: name, kind: kind)
        appendValueBytes(value)
    }

    public mutating func append(name: StaticString, value: UnsafeRawBufferPointer, kind: FieldKind = .string) {
        append(name: UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount), value: value, kind: kind)
    }

    /// Starts a field whose value is then written in pieces (`appendValueBytes`), e.g. while unescaping.
    public mutating func beginField(name: UnsafeRawBufferPointer, kind: FieldKind = .string) {
        guard count < Self.maxFields else { isDropping = true; return }
        isDropping = false
        let nameBytes = min(name.count, Self.maxNameBytes)
        bytes.append(kind.rawValue)
        bytes.append(UInt8(nameBytes))
        valueLengthAt = bytes.count
        bytes.append(0)
        bytes.append(0)
        bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: name[..<nameBytes]))
        count += 1
    }

    public mutating func beginField(name: StaticString, kind: FieldKind = .string) {
        beginField(name: UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount), kind: kind)
    }

    public mutating func appendValueBytes(_ value: UnsafeRawBufferPointer) {
        guard !isDropping else { return }
        let length = Int(bytes[valueLengthAt]) | Int(bytes[valueLengthAt + 1]) << 8
        let taken = min(value.count, Self.maxValueBytes - length)
        bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: value[..<taken]))
        let newLength = length + taken
        bytes[valueLengthAt] = UInt8(newLength & 0xFF)
        bytes[valueLengthAt + 1] = UInt8(newLength >> 8)
    }

    public mutating func appendValueByte(_ byte: UInt8) {
        withUnsafeBytes(of: byte) { appendValueBytes($0) }
    }

    private var valueLengthAt = 0
    private var isDropping = false
}

/// Reads a blob; tolerant of a torn or cut blob (stops at the first entry that does not fit).
public struct RecordFields: Sequence {
    public let blob: UnsafeRawBufferPointer

    public init(blob: UnsafeRawBufferPointer) { self.blob = blob }

    public struct Field {
        public var kind: FieldKind
        public var name: UnsafeRawBufferPointer
        public var value: UnsafeRawBufferPointer
    }

    public struct Iterator: IteratorProtocol {
        let blob: UnsafeRawBufferPointer
        var offset = 0

        public mutating func next() -> Field? {
            guard offset + 4 <= blob.count else { return nil }
            let kind = FieldKind(rawValue: blob[offset]) ?? .string
            let nameBytes = Int(blob[offset + 1])
            let valueBytes = Int(blob[offset + 2]) | Int(blob[offset + 3]) << 8
            let nameStart = offset + 4
            let valueStart = nameStart + nameBytes
            guard valueStart + valueBytes <= blob.count else { return nil }
            offset = valueStart + valueBytes
            return Field(kind: kind, name: UnsafeRawBufferPointer(rebasing: blob[nameStart..<valueStart]),
                         value: UnsafeRawBufferPointer(rebasing: blob[valueStart..<offset]))
        }
    }

    public func makeIterator() -> Iterator { Iterator(blob: blob) }

    /// The value of the first field called `name`.
    public func value(named name: [UInt8]) -> UnsafeRawBufferPointer? {
        first { $0.name.elementsEqual(name) }?.value
    }
}
