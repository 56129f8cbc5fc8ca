// A value guarded by a pthread mutex, for the little state the reactor and the worker thread share.
// Synchronization.Mutex would do, but on Linux it locks with raw futex calls that ThreadSanitizer cannot see,
// so every access under it is reported as a race; pthread's mutex it understands, and the lock is rarely taken.
import Glibc

final class Locked<Value>: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var value: Value

    init(_ value: Value) {
        self.value = value
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func withLock<Result>(_ body: (inout Value) -> Result) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body(&value)
    }
}
