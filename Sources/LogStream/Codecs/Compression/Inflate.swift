// `Content-Encoding: gzip` and `deflate` bodies, inflated by the system's zlib under an output bound, so a small
// body that inflates to gigabytes (a bomb) is stopped at the bound instead of filling memory. gzip may hold
// several members back to back (RFC 1952 2.2; what `cat a.gz b.gz` and some shippers send); `deflate` is
// zlib-wrapped as RFC 9110 says, and raw deflate as some clients send it anyway.
import CZlib

public enum InflateError: Error, Equatable, CustomStringConvertible {
    /// The inflated bytes would pass the bound.
    case tooLarge(limit: Int)
    case malformed(String)

    public var description: String {
        switch self {
        case .tooLarge(let limit): "body inflates past \(limit) bytes"
        case .malformed(let reason): reason
        }
    }
}

public enum Inflate {
    public enum Wrapping: Sendable {
        case gzip
        /// zlib (RFC 1950), or raw deflate (RFC 1951) when the first two bytes are not a zlib header.
        case deflate
    }

    /// The inflated bytes of `input`, at most `limit` of them.
    public static func decompress(_ input: UnsafeRawBufferPointer, _ wrapping: Wrapping, limit: Int) throws(InflateError) -> [UInt8] {
        try Inflater().decompress(input, wrapping, limit: limit)
    }

    /// One call to zlib over the given windows: its status, bytes read and bytes written.
    static func step(_ stream: inout z_stream, input: UnsafeRawBufferPointer,
                             output: UnsafeMutableRawBufferPointer) -> (Int32, Int, Int) {
        let inputCount = UInt32(clamping: input.count)
        let outputCount = UInt32(clamping: output.count)
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = inputCount
        stream.next_out = output.baseAddress?.assumingMemoryBound(to: Bytef.self)
        stream.avail_out = outputCount
        let status = inflate(&stream, Z_NO_FLUSH)
        return (status, Int(inputCount - stream.avail_in), Int(outputCount - stream.avail_out))
    }

    /// RFC 1950 2.2: method 8, and the first two bytes a multiple of 31.
    static func isZlibHeader(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 2 && bytes[0] & 0x0F == 8 && (UInt16(bytes[0]) << 8 | UInt16(bytes[1])) % 31 == 0
    }
}

/// A zlib stream kept for many small inputs (GELF datagrams, gzip by default from Docker): reset for each
/// instead of set up and torn down, which cost as much as inflating a 300-byte message.
public final class Inflater {
    /// Allocated once: zlib's state points back at its stream, so the stream must not move.
    private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    private var isStarted = false

    public init() {
        stream.initialize(to: z_stream())
    }

    deinit {
        if isStarted { inflateEnd(stream) }
        stream.deallocate()
    }

    /// The inflated bytes of `input`, at most `limit` of them.
    public func decompress(_ input: UnsafeRawBufferPointer, _ wrapping: Inflate.Wrapping, limit: Int) throws(InflateError) -> [UInt8] {
        guard !input.isEmpty else { throw .malformed("empty \(wrapping == .gzip ? "gzip" : "deflate") body") }
        let windowBits: Int32
        switch wrapping {
        case .gzip: windowBits = 15 + 16
        case .deflate: windowBits = Inflate.isZlibHeader(input) ? 15 : -15
        }
        if isStarted {
            guard inflateReset2(stream, windowBits) == Z_OK else { throw .malformed("zlib could not restart") }
        } else {
            guard inflateInit2_(stream, windowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
                throw .malformed("zlib could not start")
            }
            isStarted = true
        }

        var output = [UInt8](repeating: 0, count: min(limit, max(4096, input.count * 4)))
        var produced = 0
        var consumed = 0
        while true {
            if produced == output.count {
                guard output.count < limit else { throw .tooLarge(limit: limit) }
                output.append(contentsOf: repeatElement(0, count: min(limit - output.count, output.count)))
            }
            let (status, read, written) = output.withUnsafeMutableBytes { out in
                Inflate.step(&stream.pointee, input: UnsafeRawBufferPointer(rebasing: input[consumed...]),
                             output: UnsafeMutableRawBufferPointer(rebasing: out[produced...]))
            }
            consumed += read
            produced += written
            switch status {
            case Z_STREAM_END:
                // Another gzip member may follow; anything else after the end is not part of the body.
                guard wrapping == .gzip, consumed < input.count else {
                    guard consumed == input.count else { throw .malformed("bytes after the end of the \(wrapping == .gzip ? "gzip" : "deflate") stream") }
                    output.removeSubrange(produced...)
                    return output
                }
                guard input.count - consumed >= 2, input[consumed] == 0x1F, input[consumed + 1] == 0x8B else {
                    throw .malformed("bytes after the end of the gzip stream")
                }
                inflateReset(stream)
            case Z_OK:
                continue
            case Z_BUF_ERROR where produced < output.count:
                throw .malformed("the \(wrapping == .gzip ? "gzip" : "deflate") stream is cut short")
            case Z_BUF_ERROR:
                continue  // the output was full: grow it
            default:
                let message = stream.pointee.msg.map { String(cString: $0) } ?? "status \(status)"
                throw .malformed("invalid \(wrapping == .gzip ? "gzip" : "deflate") data: \(message)")
            }
        }
    }
}
