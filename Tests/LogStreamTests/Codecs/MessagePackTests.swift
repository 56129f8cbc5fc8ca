import Testing
@testable import LogStream

@Suite("MessagePack: reader, framer, JSON and writer")
struct MessagePackTests {
    /// Every value in `bytes`, as text: the reader's view of a stream.
    func values(_ bytes: [UInt8]) throws -> [String] {
        try bytes.withUnsafeBytes { raw in
            var reader = MessagePackReader(raw)
            var found: [String] = []
            while !reader.isAtEnd {
                let value = try reader.next()
                switch value {
                case .null: found.append("nil")
                case .boolean(let flag): found.append("\(flag)")
                case .signed(let number): found.append("i\(number)")
                case .unsigned(let number): found.append("u\(number)")
                case .float(let number): found.append("f\(number)")
                case .string(let text): found.append("s:\(text.text)")
                case .binary(let data): found.append("b:\(Array(data))")
                case .array(let count): found.append("array \(count)")
                case .map(let count): found.append("map \(count)")
                case .extension_(let type, let data): found.append("ext \(type) \(Array(data))")
                }
            }
            return found
        }
    }

    func error(_ bytes: [UInt8]) -> MessagePackError? {
        bytes.withUnsafeBytes { raw in
            var reader = MessagePackReader(raw)
            do throws(MessagePackError) {
                try reader.skip()
                return nil
            } catch {
                return error
            }
        }
    }

    @Test func everyFormatReadsInItsWidth() throws {
        let stream: [UInt8] = [0x05, 0xE0, 0xCC, 0xFF, 0xCD, 0x01, 0x00, 0xCE, 0, 1, 0, 0, 0xCF, 0, 0, 0, 1, 0, 0, 0, 0,
                               0xD0, 0x80, 0xD1, 0xFF, 0x00, 0xD2, 0xFF, 0xFF, 0xFF, 0xFE, 0xD3] + MP.bigEndian(UInt64(bitPattern: -5), 8)
            + [0xC0, 0xC2, 0xC3, 0xCA, 0x3F, 0xC0, 0x00, 0x00] + MP.double(-0.25).bytes
            + [0xA2, 0x68, 0x69, 0xD9, 0x01, 0x78, 0xDA, 0x00, 0x01, 0x79, 0xDB, 0, 0, 0, 1, 0x7A]
            + [0xC4, 0x01, 0x09, 0xC5, 0x00, 0x01, 0x08, 0xC6, 0, 0, 0, 1, 0x07]
            + [0x92, 0xDC, 0x00, 0x00, 0x81, 0xDE, 0x00, 0x00, 0xDD, 0, 0, 0, 0, 0xDF, 0, 0, 0, 0]
            + [0xD4, 0x01, 0xAA, 0xD5, 0x02, 1, 2, 0xC7, 0x03, 0x7F, 1, 2, 3, 0xC8, 0x00, 0x01, 0xFF, 9, 0xD6, 0xFE, 1, 2, 3, 4]
        #expect(try values(stream) == [
            "u5", "i-32", "u255", "u256", "u65536", "u4294967296",
            "i-128", "i-256", "i-2", "i-5",
            "nil", "false", "true", "f1.5", "f-0.25",
            "s:hi", "s:x", "s:y", "s:z",
            "b:[9]", "b:[8]", "b:[7]",
            "array 2", "array 0", "map 1", "map 0", "array 0", "map 0",
            "ext 1 [170]", "ext 2 [1, 2]", "ext 127 [1, 2, 3]", "ext -1 [9]", "ext -2 [1, 2, 3, 4]",
        ])
    }

    @Test func truncatedValuesSayHowManyBytesTheyNeed() {
        #expect(error([]) == MessagePackError(kind: .truncated, offset: 0, bytesNeeded: 1))
        #expect(error([0xCD, 0x01])?.kind == .truncated)
        #expect(error([0xA5, 0x61, 0x62]) == MessagePackError(kind: .truncated, offset: 1, bytesNeeded: 6))
        #expect(error([0xDB, 0xFF, 0xFF, 0xFF, 0xF0])?.bytesNeeded == 5 + 0xFFFF_FFF0, "a 4 GiB string is only announced")
        #expect(error([0x92, 0x01])?.kind == .truncated, "an array missing an element")
        #expect(error([0xDD, 0x7F, 0xFF, 0xFF, 0xFF])?.kind == .truncated, "a count larger than the bytes is not trusted")
    }

    @Test func aFailedReadLeavesTheReaderWhereTheValueStarts() {
        [UInt8]([0x01, 0xA5, 0x61]).withUnsafeBytes { raw in
            var reader = MessagePackReader(raw)
            #expect(throws: MessagePackError.self) {
                _ = try reader.next()
                _ = try reader.next()
            }
            #expect(reader.offset == 1)
        }
    }

    @Test func malformedValuesAreRefused() {
        #expect(error([0xC1])?.kind == .malformed("byte 0xC1 starts no value"))
        let deep = [UInt8](repeating: 0x91, count: MessagePackReader.maxDepth + 2) + [0x01]
        #expect(error(deep)?.kind == .malformed("values nested deeper than 64"))
        let deepest = [UInt8](repeating: 0x91, count: MessagePackReader.maxDepth) + [0x01]
        #expect(error(deepest) == nil, "64 levels are allowed")
    }

    @Test func skipAndRawValuePassOverWholeContainers() throws {
        let record = MP.map([("a", .array([1, "two", .map([("x", .null)])])), ("b", .binary([1, 2, 3]))])
        let stream = record.bytes + MP.str("after").bytes
        try stream.withUnsafeBytes { raw in
            var reader = MessagePackReader(raw)
            let whole = try reader.rawValue()
            #expect(Array(whole) == record.bytes)
            #expect(try reader.next() == .string(UnsafeRawBufferPointer(rebasing: raw[(record.bytes.count + 1)...])))
            #expect(reader.isAtEnd)
        }
    }

    @Test func eventTimesAndIntegerSecondsAreMilliseconds() throws {
        func time(_ value: MP) throws -> Int64? {
            try value.bytes.withUnsafeBytes { raw in
                var reader = MessagePackReader(raw)
                return try reader.next().eventTimeMilliseconds
            }
        }
        #expect(try time(.eventTime(seconds: 1_764_352_805, nanoseconds: 123_456_789)) == 1_764_352_805_123)
        #expect(try time(.raw([0xC7, 0x08, 0x00] + MP.bigEndian(1, 4) + MP.bigEndian(0, 4))) == 1000, "ext 8 as well as fixext 8")
        #expect(try time(1_764_352_805) == 1_764_352_805_000)
        #expect(try time(.double(1_764_352_805.25)) == 1_764_352_805_250)
        #expect(try time(.ext(1, [0, 0, 0, 1, 0, 0, 0, 0])) == nil, "another extension type")
        #expect(try time("1764352805") == nil)
        #expect(try time(.int(Int64.max)) == nil)
        #expect(try time(.int(Int64.min)) == nil, "found by FuzzForward: abs(Int64.min) trapped")
    }

    // MARK: - Framer

    /// Feeds `stream` in pieces of `step` bytes, as reads deliver it; returns the values' lengths.
    func frame(_ stream: [UInt8], step: Int) throws -> [Int] {
        var framer = MessagePackFramer()
        var buffered: [UInt8] = []
        var lengths: [Int] = []
        var fed = 0
        while fed < stream.count {
            let next = min(stream.count, fed + step)
            buffered += stream[fed..<next]
            fed = next
            while !buffered.isEmpty {
                let outcome = try buffered.withUnsafeBytes { try framer.end(in: $0) }
                guard case .complete(let length) = outcome else {
                    if case .needsMore(let atLeast) = outcome { #expect(atLeast > buffered.count) }
                    break
                }
                lengths.append(length)
                buffered.removeFirst(length)
            }
        }
        #expect(buffered.isEmpty && !framer.isInsideValue)
        return lengths
    }

    @Test(arguments: [1, 2, 3, 7, 64, 4096])
    func framerFindsEachValueWhateverTheReadSizes(step: Int) throws {
        let values: [MP] = [
            .array(["tag", .array([.array([.eventTime(seconds: 1, nanoseconds: 2), .map([("log", .str(String(repeating: "x", count: 300)))])])])]),
            42,
            .map([("chunk", "abc")]),
            .array([.array([.array([.array([])])])]),
        ]
        let stream = values.flatMap(\.bytes)
        #expect(try frame(stream, step: step) == values.map(\.bytes.count))
    }

    @Test func framerReportsBadBytesAsTheyArrive() {
        var framer = MessagePackFramer()
        let outcome = [UInt8]([0x92, 0xC1, 0x01]).withUnsafeBytes { raw in Result { () throws(MessagePackError) in try framer.end(in: raw) } }
        #expect(throws: MessagePackError.self) { try outcome.get() }
    }

    @Test func framerAsksForAnAnnouncedLengthAtOnce() throws {
        var framer = MessagePackFramer()
        let outcome = try [UInt8]([0x91, 0xDB, 0x00, 0x10, 0x00, 0x00]).withUnsafeBytes { try framer.end(in: $0) }
        #expect(outcome == .needsMore(atLeast: 6 + 0x10_0000), "so a reader can refuse a message over its bound before buffering it")
    }

    // MARK: - JSON and the writer

    func json(_ value: MP) throws -> String {
        try value.bytes.withUnsafeBytes { raw in
            var reader = MessagePackReader(raw)
            var writer = JSONWriter()
            try MessagePackJSON.write(&reader, into: &writer)
            #expect(reader.isAtEnd)
            return String(decoding: writer.bytes, as: UTF8.self)
        }
    }

    @Test func valuesBecomeJSON() throws {
        #expect(try json(.map([("a", 1), ("b", .array([.boolean(true), .null, .double(1.5), .int(-7)])), ("c", "q\"uote\n")])) ==
                #"{"a":1,"b":[true,null,1.5,-7],"c":"q\"uote\n"}"#)
        #expect(try json(.map([(7, "seven"), (.array([1]), "container key")])) == #"{"7":"seven","?":"container key"}"#)
        #expect(try json(.binary(Array("bytes".utf8))) == #""bytes""#)
        #expect(try json(.array([.eventTime(seconds: 2, nanoseconds: 5_000_000), .ext(9, [1])])) == "[2005,null]")
    }

    @Test func scalarsAreTextOrLiterals() throws {
        func scalar(_ value: MP) throws -> (String, FieldKind?) {
            try value.bytes.withUnsafeBytes { raw in
                var reader = MessagePackReader(raw)
                var text: [UInt8] = []
                let kind = MessagePackJSON.scalarText(try reader.next(), into: &text)
                return (String(decoding: text, as: UTF8.self), kind)
            }
        }
        #expect(try scalar("text") == ("text", .string))
        #expect(try scalar(-3) == ("-3", .literal))
        #expect(try scalar(.boolean(false)) == ("false", .literal))
        #expect(try scalar(.null) == ("null", .literal))
        #expect(try scalar(.array([])).1 == nil)
    }

    @Test func writerUsesTheShortestFormsAndReadsBack() throws {
        var writer = MessagePackWriter()
        writer.array(count: 4)
        writer.string("PONG")
        writer.string(String(repeating: "s", count: 40))
        writer.string(String(repeating: "t", count: 300))
        writer.map(count: 2)
        writer.binary([1, 2])
        writer.boolean(true)
        writer.binary(Array(repeating: 9, count: 256))
        writer.array(count: 0)
        let bytes = writer.bytes
        #expect(Array(bytes.prefix(6)) == [0x94, 0xA4, 0x50, 0x4F, 0x4E, 0x47])
        #expect(Array(bytes[6..<8]) == [0xD9, 40])
        #expect(Array(bytes[48..<51]) == [0xDA, 0x01, 0x2C])
        #expect(try values(bytes) == ["array 4", "s:PONG", "s:" + String(repeating: "s", count: 40), "s:" + String(repeating: "t", count: 300),
                                      "map 2", "b:[1, 2]", "true", "b:\(Array(repeating: UInt8(9), count: 256))", "array 0"])
        var wide = MessagePackWriter()
        wide.map(count: 70_000)
        wide.array(count: 16)
        #expect(wide.bytes == [0xDF, 0x00, 0x01, 0x11, 0x70, 0xDC, 0x00, 0x10])
    }
}
