// The one place system calls are run and their errors read: every call in the system layer goes through
// `systemCall` or, on a non-blocking descriptor, `nonBlockingCall`. EINTR is retried here and nowhere else; a failure
// becomes a SystemError naming the operation; EAGAIN from a non-blocking call is "not now", not an error.
import Glibc

/// Runs `call` until it is not interrupted; returns its non-negative result or throws its errno.
@inline(__always)
func systemCall<Result: FixedWidthInteger>(_ operation: @autoclosure () -> String, _ call: @autoclosure () -> Result) throws(SystemError) -> Result {
    while true {
        let result = call()
        if result >= 0 { return result }
        let errno = Errno.current
        if errno != .interrupted { throw SystemError(operation(), errno: errno) }
    }
}

/// The same for a call on a non-blocking descriptor: nil when it would block (EAGAIN, which on Linux is also
/// EWOULDBLOCK).
@inline(__always)
func nonBlockingCall<Result: FixedWidthInteger>(_ operation: @autoclosure () -> String, _ call: @autoclosure () -> Result) throws(SystemError) -> Result? {
    do { return try systemCall(operation(), call()) } catch where error.errno == .wouldBlock { return nil }
}
