// MessagePack values written out in their shortest forms, for building test messages (the server's own
// writer knows only the few values it sends).
@testable import LogStream

indirect enum MP: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    case null
    case boolean(Bool)
    case int(Int64)
    case double(Double)
    case string([UInt8])
    case binary([UInt8])
    case array([MP])
    case map([(MP, MP)])
    case ext(Int8, [UInt8])
    /// Bytes as they are: a value in a form `MP` does not choose, or deliberately broken.
    case raw([UInt8])

    init(stringLiteral text: String) { self = .string(Array(text.utf8)) }
    init(integerLiteral value: Int64) { self = .int(value) }

    static func str(_ text: String) -> MP { .string(Array(text.utf8)) }

    /// Forward's EventTime: seconds and nanoseconds, big-endian, as ext type 0.
    static func eventTime(seconds: UInt32, nanoseconds: UInt32) -> MP {
        .ext(0, bigEndian(UInt64(seconds), 4) + bigEndian(UInt64(nanoseconds), 4))
    }

    var bytes: [UInt8] {
        switch self {
        case .null: return [0xC0]
        case .boolean(let value): return [value ? 0xC3 : 0xC2]
        case .int(let value):
            if value >= 0 && value < 128 { return [UInt8(value)] }
            if value < 0 && value >= -32 { return [UInt8(bitPattern: Int8(value))] }
            if value >= 0 { return value <= 0xFFFF_FFFF ? [0xCE] + Self.bigEndian(UInt64(value), 4) : [0xCF] + Self.bigEndian(UInt64(value), 8) }
            return [0xD3] + Self.bigEndian(UInt64(bitPattern: value), 8)
        case .double(let value): return [0xCB] + Self.bigEndian(value.bitPattern, 8)
        case .string(let text):
            let head: [UInt8] = text.count < 32 ? [0xA0 | UInt8(text.count)]
                : text.count < 256 ? [0xD9, UInt8(text.count)]
                : text.count <= 0xFFFF ? [0xDA] + Self.bigEndian(UInt64(text.count), 2) : [0xDB] + Self.bigEndian(UInt64(text.count), 4)
            return head + text
        case .binary(let data):
            let head: [UInt8] = data.count < 256 ? [0xC4, UInt8(data.count)]
                : data.count <= 0xFFFF ? [0xC5] + Self.bigEndian(UInt64(data.count), 2) : [0xC6] + Self.bigEndian(UInt64(data.count), 4)
            return head + data
        case .array(let elements):
            let head: [UInt8] = elements.count < 16 ? [0x90 | UInt8(elements.count)] : [0xDC] + Self.bigEndian(UInt64(elements.count), 2)
            return head + elements.flatMap(\.bytes)
        case .map(let members):
            let head: [UInt8] = members.count < 16 ? [0x80 | UInt8(members.count)] : [0xDE] + Self.bigEndian(UInt64(members.count), 2)
            return head + members.flatMap { $0.0.bytes + $0.1.bytes }
        case .ext(let type, let data):
            let fixed: [Int: UInt8] = [1: 0xD4, 2: 0xD5, 4: 0xD6, 8: 0xD7, 16: 0xD8]
            if let code = fixed[data.count] { return [code, UInt8(bitPattern: type)] + data }
            return [0xC7, UInt8(data.count), UInt8(bitPattern: type)] + data
        case .raw(let bytes): return bytes
        }
    }

    static func bigEndian(_ value: UInt64, _ width: Int) -> [UInt8] {
        (0..<width).reversed().map { UInt8(truncatingIfNeeded: value >> UInt64(8 * $0)) }
    }
}
