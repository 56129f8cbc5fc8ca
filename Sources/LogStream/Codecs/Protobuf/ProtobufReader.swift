// Protocol Buffers' wire format (protobuf.dev/programming-guides/encoding), read in place: tags, varints,
// fixed-width numbers and length-delimited fields as byte views into the message, so a decoder walks the few
// messages it needs (OTLP's logs, Loki's push) field by field without generated code or a copy per field.
// Hand-written like VictoriaLogs' lib/protoparser: swift-protobuf wants generated code and minutes of build on
// every clean CI run for the five messages read here. Unknown fields are skipped, as the format requires.

public struct ProtobufError: Error, Equatable, CustomStringConvertible {
    public var reason: String
    /// Byte offset in the outermost message where it went wrong.
    public var offset: Int

    public var description: String { "\(reason) at byte \(offset)" }
}

public enum WireType: UInt8 {
    case varint = 0, fixed64 = 1, lengthDelimited = 2, startGroup = 3, endGroup = 4, fixed32 = 5
}

/// One field as read: its number, and its value in the form its wire type gives.
public struct ProtobufField {
    public var number: Int
    public var wireType: WireType
    /// varint, fixed64 and fixed32 values.
    public var integer: UInt64
    /// A length-delimited value's bytes (a string, bytes, an embedded message or a packed array).
    public var bytes: UnsafeRawBufferPointer
    /// Where `bytes` starts in the outermost message (for error offsets).
    public var offset: Int

    /// The embedded message this field holds.
    public var message: ProtobufReader { ProtobufReader(bytes, baseOffset: offset) }
}

public struct ProtobufReader {
    private let bytes: UnsafeRawBufferPointer
    private var index = 0
    private let baseOffset: Int

    public init(_ bytes: UnsafeRawBufferPointer, baseOffset: Int = 0) {
        self.bytes = bytes
        self.baseOffset = baseOffset
    }

    /// The next field, nil at the end of the message; throws for a message that is cut short or malformed.
    public mutating func next() throws(ProtobufError) -> ProtobufField? {
        guard index < bytes.count else { return nil }
        let key = try varint()
        guard let wireType = WireType(rawValue: UInt8(key & 7)), key >> 3 > 0, key >> 3 <= 536_870_911 else {
            throw error("invalid field key \(key)", at: index)
        }
        var field = ProtobufField(number: Int(key >> 3), wireType: wireType, integer: 0,
                                  bytes: UnsafeRawBufferPointer(start: nil, count: 0), offset: 0)
        switch wireType {
        case .varint:
            field.integer = try varint()
        case .fixed64:
            field.integer = try fixed(8)
        case .fixed32:
            field.integer = try fixed(4)
        case .lengthDelimited:
            let length = try varint()
            guard length <= UInt64(bytes.count - index) else { throw error("field \(field.number) runs past its message", at: index) }
            field.bytes = UnsafeRawBufferPointer(rebasing: bytes[index..<(index + Int(length))])
            field.offset = baseOffset + index
            index += Int(length)
        case .startGroup, .endGroup:
            // Groups are deprecated, and none of the messages read here has one.
            throw error("groups are not supported (field \(field.number))", at: index)
        }
        return field
    }

    /// Calls `body` with each length-delimited field numbered `number`, in order, skipping every other field.
    public func forEach(_ number: Int, _ body: (ProtobufField) throws(ProtobufError) -> Void) throws(ProtobufError) {
        var reader = self
        while let field = try reader.next() {
            if field.number == number, field.wireType == .lengthDelimited { try body(field) }
        }
    }

    private mutating func varint() throws(ProtobufError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            guard shift < 64 else { break }
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
        throw error(index - start > 10 ? "varint longer than 10 bytes" : "message cut short in a varint", at: start)
    }

    private mutating func fixed(_ width: Int) throws(ProtobufError) -> UInt64 {
        guard bytes.count - index >= width else { throw error("message cut short in a fixed\(width * 8)", at: index) }
        var value: UInt64 = 0
        for offset in 0..<width { value |= UInt64(bytes[index + offset]) << (8 * UInt64(offset)) }
        index += width
        return value
    }

    private func error(_ reason: String, at position: Int) -> ProtobufError {
        ProtobufError(reason: reason, offset: baseOffset + position)
    }
}
