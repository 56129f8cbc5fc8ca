// A MessagePack value as JSON text: how a nested record member (a map, an array) becomes one field's value,
// and how a scalar is written as a field. Binary bytes are written as a string (invalid UTF-8 replaced);
// extension values other than times have no JSON form and are written as null.

public enum MessagePackJSON {
    /// Writes the value the reader stands at and passes over it.
    public static func write(_ reader: inout MessagePackReader, into writer: inout JSONWriter) throws(MessagePackError) {
        try write(&reader, into: &writer, depth: 0)
    }

    private static func write(_ reader: inout MessagePackReader, into writer: inout JSONWriter, depth: Int) throws(MessagePackError) {
        guard depth < MessagePackReader.maxDepth else {
            throw MessagePackError(kind: .malformed("values nested deeper than \(MessagePackReader.maxDepth)"), offset: reader.offset)
        }
        switch try reader.next() {
        case .null: writer.raw("null")
        case .boolean(let value): writer.boolean(value)
        case .signed(let value): writer.integer(value)
        case .unsigned(let value): writer.integer(value)
        case .float(let value): writer.number(value)
        case .string(let bytes), .binary(let bytes): writer.string(bytes)
        case .extension_(let type, let data):
            if let time = MessagePackValue.extension_(type: type, data: data).eventTimeMilliseconds, type == 0 {
                writer.integer(time)
            } else {
                writer.raw("null")
            }
        case .array(let count):
            writer.raw("[")
            for index in 0..<count {
                if index > 0 { writer.raw(",") }
                try write(&reader, into: &writer, depth: depth + 1)
            }
            writer.raw("]")
        case .map(let count):
            writer.raw("{")
            for index in 0..<count {
                if index > 0 { writer.raw(",") }
                let keyStart = reader.offset
                switch try reader.next() {
                case .string(let bytes), .binary(let bytes): writer.string(bytes)
                case .signed(let value): writer.string(String(value))
                case .unsigned(let value): writer.string(String(value))
                case .array, .map:  // a container as a key has no JSON form: passed over whole
                    reader = MessagePackReader(reader.buffer, offset: keyStart)
                    try reader.skip()
                    writer.string("?")
                default: writer.string("?")
                }
                writer.raw(":")
                try write(&reader, into: &writer, depth: depth + 1)
            }
            writer.raw("}")
        }
    }

    /// A scalar's text and field kind (strings as they are, numbers and booleans as JSON literals); nil for a
    /// container, whose JSON `write` gives.
    public static func scalarText(_ value: MessagePackValue, into bytes: inout [UInt8]) -> FieldKind? {
        switch value {
        case .string(let text), .binary(let text):
            bytes.append(contentsOf: text)
            return .string
        case .null: bytes.append(contentsOf: "null".utf8)
        case .boolean(let value): bytes.append(contentsOf: (value ? "true" : "false").utf8)
        case .signed(let value): bytes.append(contentsOf: String(value).utf8)
        case .unsigned(let value): bytes.append(contentsOf: String(value).utf8)
        case .float(let value): bytes.append(contentsOf: (value.isFinite ? String(value) : "null").utf8)
        case .extension_, .array, .map: return nil
        }
        return .literal
    }
}
