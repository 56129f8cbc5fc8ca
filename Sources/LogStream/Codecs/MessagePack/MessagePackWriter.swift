// The few MessagePack values a Forward server sends (HELO, PONG, ack maps), in their shortest encodings.

public struct MessagePackWriter {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func array(count: Int) {
        header(count, fix: 0x90, fixLimit: 16, wide16: 0xDC, wide32: 0xDD)
    }

    public mutating func map(count: Int) {
        header(count, fix: 0x80, fixLimit: 16, wide16: 0xDE, wide32: 0xDF)
    }

    public mutating func string(_ text: UnsafeRawBufferPointer) {
        if text.count < 32 {
            bytes.append(0xA0 | UInt8(text.count))
        } else if text.count < 256 {
            bytes += [0xD9, UInt8(text.count)]
        } else {
            header(text.count, fix: 0, fixLimit: 0, wide16: 0xDA, wide32: 0xDB)
        }
        bytes.append(contentsOf: text)
    }

    public mutating func string(_ text: String) {
        Array(text.utf8).withUnsafeBytes { string($0) }
    }

    public mutating func binary(_ data: [UInt8]) {
        if data.count < 256 {
            bytes += [0xC4, UInt8(data.count)]
        } else {
            header(data.count, fix: 0, fixLimit: 0, wide16: 0xC5, wide32: 0xC6)
        }
        bytes.append(contentsOf: data)
    }

    public mutating func boolean(_ value: Bool) {
        bytes.append(value ? 0xC3 : 0xC2)
    }

    private mutating func header(_ count: Int, fix: UInt8, fixLimit: Int, wide16: UInt8, wide32: UInt8) {
        if count < fixLimit {
            bytes.append(fix | UInt8(count))
        } else if count <= 0xFFFF {
            bytes += [wide16, UInt8(count >> 8), UInt8(count & 0xFF)]
        } else {
            bytes += [wide32, UInt8(count >> 24 & 0xFF), UInt8(count >> 16 & 0xFF), UInt8(count >> 8 & 0xFF), UInt8(count & 0xFF)]
        }
    }
}
