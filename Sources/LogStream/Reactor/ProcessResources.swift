// What the process asks of the system once, at start (descriptors, SIGPIPE), and malloc's own figures, read
// for /metrics and acted on by a periodic trim.
import CEpoll
import Glibc

public enum ProcessResources {
    /// Raises the soft limit on open descriptors to the hard one: many concurrent senders need more than the
    /// usual 1024. Best effort: a refusal leaves the limit as it was.
    public static func raiseDescriptorLimit() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }

    /// A peer that closes while we write must be an EPIPE error, not a signal that ends the process. Sockets are
    /// written with MSG_NOSIGNAL; this covers every other write.
    /// This machine's name (gethostname), or "localhost".
    public static var hostName: String {
        var name = [CChar](repeating: 0, count: 256)
        guard gethostname(&name, name.count - 1) == 0 else { return "localhost" }
        return String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static func ignoreBrokenPipes() {
        signal(SIGPIPE, SIG_IGN)
    }

    /// Bytes malloc has handed out (arenas and mmapped chunks) and bytes it holds free in its arenas: a leak
    /// grows the first, fragmentation the second.
    public static var heapFigures: (allocated: Int, free: Int) {
        var allocated = 0, free = 0
        cepoll_heap_figures(&allocated, &free)
        return (allocated, free)
    }

    /// Gives the kernel back the free pages inside malloc's arenas (malloc_trim(0)), not only those at their tops.
    public static func releaseFreeHeapPages() {
        cepoll_heap_release()
    }
}
