// errno as a typed error, raised in one place so no raw -1 checks are scattered through the program.
import Glibc

public struct SystemError: Error, CustomStringConvertible, Equatable {
    public let operation: String
    public let code: Int32

    public init(_ operation: String, code: Int32 = errno) {
        self.operation = operation
        self.code = code
    }

    public var description: String { "\(operation): \(String(cString: strerror(code)))" }
}

/// Runs a syscall, retrying on EINTR; returns its non-negative result or throws its errno.
@inline(__always)
func retryingInterrupts<T: BinaryInteger>(_ operation: @autoclosure () -> String, _ call: () -> T) throws(SystemError) -> T {
    while true {
        let result = call()
        if result >= 0 { return result }
        if errno != EINTR { throw SystemError(operation()) }
    }
}
