// A chunked request body (RFC 9112 section 7.1) decoded as it arrives, in the manner of picohttpparser's
// phr_decode_chunked: it is fed whatever bytes have come, appends the chunks' data to the body, and says how
// many bytes it used; the rest (a line not yet whole) waits for more. Strict where leniency lets requests
// be smuggled: CRLF after every size line, chunk and trailer, hex sizes without sign or overflow.

public struct ChunkedDecoder {
    public enum Outcome: Equatable {
        /// `consumed` bytes were used; more are needed.
        case needMore(consumed: Int)
        /// The body is complete; `consumed` bytes were used (what follows is the next request).
        case done(consumed: Int)
        /// The body would exceed the bound: answer 413.
        case tooLarge
        /// Not a chunked body: answer 400.
        case malformed(String)
    }

    private enum State: Equatable {
        case sizeLine
        /// Bytes of the current chunk still to come.
        case data(remaining: Int)
        /// The CRLF after a chunk's data.
        case dataEnd
        /// Trailer lines, until the empty one.
        case trailers
        case done
    }

    public let maxBodyBytes: Int
    private var state = State.sizeLine
    private var bodyBytes = 0
    private var trailerBytes = 0

    /// A size line (digits and extensions) longer than this is refused: no client needs more.
    static let maxLineBytes = 1024
    static let maxTrailerBytes = 8 * 1024

    public init(maxBodyBytes: Int) { self.maxBodyBytes = maxBodyBytes }

    public var isDone: Bool { state == .done }

    public mutating func decode(_ input: UnsafeRawBufferPointer, into body: inout [UInt8]) -> Outcome {
        var index = 0
        while true {
            switch state {
            case .done:
                return .done(consumed: index)
            case .sizeLine:
                let end: Int
                switch Self.lineEnd(input, from: index) {
                case .at(let found): end = found
                case .bareLineFeed: return .malformed("a line ends without CR")
                case .notYet: return input.count - index > Self.maxLineBytes ? .malformed("chunk size line too long") : .needMore(consumed: index)
                }
                guard end - index <= Self.maxLineBytes else { return .malformed("chunk size line too long") }
                guard let size = Self.chunkSize(UnsafeRawBufferPointer(rebasing: input[index..<end])) else {
                    return .malformed("malformed chunk size")
                }
                guard size <= maxBodyBytes - bodyBytes else { return .tooLarge }
                index = end + 2
                state = size == 0 ? .trailers : .data(remaining: size)
            case .data(let remaining):
                let available = min(remaining, input.count - index)
                guard available > 0 else { return .needMore(consumed: index) }
                body.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[index..<(index + available)]))
                bodyBytes += available
                index += available
                state = available == remaining ? .dataEnd : .data(remaining: remaining - available)
            case .dataEnd:
                guard input.count - index >= 2 else { return .needMore(consumed: index) }
                guard input[index] == 0x0D, input[index + 1] == 0x0A else { return .malformed("chunk data not followed by CRLF") }
                index += 2
                state = .sizeLine
            case .trailers:
                let end: Int
                switch Self.lineEnd(input, from: index) {
                case .at(let found): end = found
                case .bareLineFeed: return .malformed("a line ends without CR")
                case .notYet:
                    return trailerBytes + input.count - index > Self.maxTrailerBytes ? .malformed("trailers too long") : .needMore(consumed: index)
                }
                trailerBytes += end + 2 - index
                guard trailerBytes <= Self.maxTrailerBytes else { return .malformed("trailers too long") }
                // Trailer fields are read past, never used: a request's meaning is settled by its head.
                if end == index { state = .done }
                index = end + 2
            }
        }
    }

    private enum LineEnd { case at(Int), bareLineFeed, notYet }

    /// Where the CRLF ending the line at `start` begins.
    private static func lineEnd(_ input: UnsafeRawBufferPointer, from start: Int) -> LineEnd {
        var index = start
        while index < input.count {
            if input[index] == 0x0A { return index > start && input[index - 1] == 0x0D ? .at(index - 1) : .bareLineFeed }
            index += 1
        }
        return .notYet
    }

    /// `1*HEXDIG [ ";" chunk-ext ]`: the size, or nil.
    private static func chunkSize(_ line: UnsafeRawBufferPointer) -> Int? {
        var size = 0
        var digits = 0
        for byte in line {
            let digit: Int
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = Int(byte - 0x30)
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = Int(byte - 0x61 + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = Int(byte - 0x41 + 10)
            case UInt8(ascii: ";"), UInt8(ascii: " "), 0x09:
                // Extensions (and the whitespace some senders put before them) are allowed and ignored, but
                // only after at least one digit, and never holding a stray CR.
                return digits > 0 && !line.contains(0x0D) ? size : nil
            default: return nil
            }
            digits += 1
            guard digits <= 15 else { return nil }  // 16^15: far beyond any bound, and no overflow
            size = size << 4 | digit
        }
        return digits > 0 ? size : nil
    }
}
