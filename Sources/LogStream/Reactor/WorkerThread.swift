// Threads beside the reactor for work that may take long, one per purpose (queries now; the disk and shipping
// next) so that one kind of work never waits behind another (Redis' bio.c: a thread per job type). Jobs are
// handed over from the reactor thread and run in order on the worker; their results come back to the reactor
// thread through an eventfd it watches, so the reactor never waits for them. Two eventfds carry the wake-ups;
// two mutex-guarded lists carry the jobs and results.
import CEpoll
import Glibc

public final class WorkerThread: ReactorHandler, @unchecked Sendable {
    typealias Job = @Sendable () -> any Sendable

    /// What the thread is for, and its name in `top -H` and /proc (prefixed `ls-`).
    public let name: String
    /// Readable when results are waiting (the reactor's side).
    private let resultsWaiting: EventCounter
    /// Counts jobs handed over; the worker blocks taking it.
    private let jobsWaiting: EventCounter
    private let jobs = Locked<[(id: UInt64, run: Job)]>([])
    private let results = Locked<[(id: UInt64, value: any Sendable)]>([])

    // Reactor thread only.
    private var lastID: UInt64 = 0
    private var completions: [UInt64: (any Sendable) -> Void] = [:]

    var fd: FileDescriptor { resultsWaiting.descriptor }

    init(name: String) throws(SystemError) {
        self.name = name
        resultsWaiting = try EventCounter(nonBlocking: true)
        do { jobsWaiting = try EventCounter(nonBlocking: false) } catch {
            resultsWaiting.close()
            throw error
        }
        var thread = pthread_t()
        // The worker starts with every signal blocked (a thread inherits its creator's mask), so SIGTERM and
        // SIGINT keep going to the reactor's signalfd instead of killing the process from this thread.
        var all = sigset_t(), previous = sigset_t()
        sigfillset(&all)
        pthread_sigmask(SIG_SETMASK, &all, &previous)
        // The worker keeps itself alive for the life of the process.
        let started = pthread_create(&thread, nil, { context in
            let worker = Unmanaged<WorkerThread>.fromOpaque(context!).takeUnretainedValue()
            _ = cepoll_name_thread("ls-" + worker.name)
            worker.work()
            return nil
        }, Unmanaged.passRetained(self).toOpaque())
        pthread_sigmask(SIG_SETMASK, &previous, nil)
        guard started == 0 else { throw SystemError("pthread_create", errno: Errno(rawValue: started)) }
        pthread_detach(thread)
    }

    /// Runs `job` on the worker, after the jobs handed over before it; `then` gets its result on the reactor
    /// thread.
    public func submit<Value: Sendable>(_ job: @escaping @Sendable () -> Value, then: @escaping (Value) -> Void) {
        lastID += 1
        let id = lastID
        completions[id] = { then($0 as! Value) }
        jobs.withLock { $0.append((id, { job() })) }
        jobsWaiting.signal()
    }

    /// Results are waiting (reactor thread).
    public func readable() {
        resultsWaiting.take()
        let ready = results.withLock { list in
            defer { list.removeAll() }
            return list
        }
        for (id, value) in ready { completions.removeValue(forKey: id)?(value) }
    }

    private func work() {
        while true {
            jobsWaiting.take()  // blocks until jobs are handed over
            let batch = jobs.withLock { list in
                defer { list.removeAll() }
                return list
            }
            for (id, run) in batch {
                let value = run()
                results.withLock { $0.append((id, value)) }
                resultsWaiting.signal()
            }
        }
    }
}

extension Reactor {
    /// Starts a worker thread named for its purpose, whose results this reactor delivers.
    public func startWorker(named name: String) throws(SystemError) -> WorkerThread {
        let worker = try WorkerThread(name: name)
        try register(worker.fd, interest: .readable, handler: worker)
        return worker
    }
}
