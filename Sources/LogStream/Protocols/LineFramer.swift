// Splits a byte stream into newline-terminated lines, in place: a line wholly inside one read is handed out
// as a view of the caller's buffer; only a line split across reads is carried (copied) until its end arrives.
import Glibc

/// One line, without its `\n`, as a view that is valid only during the callback that receives it.
public struct FramedLine {
    public var bytes: UnsafeRawBufferPointer
    /// The line was longer than the limit and was cut there.
    public var isTruncated: Bool
}

public struct LineFramer {
    public let maxLineBytes: Int
    /// The start of a line whose end has not arrived yet.
    private var carry: [UInt8] = []
    /// After a truncation, bytes up to the next newline are dropped.
    private var isSkippingRest = false

    public init(maxLineBytes: Int) {
        precondition(maxLineBytes > 0)
        self.maxLineBytes = maxLineBytes
    }

    /// Bytes held for an unterminated line.
    public var carriedBytes: Int { carry.count }

    /// Hands every line completed by `chunk` to `emit`, and keeps an unterminated tail for the next call.
    public mutating func feed(_ chunk: UnsafeRawBufferPointer, emit: (FramedLine) -> Void) {
        var start = 0
        while start < chunk.count {
            guard let newline = Self.indexOfNewline(in: chunk, from: start) else {
                if !isSkippingRest { carryTail(UnsafeRawBufferPointer(rebasing: chunk[start...]), emit: emit) }
                return
            }
            let piece = UnsafeRawBufferPointer(rebasing: chunk[start..<newline])
            start = newline + 1
            if isSkippingRest {
                isSkippingRest = false
            } else if carry.isEmpty {
                emit(FramedLine(bytes: Self.prefix(piece, maxLineBytes), isTruncated: piece.count > maxLineBytes))
            } else {
                let isTruncated = carry.count + piece.count > maxLineBytes
                carry.append(contentsOf: Self.prefix(piece, maxLineBytes - carry.count))
                emitCarry(isTruncated: isTruncated, emit: emit)
            }
        }
    }

    /// At end of stream: the last, unterminated line is still a line.
    public mutating func finish(emit: (FramedLine) -> Void) {
        if !carry.isEmpty { emitCarry(isTruncated: false, emit: emit) }
        isSkippingRest = false
    }

    /// Splits a self-contained buffer (a datagram) into lines, each cut at `maxLineBytes`.
    public static func forEachLine(in buffer: UnsafeRawBufferPointer, maxLineBytes: Int, _ emit: (FramedLine) -> Void) {
        var start = 0
        while start < buffer.count {
            let end = indexOfNewline(in: buffer, from: start) ?? buffer.count
            let piece = UnsafeRawBufferPointer(rebasing: buffer[start..<end])
            emit(FramedLine(bytes: prefix(piece, maxLineBytes), isTruncated: piece.count > maxLineBytes))
            start = end + 1
        }
    }

    private mutating func carryTail(_ tail: UnsafeRawBufferPointer, emit: (FramedLine) -> Void) {
        // A line may be exactly the limit long; only a byte beyond it proves truncation.
        if carry.count + tail.count > maxLineBytes {
            carry.append(contentsOf: Self.prefix(tail, maxLineBytes - carry.count))
            emitCarry(isTruncated: true, emit: emit)
            isSkippingRest = true
        } else {
            carry.append(contentsOf: tail)
        }
    }

    private mutating func emitCarry(isTruncated: Bool, emit: (FramedLine) -> Void) {
        carry.withUnsafeBytes { emit(FramedLine(bytes: $0, isTruncated: isTruncated)) }
        // Keep a small buffer for the next split line; give a large one back.
        carry.removeAll(keepingCapacity: carry.capacity <= 16 * 1024)
    }

    private static func prefix(_ bytes: UnsafeRawBufferPointer, _ count: Int) -> UnsafeRawBufferPointer {
        bytes.count <= count ? bytes : UnsafeRawBufferPointer(rebasing: bytes[..<count])
    }

    /// memchr: an order of magnitude faster than a Swift loop on this toolchain (NOTES.md).
    @inline(__always)
    static func indexOfNewline(in buffer: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard start < buffer.count, let base = buffer.baseAddress else { return nil }
        guard let found = memchr(base + start, 0x0A, buffer.count - start) else { return nil }
        return base.distance(to: UnsafeRawPointer(found))
    }
}
