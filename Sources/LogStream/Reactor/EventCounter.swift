// An eventfd: a counter one thread adds to and another takes, the way threads wake the reactor (and the
// reactor wakes them) without a lock.
import CEpoll

struct EventCounter {
    let descriptor: FileDescriptor

    /// A non-blocking counter is one the reactor watches; a blocking one is one a worker sleeps on.
    init(nonBlocking: Bool) throws(SystemError) {
        descriptor = FileDescriptor(rawValue: try systemCall("eventfd", cepoll_event_create(nonBlocking ? 1 : 0)))
    }

    /// Adds one, waking a thread waiting to take it. (It fails only when the counter would overflow 2^64 - 2,
    /// which a waiter taking it prevents.)
    func signal() {
        var one: UInt64 = 1
        _ = withUnsafeBytes(of: &one) { try? descriptor.write($0) }
    }

    /// Takes the count and resets it to zero: waits for a non-zero count if the counter blocks; 0 when a
    /// non-blocking one is zero.
    @discardableResult
    func take() -> UInt64 {
        var count: UInt64 = 0
        let read = withUnsafeMutableBytes(of: &count) { try? descriptor.read(into: $0) }
        return read == .bytes(8) ? count : 0
    }

    func close() {
        descriptor.close()
    }
}
