// A descriptor number with the operations every kind of descriptor shares: read, write, close. Sockets add
// `send` (Socket.swift); files opened by this process are `File`s, which own their descriptor.
import Glibc

public struct FileDescriptor: Hashable, Sendable {
    public let rawValue: Int32

    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let standardError = FileDescriptor(rawValue: STDERR_FILENO)

    /// The outcome of a non-blocking read.
    public enum ReadResult: Equatable {
        case bytes(Int)
        case wouldBlock
        case endOfFile
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> ReadResult {
        guard let count = try nonBlockingCall("read", Glibc.read(rawValue, buffer.baseAddress, buffer.count)) else { return .wouldBlock }
        return count == 0 ? .endOfFile : .bytes(count)
    }

    /// Writes what the descriptor takes now; returns the byte count (0 when a non-blocking one is full).
    public func write(_ bytes: UnsafeRawBufferPointer) throws(SystemError) -> Int {
        try nonBlockingCall("write", Glibc.write(rawValue, bytes.baseAddress, bytes.count)) ?? 0
    }

    /// Closes the descriptor. Never retried: on Linux the descriptor is gone even when close reports EINTR,
    /// and a retry could close a number another thread has just been given. EBADF means it was closed twice,
    /// a bug.
    public func close() {
        if Glibc.close(rawValue) != 0 { assert(Errno.current != .badDescriptor, "descriptor \(rawValue) closed twice") }
    }
}
