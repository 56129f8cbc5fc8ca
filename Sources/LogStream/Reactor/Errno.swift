// errno as a typed error: an `Errno` value with names for the codes this program tells apart (after
// swift-system's Errno), and `SystemError`, the one error the system layer throws, naming the operation.
import Glibc

public struct Errno: RawRepresentable, Error, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32

    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// The calling thread's errno now.
    public static var current: Errno { Errno(rawValue: errno) }

    public static let interrupted = Errno(rawValue: EINTR)
    public static let wouldBlock = Errno(rawValue: EAGAIN)
    public static let badDescriptor = Errno(rawValue: EBADF)
    public static let connectionAborted = Errno(rawValue: ECONNABORTED)
    public static let connectionReset = Errno(rawValue: ECONNRESET)
    public static let brokenPipe = Errno(rawValue: EPIPE)
    public static let tooManyOpenFiles = Errno(rawValue: EMFILE)
    public static let tooManyOpenFilesInSystem = Errno(rawValue: ENFILE)
    public static let addressInUse = Errno(rawValue: EADDRINUSE)
    public static let noSuchFile = Errno(rawValue: ENOENT)
    public static let fileExists = Errno(rawValue: EEXIST)
    public static let notDirectory = Errno(rawValue: ENOTDIR)
    public static let permissionDenied = Errno(rawValue: EACCES)
    public static let noSpace = Errno(rawValue: ENOSPC)
    public static let connectionRefused = Errno(rawValue: ECONNREFUSED)
    public static let timedOut = Errno(rawValue: ETIMEDOUT)
    public static let inProgress = Errno(rawValue: EINPROGRESS)
    public static let hostUnreachable = Errno(rawValue: EHOSTUNREACH)

    /// The C library's text for the code ("Address already in use").
    public var description: String { String(cString: strerror(rawValue)) }
}

public struct SystemError: Error, CustomStringConvertible, Equatable {
    /// The call that failed, as the reader of a log line would want it named (`bind`, `open logstream-data/x`).
    public let operation: String
    public let errno: Errno

    public init(_ operation: String, errno: Errno = .current) {
        self.operation = operation
        self.errno = errno
    }

    public var description: String { "\(operation): \(errno)" }

    /// Lets `catch let error where error ~= .noSuchFile`, and `switch` over an error's errno, read naturally.
    public static func ~= (errno: Errno, error: SystemError) -> Bool { error.errno == errno }
}
