// A set of ASCII bytes as a 128-bit mask. The word scans of LineParser test every byte of a line's head, and a
// shift-and-test is a third of the instructions of a chain of range comparisons, with no table to load.

struct ASCIISet: Equatable, Sendable {
    /// Bytes 0–63 and 64–127, one bit each.
    private let low: UInt64
    private let high: UInt64

    /// The masks written out, so the sets below are constants in the binary rather than lazily built globals
    /// (whose once-checks would sit in the scan loops); a unit test checks them against their ranges.
    init(low: UInt64, high: UInt64) {
        self.low = low
        self.high = high
    }

    init(_ ranges: ClosedRange<UInt8>...) {
        var low: UInt64 = 0
        var high: UInt64 = 0
        for range in ranges {
            for byte in range where byte < 128 {
                if byte < 64 { low |= 1 << UInt64(byte) } else { high |= 1 << UInt64(byte - 64) }
            }
        }
        self.low = low
        self.high = high
    }

    @inline(__always) func contains(_ byte: UInt8) -> Bool {
        let word = byte < 64 ? low : high
        return byte < 128 && word >> UInt64(byte & 63) & 1 == 1
    }

    /// `A-Z a-z`.
    static let letters = ASCIISet(low: 0, high: 0x07FF_FFFE_07FF_FFFE)
    /// `A-Z a-z 0-9 _ -`: the bytes of a word token.
    static let tokenBytes = ASCIISet(low: 0x03FF_2000_0000_0000, high: 0x07FF_FFFE_87FF_FFFE)
    /// Token bytes and `.`: a service name may be dotted.
    /// Letters, digits, `_` and `$`: the bytes of a Java identifier's ASCII part.
    static let identifierBytes = ASCIISet(low: 0x03FF_0010_0000_0000, high: 0x07FF_FFFE_87FF_FFFE)
    static let serviceBytes = ASCIISet(low: 0x03FF_6000_0000_0000, high: 0x07FF_FFFE_87FF_FFFE)
}
