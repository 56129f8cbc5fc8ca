import Testing
@testable import LogStream

/// Protobuf's wire format written by hand, for building test messages.
struct ProtobufWriter {
    var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    mutating func field(_ number: Int, varint value: UInt64) {
        varint(UInt64(number << 3))
        varint(value)
    }

    mutating func field(_ number: Int, fixed64 value: UInt64) {
        varint(UInt64(number << 3 | 1))
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    mutating func field(_ number: Int, bytes value: [UInt8]) {
        varint(UInt64(number << 3 | 2))
        varint(UInt64(value.count))
        bytes += value
    }

    mutating func field(_ number: Int, _ text: String) { field(number, bytes: Array(text.utf8)) }

    mutating func field(_ number: Int, message build: (inout ProtobufWriter) -> Void) {
        var inner = ProtobufWriter()
        build(&inner)
        field(number, bytes: inner.bytes)
    }
}

@Suite("Protobuf wire format")
struct ProtobufReaderTests {
    func fields(_ bytes: [UInt8]) throws(ProtobufError) -> [(Int, WireType, UInt64, [UInt8])] {
        let outcome = bytes.withUnsafeBytes { raw in
            Result { () throws(ProtobufError) in
                var reader = ProtobufReader(raw)
                var result: [(Int, WireType, UInt64, [UInt8])] = []
                while let field = try reader.next() { result.append((field.number, field.wireType, field.integer, Array(field.bytes))) }
                return result
            }
        }
        return try outcome.get()
    }

    @Test func readsEveryWireTypeInOrder() throws {
        var writer = ProtobufWriter()
        writer.field(1, varint: 300)
        writer.field(2, fixed64: 0x0102_0304_0506_0708)
        writer.field(3, "hi")
        writer.bytes += [0x25, 1, 0, 0, 0]  // field 4, fixed32 1
        writer.field(536_870_911, varint: UInt64.max)
        let read = try fields(writer.bytes)
        #expect(read.map(\.0) == [1, 2, 3, 4, 536_870_911])
        #expect(read[0].2 == 300 && read[1].2 == 0x0102_0304_0506_0708 && read[2].3 == Array("hi".utf8) && read[3].2 == 1)
        #expect(read[4].2 == UInt64.max)
    }

    @Test func malformedMessagesSayWhere() {
        #expect(throws: ProtobufError(reason: "field 1 runs past its message", offset: 2)) { try fields([0x0A, 0x05, 0x41]) }
        #expect(throws: ProtobufError(reason: "message cut short in a varint", offset: 1)) { try fields([0x08, 0x80]) }
        #expect(throws: ProtobufError(reason: "varint longer than 10 bytes", offset: 0)) { try fields(Array(repeating: 0xFF, count: 11) + [1]) }
        #expect(throws: ProtobufError(reason: "message cut short in a fixed64", offset: 1)) { try fields([0x09, 1, 2]) }
        #expect(throws: ProtobufError.self) { try fields([0x00, 0x01]) }  // field number 0
        #expect(throws: ProtobufError.self) { try fields([0x0B]) }  // a group
        #expect(throws: ProtobufError.self) { try fields([0x0E]) }  // wire type 6
    }

    @Test func embeddedMessagesReportOffsetsInTheOuterMessage() throws {
        var writer = ProtobufWriter()
        writer.field(1, "abc")
        writer.field(2, bytes: [0x0A, 0x09])  // an inner message cut short
        #expect(throws: ProtobufError(reason: "field 1 runs past its message", offset: 9)) {
            let outcome = writer.bytes.withUnsafeBytes { raw in
                Result { () throws(ProtobufError) in
                    try ProtobufReader(raw).forEach(2) { (field) throws(ProtobufError) in
                        var inner = field.message
                        while try inner.next() != nil {}
                    }
                }
            }
            try outcome.get()
        }
    }
}
