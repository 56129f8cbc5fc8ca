import Testing
@testable import LogStream

@Suite("Timer queue: one-shot, periodic, cancelled")
struct TimerQueueTests {
    /// Runs every action due at `now` and returns the names they recorded.
    func fire(_ queue: inout TimerQueue, at now: UInt64, into log: Log) -> [String] {
        log.names.removeAll()
        while let action = queue.popDue(now: now) { action() }
        return log.names
    }

    final class Log { var names: [String] = [] }

    @Test("timers run at their deadlines, earliest first, and a one-shot timer runs once")
    func order() {
        var queue = TimerQueue()
        let log = Log()
        _ = queue.add(at: 300) { log.names.append("c") }
        _ = queue.add(at: 100) { log.names.append("a") }
        _ = queue.add(at: 200) { log.names.append("b") }
        #expect(fire(&queue, at: 99, into: log) == [])
        #expect(fire(&queue, at: 250, into: log) == ["a", "b"])
        #expect(fire(&queue, at: 1000, into: log) == ["c"])
        #expect(fire(&queue, at: 2000, into: log) == [])
        #expect(queue.isEmpty)
    }

    @Test("a periodic timer runs every period; one far behind runs once, not in a burst")
    func periodic() {
        var queue = TimerQueue()
        let log = Log()
        _ = queue.add(at: 10, period: 10) { log.names.append("tick") }
        #expect(fire(&queue, at: 10, into: log) == ["tick"])
        #expect(fire(&queue, at: 15, into: log) == [])
        #expect(fire(&queue, at: 20, into: log) == ["tick"])
        #expect(fire(&queue, at: 95, into: log) == ["tick"])  // 30 ... 90 missed: one run
        #expect(queue.millisecondsUntilNext(now: 95) == 1)  // next at 105 ns: rounded up to a millisecond
        #expect(fire(&queue, at: 105, into: log) == ["tick"])
    }

    @Test("a cancelled timer never runs; cancelling it again, or after it ran, does nothing")
    func cancelled() {
        var queue = TimerQueue()
        let log = Log()
        let later = queue.add(at: 50) { log.names.append("later") }
        let once = queue.add(at: 10) { log.names.append("once") }
        queue.cancel(later)
        #expect(fire(&queue, at: 100, into: log) == ["once"])
        queue.cancel(later)
        queue.cancel(once)
        #expect(queue.isEmpty)
        #expect(queue.millisecondsUntilNext(now: 100) == -1)
    }

    @Test("the wait until the next deadline is rounded up to whole milliseconds, 0 when one is due")
    func timeout() {
        var queue = TimerQueue()
        #expect(queue.millisecondsUntilNext(now: 0) == -1)
        let id = queue.add(at: 2_500_000) {}
        #expect(queue.millisecondsUntilNext(now: 0) == 3)
        #expect(queue.millisecondsUntilNext(now: 2_000_000) == 1)
        #expect(queue.millisecondsUntilNext(now: 2_500_000) == 0)
        queue.cancel(id)
        #expect(queue.millisecondsUntilNext(now: 0) == -1)
    }
}
