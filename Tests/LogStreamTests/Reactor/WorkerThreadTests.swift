import Foundation
import Glibc
import Testing
@testable import LogStream

@Suite("Worker thread")
struct WorkerThreadTests {
    /// Waits for the worker's eventfd, then lets it deliver, as the reactor would.
    func deliver(_ worker: WorkerThread) -> Bool {
        var ready = pollfd(fd: worker.fd.rawValue, events: Int16(POLLIN), revents: 0)
        guard poll(&ready, 1, 5000) == 1 else { return false }
        worker.readable()
        return true
    }

    @Test("a slow job does not hold up the submitter, and its result comes back through the eventfd")
    func slowJob() throws {
        let worker = try WorkerThread(name: "test")
        var results: [Int] = []
        let started = Date()
        worker.submit({ () -> Int in
            usleep(200_000)
            return 42
        }, then: { results.append($0) })
        #expect(Date().timeIntervalSince(started) < 0.1)
        #expect(results.isEmpty)
        while results.isEmpty, deliver(worker) {}
        #expect(results == [42])
    }

    @Test("results come back in the order the jobs went in")
    func order() throws {
        let worker = try WorkerThread(name: "test")
        var results: [Int] = []
        for index in 0..<100 { worker.submit({ index * 2 }, then: { results.append($0) }) }
        while results.count < 100, deliver(worker) {}
        #expect(results == (0..<100).map { $0 * 2 })
    }

    @Test("workers by purpose: a job that blocks one worker does not delay another's")
    func independentWorkers() throws {
        let disk = try WorkerThread(name: "test-disk")
        let queries = try WorkerThread(name: "test-query")
        let release = Locked(false)
        var order: [String] = []
        disk.submit({ () -> Int in
            while !release.withLock({ $0 }) { usleep(1000) }  // an fsync that takes its time
            return 1
        }, then: { _ in order.append("disk") })
        queries.submit({ 2 }, then: { _ in order.append("query") })
        #expect(deliver(queries))
        #expect(order == ["query"])
        release.withLock { $0 = true }
        while order.count < 2, deliver(disk) {}
        #expect(order == ["query", "disk"])
    }

    @Test("a worker's thread carries its name, as top -H and /proc show it")
    func threadNames() throws {
        let worker = try WorkerThread(name: "named-check")
        worker.submit({ () -> String in
            (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? ""
        }, then: { #expect($0 == "ls-named-check\n") })
        #expect(deliver(worker))
    }
}
