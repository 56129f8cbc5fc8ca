// One thread beside the reactor for work that may take long (a search over a million records): jobs are handed
// over from the reactor thread, run on the worker, and their results come back to the reactor thread through an
// eventfd the reactor watches, so the reactor never waits for them. Two eventfds carry the wake-ups; two
// mutex-guarded lists carry the jobs and results.
import CEpoll
import Glibc

final class WorkerThread: ReactorHandler, @unchecked Sendable {
    typealias Job = @Sendable () -> any Sendable

    /// Readable when results are waiting (the reactor's side).
    let fd: FileDescriptor
    /// Counts jobs handed over; the worker blocks reading it.
    private let jobsWaiting: FileDescriptor
    private let jobs = Locked<[(id: UInt64, run: Job)]>([])
    private let results = Locked<[(id: UInt64, value: any Sendable)]>([])

    // Reactor thread only.
    private var lastID: UInt64 = 0
    private var completions: [UInt64: (any Sendable) -> Void] = [:]

    init() throws(SystemError) {
        let results = cepoll_event_create(1)
        guard results >= 0 else { throw SystemError("eventfd") }
        let jobs = cepoll_event_create(0)
        guard jobs >= 0 else {
            Glibc.close(results)
            throw SystemError("eventfd")
        }
        fd = FileDescriptor(rawValue: results)
        jobsWaiting = FileDescriptor(rawValue: jobs)
        var thread = pthread_t()
        // The worker starts with every signal blocked (a thread inherits its creator's mask), so SIGTERM and
        // SIGINT keep going to the reactor's signalfd instead of killing the process from this thread.
        var all = sigset_t(), previous = sigset_t()
        sigfillset(&all)
        pthread_sigmask(SIG_SETMASK, &all, &previous)
        // The worker keeps itself alive for the life of the process.
        let started = pthread_create(&thread, nil, { context in
            Unmanaged<WorkerThread>.fromOpaque(context!).takeUnretainedValue().work()
            return nil
        }, Unmanaged.passRetained(self).toOpaque())
        pthread_sigmask(SIG_SETMASK, &previous, nil)
        guard started == 0 else { throw SystemError("pthread_create", code: started) }
        pthread_detach(thread)
    }

    /// Runs `job` on the worker; `then` gets its result on the reactor thread.
    func submit<Value: Sendable>(_ job: @escaping @Sendable () -> Value, then: @escaping (Value) -> Void) {
        lastID += 1
        let id = lastID
        completions[id] = { then($0 as! Value) }
        jobs.withLock { $0.append((id, { job() })) }
        _ = cepoll_event_signal(jobsWaiting.rawValue)
    }

    /// Results are waiting (reactor thread).
    func readable() {
        _ = cepoll_event_take(fd.rawValue)
        let ready = results.withLock { list in
            defer { list.removeAll() }
            return list
        }
        for (id, value) in ready { completions.removeValue(forKey: id)?(value) }
    }

    private func work() {
        while true {
            _ = cepoll_event_take(jobsWaiting.rawValue)  // blocks until jobs are handed over
            let batch = jobs.withLock { list in
                defer { list.removeAll() }
                return list
            }
            for (id, run) in batch {
                let value = run()
                results.withLock { $0.append((id, value)) }
                _ = cepoll_event_signal(fd.rawValue)
            }
        }
    }
}
