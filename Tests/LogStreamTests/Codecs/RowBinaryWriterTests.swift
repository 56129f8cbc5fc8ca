import Testing
@testable import LogStream

@Suite("ClickHouse RowBinary")
struct RowBinaryWriterTests {
    @Test("strings carry LEB128 lengths, integers are little-endian, DateTime is UInt32 seconds, arrays count first")
    func layout() {
        var rows = RowBinaryWriter()
        rows.beginRow()
        rows.string("ab")
        rows.uint64(0x0102)
        rows.int64(-1)
        rows.dateTime(seconds: 1_796_378_400)
        rows.uint8(7)
        rows.arrayCount(2)
        rows.string("")
        rows.string(String(repeating: "x", count: 300))
        var expected: [UInt8] = [2, 0x61, 0x62, 0x02, 0x01, 0, 0, 0, 0, 0, 0] + [UInt8](repeating: 0xFF, count: 8)
        expected += [0x20, 0x8F, 0x12, 0x6B] + [7, 2, 0, 0xAC, 0x02] + [UInt8](repeating: 0x78, count: 300)
        #expect(rows.bytes == expected)
        #expect(rows.rowCount == 1)
    }

    @Test("times outside DateTime's range are clamped, not wrapped")
    func clamped() {
        var rows = RowBinaryWriter()
        rows.dateTime(seconds: -5)
        rows.dateTime(seconds: 1 << 40)
        #expect(rows.bytes == [0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF])
    }

    @Test("rows can be cut out by index (halves of a rejected batch) and the last one taken back")
    func rowRanges() {
        var rows = RowBinaryWriter()
        for text in ["one", "two", "three"] {
            rows.beginRow()
            rows.string(text)
        }
        #expect(Array(rows.bytes(ofRows: 1..<2)) == [3] + Array("two".utf8))
        #expect(Array(rows.bytes(ofRows: 1..<3)) == [3] + Array("two".utf8) + [5] + Array("three".utf8))
        #expect(rows.bytes(ofRows: 0..<3).count == rows.bytes.count)
        rows.removeLastRow()
        #expect(rows.rowCount == 2 && rows.bytes == [3] + Array("one".utf8) + [3] + Array("two".utf8))
    }
}

@Suite("ClickHouse RowBinary, read back")
struct RowBinaryReaderTests {
    @Test("what the writer writes reads back in the same order")
    func roundTrip() {
        var rows = RowBinaryWriter()
        rows.string("node-1"); rows.uint64(.max); rows.int64(-42); rows.uint32(7); rows.uint8(1)
        rows.arrayCount(2); rows.string(""); rows.string(String(repeating: "é", count: 100))
        rows.bytes.withUnsafeBytes { raw in
            var reader = RowBinaryReader(raw)
            #expect(String(decoding: reader.string(), as: UTF8.self) == "node-1")
            #expect(reader.uint64() == .max && reader.int64() == -42 && reader.uint32() == 7 && reader.uint8() == 1)
            #expect(reader.arrayCount() == 2)
            #expect(reader.string().isEmpty)
            #expect(String(decoding: reader.string(), as: UTF8.self) == String(repeating: "é", count: 100))
            #expect(reader.isAtEnd && !reader.failed)
        }
    }

    @Test("truncated and absurd input fails without trapping", arguments: [
        [UInt8](), [5, 0x61], [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F], [0x80], [1, 2, 3],
    ])
    func truncated(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            var reader = RowBinaryReader(raw)
            _ = reader.string()
            _ = reader.uint64()
            _ = reader.arrayCount()
            #expect(reader.failed)
        }
    }

    @Test("an array count larger than the bytes left fails at once")
    func hugeArray() {
        [0xFF, 0xFF, 0x03, 0].withUnsafeBytes { raw in
            var reader = RowBinaryReader(raw)
            #expect(reader.arrayCount() == 0 && reader.failed)
        }
    }
}
