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
        let worker = try WorkerThread()
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
        let worker = try WorkerThread()
        var results: [Int] = []
        for index in 0..<100 { worker.submit({ index * 2 }, then: { results.append($0) }) }
        while results.count < 100, deliver(worker) {}
        #expect(results == (0..<100).map { $0 * 2 })
    }
}
