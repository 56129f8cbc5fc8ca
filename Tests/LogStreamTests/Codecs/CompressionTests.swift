import Testing
@testable import LogStream

@Suite("gzip, deflate and snappy bodies")
struct CompressionTests {
    func inflate(_ bytes: [UInt8], _ wrapping: Inflate.Wrapping, limit: Int = 1 << 20) throws(InflateError) -> String {
        let outcome = bytes.withUnsafeBytes { raw in Result { () throws(InflateError) in try Inflate.decompress(raw, wrapping, limit: limit) } }
        return String(decoding: try outcome.get(), as: UTF8.self)
    }

    func unsnappy(_ bytes: [UInt8], limit: Int = 1 << 20) throws(SnappyError) -> String {
        let outcome = bytes.withUnsafeBytes { raw in Result { () throws(SnappyError) in try Snappy.decompress(raw, limit: limit) } }
        return String(decoding: try outcome.get(), as: UTF8.self)
    }

    // Made by Python's gzip and zlib modules.
    static let twoGzipMembers: [UInt8] = [31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 203, 207, 75, 229, 2, 0, 159, 168, 23, 248, 4, 0, 0, 0,
                                          31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 43, 41, 207, 231, 2, 0, 116, 8, 23, 150, 4, 0, 0, 0]
    static let zlibBody: [UInt8] = [120, 156, 171, 202, 201, 76, 82, 72, 202, 79, 169, 4, 0, 17, 148, 3, 128]
    static let rawDeflate: [UInt8] = [43, 74, 44, 87, 72, 202, 79, 169, 4, 0]

    @Test func gzipMembersBackToBackAreOneBody() throws {
        #expect(try inflate(Self.twoGzipMembers, .gzip) == "one\ntwo\n")
    }

    @Test func deflateIsZlibOrRawDeflate() throws {
        #expect(try inflate(Self.zlibBody, .deflate) == "zlib body")
        #expect(try inflate(Self.rawDeflate, .deflate) == "raw body")
    }

    @Test func oneInflaterServesManyInputsWhateverTheirWrappingOrFaults() throws {
        let inflater = Inflater()
        func inflate(_ bytes: [UInt8], _ wrapping: Inflate.Wrapping, limit: Int = 1 << 20) throws(InflateError) -> String {
            let outcome = bytes.withUnsafeBytes { raw in Result { () throws(InflateError) in try inflater.decompress(raw, wrapping, limit: limit) } }
            return String(decoding: try outcome.get(), as: UTF8.self)
        }
        #expect(try inflate(Self.twoGzipMembers, .gzip) == "one\ntwo\n")
        #expect(throws: InflateError.self) { try inflate(Array(Self.twoGzipMembers.prefix(15)), .gzip) }
        #expect(throws: InflateError.tooLarge(limit: 5)) { try inflate(Self.twoGzipMembers, .gzip, limit: 5) }
        #expect(try inflate(Self.zlibBody, .deflate) == "zlib body", "a fault leaves nothing behind for the next input")
        #expect(try inflate(Self.rawDeflate, .deflate) == "raw body")
        #expect(try inflate(Self.twoGzipMembers, .gzip) == "one\ntwo\n")
    }

    @Test func inflatingPastTheBoundStops() {
        #expect(throws: InflateError.tooLarge(limit: 5)) { try inflate(Self.twoGzipMembers, .gzip, limit: 5) }
    }

    @Test func cutAndCorruptStreamsAreRefused() {
        #expect(throws: InflateError.malformed("the gzip stream is cut short")) { try inflate(Array(Self.twoGzipMembers.prefix(15)), .gzip) }
        #expect(throws: InflateError.self) { try inflate(Self.twoGzipMembers + [1, 2, 3], .gzip) }
        #expect(throws: InflateError.self) { try inflate([31, 139, 8, 0, 9, 9, 9, 9, 9, 9, 9, 9], .gzip) }
        #expect(throws: InflateError.self) { try inflate([], .gzip) }
    }

    @Test func snappyLiteralsAndCopies() throws {
        // Made by python-snappy: a literal, then copies that overlap what they write.
        let block: [UInt8] = [36, 8, 97, 98, 99, 58, 3, 0, 68, 32, 104, 101, 108, 108, 111, 32, 104, 101, 108, 108, 111, 32, 104, 101, 108, 108, 111]
        #expect(try unsnappy(block) == "abcabcabcabcabcabc hello hello hello")
        // A one-byte-offset copy of distance 1 repeats a byte: "a" then 7 more.
        #expect(try unsnappy([8, 0, 97, 0b0000_1101, 1]) == "aaaaaaaa")
        #expect(try unsnappy([0]) == "")
    }

    @Test func snappyRefusesWhatDoesNotAddUp() {
        #expect(throws: SnappyError.tooLarge(length: 1 << 28, limit: 1024)) { try unsnappy([0x80, 0x80, 0x80, 0x80, 0x01], limit: 1024) }
        #expect(throws: SnappyError.self) { try unsnappy([4, 0b0000_0001, 5]) }  // a copy from before the start
        #expect(throws: SnappyError.self) { try unsnappy([3, 8, 97]) }  // a literal past the input
        #expect(throws: SnappyError.self) { try unsnappy([1, 4, 97, 98]) }  // past the announced length
        #expect(throws: SnappyError.self) { try unsnappy([5, 0, 97]) }  // shorter than announced
        #expect(throws: SnappyError.self) { try unsnappy([]) }
    }
}
