// ASCII case folding over bytes: the comparisons a search makes against a record's text, which is read in
// place and may hold any bytes (only ASCII letters fold; every other byte matches only itself).
import Glibc

enum ASCII {
    /// Whether `bytes` equal `folded` (already lower-cased) with ASCII case ignored.
    static func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ folded: [UInt8]) -> Bool {
        guard bytes.count == folded.count else { return false }
        for index in 0..<bytes.count where lowercased(bytes[index]) != folded[index] { return false }
        return true
    }

    /// ASCII case-insensitive substring search: candidates are found by the needle's first byte in either case
    /// with memchr (an order of magnitude faster than a byte loop over a line), then compared.
    static func contains(_ haystack: UnsafeRawBufferPointer, lowercasedNeedle needle: [UInt8]) -> Bool {
        contains(haystack, lowercasedNeedle: needle, wordStart: false, wordEnd: false)
    }

    /// The same, where a match must also begin at the start of a word (`wordStart`) and end at the end of one
    /// (`wordEnd`), as words are cut for the disk's word filters (`Tokens`). A needle that begins or ends with
    /// a byte outside words has a boundary there already.
    static func contains(_ haystack: UnsafeRawBufferPointer, lowercasedNeedle needle: [UInt8], wordStart: Bool, wordEnd: Bool) -> Bool {
        guard !needle.isEmpty else { return true }
        guard needle.count <= haystack.count, let base = haystack.baseAddress else { return false }
        let first = needle[0]
        let upper = first &- 0x61 < 26 ? first - 0x20 : first
        let lastStart = haystack.count - needle.count
        let (checkStart, checkEnd) = (wordStart && Tokens.isWordByte(first), wordEnd && Tokens.isWordByte(needle[needle.count - 1]))
        var start = 0
        while start <= lastStart {
            let remaining = lastStart + 1 - start
            var candidate = memchr(base + start, Int32(first), remaining).map { base.distance(to: UnsafeRawPointer($0)) } ?? Int.max
            if upper != first, let other = memchr(base + start, Int32(upper), min(remaining, candidate - start)) {
                candidate = base.distance(to: UnsafeRawPointer(other))
            }
            guard candidate != Int.max else { return false }
            var offset = 1
            while offset < needle.count, lowercased(haystack[candidate + offset]) == needle[offset] { offset += 1 }
            if offset == needle.count, !checkStart || candidate == 0 || !Tokens.isWordByte(haystack[candidate - 1]),
               !checkEnd || candidate + offset == haystack.count || !Tokens.isWordByte(haystack[candidate + offset]) {
                return true
            }
            start = candidate + 1
        }
        return false
    }

    @inline(__always) static func lowercased(_ byte: UInt8) -> UInt8 {
        byte &- 0x41 < 26 ? byte | 0x20 : byte
    }
}
