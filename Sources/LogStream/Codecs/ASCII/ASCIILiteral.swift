// Bytes read in place compared with a literal (a JSON key, a member name, a stack-trace prefix). A byte loop:
// `elementsEqual` goes through the generic iterator, and was a tenth of a GELF message's decoding.

extension ASCII {
    static func equals(_ bytes: UnsafeRawBufferPointer, _ literal: StaticString) -> Bool {
        bytes.count == literal.utf8CodeUnitCount && matches(bytes, at: 0, literal)
    }

    static func hasPrefix(_ bytes: UnsafeRawBufferPointer, _ literal: StaticString) -> Bool {
        bytes.count >= literal.utf8CodeUnitCount && matches(bytes, at: 0, literal)
    }

    static func hasSuffix(_ bytes: UnsafeRawBufferPointer, _ literal: StaticString) -> Bool {
        bytes.count >= literal.utf8CodeUnitCount && matches(bytes, at: bytes.count - literal.utf8CodeUnitCount, literal)
    }

    /// Whether `literal` stands at `offset` (the caller has checked it fits).
    @inline(__always)
    private static func matches(_ bytes: UnsafeRawBufferPointer, at offset: Int, _ literal: StaticString) -> Bool {
        let start = literal.utf8Start
        for index in 0..<literal.utf8CodeUnitCount where bytes[offset + index] != start[index] { return false }
        return true
    }
}
