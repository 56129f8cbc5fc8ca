// The words of a block's lines in a Bloom filter, so that a search for a rare word passes over the blocks
// that cannot hold it without decompressing them. A word (token) is a run of ASCII letters, digits and `_`,
// or of bytes of multi-byte UTF-8 characters, compared ignoring ASCII case: what a search's words are made of
// (Query's `.word`).

public enum Tokens {
    /// Whether `byte` is part of a word.
    @inline(__always) static func isWordByte(_ byte: UInt8) -> Bool {
        byte >= 0x80 || (byte < 64 ? digits >> UInt64(byte) & 1 : lettersAndUnderscore >> UInt64(byte - 64) & 1) != 0
    }

    /// Bit sets over bytes 0-63 and 64-127 (Storage does not reach the codecs' ASCIISet).
    private static let digits: UInt64 = 0x03FF_0000_0000_0000
    private static let lettersAndUnderscore: UInt64 = 0x07FF_FFFE_87FF_FFFE

    @inline(__always) static func lowercased(_ byte: UInt8) -> UInt8 { byte &- 65 < 26 ? byte | 0x20 : byte }

    /// The hash of a word, ignoring ASCII case: its lower-cased bytes gathered eight at a time into a word and
    /// mixed once per eight (a multiply per byte, as FNV makes, held the disk writer to 150 MB/s).
    @inline(__always) static func hash(_ word: UnsafeRawBufferPointer) -> UInt64 {
        var state = WordHash()
        for byte in word { state.add(lowercased(byte)) }
        return state.finish()
    }

    static func hash(_ word: [UInt8]) -> UInt64 { word.withUnsafeBytes { hash($0) } }

    /// Each byte lower-cased when it is part of a word, else 0: one load per byte where the disk writer
    /// tokenizes every line it stores.
    private static let folded: [UInt8] = (0...255).map { isWordByte(UInt8($0)) ? lowercased(UInt8($0)) : 0 }

    /// Calls `body` with the hash of each word of `text`, in order (repeats included).
    @inline(__always) static func forEachWordHash(in text: UnsafeRawBufferPointer, _ body: (UInt64) -> Void) {
        folded.withUnsafeBufferPointer { folded in
            let table = folded.baseAddress.unsafelyUnwrapped  // 256 entries: any byte indexes it
            var state = WordHash()
            for byte in text {
                let value = table[Int(byte)]
                if value != 0 {
                    state.add(value)
                } else if !state.isEmpty {
                    body(state.finish())
                    state = WordHash()
                }
            }
            if !state.isEmpty { body(state.finish()) }
        }
    }

    /// The words of `text` (lower-cased), in order.
    static func words(in text: [UInt8]) -> [[UInt8]] {
        text.split { !isWordByte($0) }.map { $0.map(lowercased) }
    }
}

/// A word's hash as its bytes come: eight bytes to a lane, a lane mixed in when full (multiply, fold).
struct WordHash {
    private var hash: UInt64 = 0x9E37_79B9_7F4A_7C15
    private var lane: UInt64 = 0
    private var count = 0

    var isEmpty: Bool { count == 0 }

    @inline(__always) mutating func add(_ byte: UInt8) {
        lane |= UInt64(byte) &<< UInt64((count & 7) &* 8)  // masking shifts and wrapping adds: no checks a byte
        count &+= 1
        if count & 7 == 0 {
            hash = Self.mix(hash ^ lane)
            lane = 0
        }
    }

    /// Murmur3's finalizer over the last lane and the length: the filter takes its probes from every bit.
    @inline(__always) func finish() -> UInt64 {
        var value = Self.mix(hash ^ lane) ^ UInt64(count)
        value = (value ^ value >> 33) &* 0xFF51_AFD7_ED55_8CCD
        value = (value ^ value >> 33) &* 0xC4CE_B9FE_1A85_EC53
        return value ^ value >> 33
    }

    @inline(__always) private static func mix(_ value: UInt64) -> UInt64 {
        let product = value.multipliedFullWidth(by: 0xFF51_AFD7_ED55_8CCD)
        return product.high ^ product.low
    }
}

/// A Bloom filter over word hashes, sized by the text it covers. Positions come from one 64-bit hash by double
/// hashing (Kirsch and Mitzenmacher), mapped onto the filter's bits by multiply-shift, so any size works.
public struct TokenBloom: Equatable {
    public private(set) var words: [UInt64]

    /// Probes per word. With about one bit per 5 bytes of text and 8 bits per distinct word, 4 probes keep
    /// false positives near 2 %.
    static let probes = 4
    /// Filter bits per byte of text covered.
    static let bitsPerTextByte = 0.2

    /// An empty filter sized for `textBytes` of text.
    public init(forTextBytes textBytes: Int) {
        let bits = max(64, Int(Double(textBytes) * Self.bitsPerTextByte))
        words = [UInt64](repeating: 0, count: (bits + 63) / 64)
    }

    /// A filter read back from its bytes (little-endian words).
    init(bytes: UnsafeRawBufferPointer) {
        words = (0..<bytes.count / 8).map { UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)) }
    }

    public var byteCount: Int { words.count * 8 }

    /// Inserts every word of `text` (the filter's storage is taken once, not once a word).
    public mutating func insertWords(of text: UnsafeRawBufferPointer) {
        let count = words.count
        words.withUnsafeMutableBufferPointer { words in
            let filter = words.baseAddress.unsafelyUnwrapped
            Tokens.forEachWordHash(in: text) { hash in
                _ = Self.allProbes(hash, words: count) { word, bit in
                    filter[word] |= bit
                    return true
                }
            }
        }
    }

    /// False when the word with this hash is certainly not among those inserted.
    @inline(__always) public func mayContain(_ hash: UInt64) -> Bool {
        Self.allProbes(hash, words: words.count) { word, bit in words[word] & bit != 0 }
    }

    /// The same test over a filter still in its stored bytes (a mapped block), reading only the probed words.
    static func mayContain(_ hash: UInt64, in bytes: UnsafeRawBufferPointer) -> Bool {
        allProbes(hash, words: bytes.count / 8) { word, bit in
            UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: word * 8, as: UInt64.self)) & bit != 0
        }
    }

    /// Calls `body` with the word index and bit mask of each of the hash's probes while it returns true;
    /// whether it always did. The one place that says where a hash's bits are.
    @inline(__always) private static func allProbes(_ hash: UInt64, words count: Int, _ body: (Int, UInt64) -> Bool) -> Bool {
        guard count > 0 else { return false }
        let bits = UInt64(count * 64)
        let step = (hash << 32 | hash >> 32) | 1  // a full-width step: the probes spread over the filter
        var probe = hash
        for _ in 0..<probes {
            let bit = Int(probe.multipliedFullWidth(by: bits).high)
            guard body(bit &>> 6, 1 &<< UInt64(bit & 63)) else { return false }
            probe &+= step
        }
        return true
    }

    func append(to writer: inout ByteWriter) {
        for word in words { writer.fixed(word) }
    }
}
