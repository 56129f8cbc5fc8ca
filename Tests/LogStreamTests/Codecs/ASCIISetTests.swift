import Testing
@testable import LogStream

@Suite struct ASCIISetTests {
    @Test func writtenOutMasksMatchTheirRanges() {
        #expect(ASCIISet.letters == ASCIISet(0x41...0x5A, 0x61...0x7A))
        #expect(ASCIISet.tokenBytes == ASCIISet(0x41...0x5A, 0x61...0x7A, 0x30...0x39, 0x5F...0x5F, 0x2D...0x2D))
        #expect(ASCIISet.serviceBytes == ASCIISet(0x41...0x5A, 0x61...0x7A, 0x30...0x39, 0x5F...0x5F, 0x2D...0x2E))
    }

    @Test func membership() {
        let set = ASCIISet(UInt8(ascii: "a")...UInt8(ascii: "c"), 0x00...0x00, 0x7F...0x7F)
        for byte in UInt8.min...UInt8.max {
            let expected = (0x61...0x63).contains(byte) || byte == 0 || byte == 0x7F
            #expect(set.contains(byte) == expected, "byte \(byte)")
        }
        #expect(!ASCIISet.tokenBytes.contains(0xC3) && !ASCIISet.letters.contains(0xE1))
    }
}
