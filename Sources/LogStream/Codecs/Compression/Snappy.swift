// Snappy's block format (github.com/google/snappy, format_description.txt), what Promtail and Alloy compress
// Loki pushes with. Hand-written rather than libsnappy: the decoder is this one screen, and Debian machines
// ship no libsnappy, so the library would turn the README's one `swift run` into an apt-get first. The length
// the block announces is checked against the caller's bound before anything is allocated (a snappy bomb is
// refused unread), and every copy against what was written so far. Fuzzed (FuzzIngest).

public enum SnappyError: Error, Equatable, CustomStringConvertible {
    case tooLarge(length: Int, limit: Int)
    case malformed(String)

    public var description: String {
        switch self {
        case .tooLarge(let length, let limit): "snappy block announces \(length) bytes, over the bound of \(limit)"
        case .malformed(let reason): "invalid snappy block: \(reason)"
        }
    }
}

public enum Snappy {
    /// The decompressed bytes of one snappy block of at most `limit` bytes.
    public static func decompress(_ input: UnsafeRawBufferPointer, limit: Int) throws(SnappyError) -> [UInt8] {
        var index = 0
        var length = 0
        var shift = 0
        while true {
            guard index < input.count, shift <= 28 else { throw .malformed("no length preamble") }
            let byte = input[index]
            index += 1
            length |= Int(byte & 0x7F) << shift
            shift += 7
            if byte < 0x80 { break }
        }
        guard length <= limit else { throw .tooLarge(length: length, limit: limit) }
        var output = [UInt8](repeating: 0, count: length)
        let outcome = output.withUnsafeMutableBytes { out in
            Result { () throws(SnappyError) in try decodeElements(UnsafeRawBufferPointer(rebasing: input[index...]), into: out) }
        }
        let written = try outcome.get()
        guard written == length else { throw .malformed("\(written) bytes decoded, \(length) announced") }
        return output
    }

    private static func decodeElements(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(SnappyError) -> Int {
        var index = 0
        var written = 0
        /// `count` little-endian bytes at `index`, or nil past the end.
        func littleEndian(_ count: Int) -> Int? {
            guard index + count <= input.count else { return nil }
            var value = 0
            for offset in 0..<count { value |= Int(input[index + offset]) << (8 * offset) }
            index += count
            return value
        }
        while index < input.count {
            let tag = input[index]
            index += 1
            let length: Int
            let distance: Int
            switch tag & 3 {
            case 0:  // literal
                var literalLength = Int(tag >> 2) + 1
                if literalLength > 60 {
                    guard let long = littleEndian(literalLength - 60) else { throw .malformed("literal length cut short") }
                    literalLength = long + 1
                }
                guard literalLength <= input.count - index else { throw .malformed("literal runs past the input") }
                guard literalLength <= output.count - written else { throw .malformed("literal runs past the announced length") }
                output.baseAddress!.advanced(by: written).copyMemory(from: input.baseAddress!.advanced(by: index), byteCount: literalLength)
                index += literalLength
                written += literalLength
                continue
            case 1:
                guard let low = littleEndian(1) else { throw .malformed("copy cut short") }
                length = 4 + Int(tag >> 2 & 7)
                distance = Int(tag >> 5) << 8 | low
            case 2:
                guard let offset = littleEndian(2) else { throw .malformed("copy cut short") }
                length = Int(tag >> 2) + 1
                distance = offset
            default:
                guard let offset = littleEndian(4) else { throw .malformed("copy cut short") }
                length = Int(tag >> 2) + 1
                distance = offset
            }
            guard distance > 0, distance <= written else { throw .malformed("copy from before the start") }
            guard length <= output.count - written else { throw .malformed("copy runs past the announced length") }
            // Byte by byte: a copy may overlap what it writes (distance 1 repeats one byte).
            for offset in 0..<length { output[written + offset] = output[written + offset - distance] }
            written += length
        }
        return written
    }
}
