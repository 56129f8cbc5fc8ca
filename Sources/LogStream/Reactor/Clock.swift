// The two clocks: wall time for stamping records (milliseconds since the epoch) and monotonic time for timers
// and timeouts, which must not jump when the wall clock is set.
import Glibc

public enum Clock {
    /// Milliseconds since the Unix epoch (CLOCK_REALTIME: a vDSO call, no syscall).
    @inline(__always)
    public static var wallMilliseconds: Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }

    /// Nanoseconds since an arbitrary point (CLOCK_MONOTONIC).
    @inline(__always)
    public static var monotonicNanoseconds: UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }
}
