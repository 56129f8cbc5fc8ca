// The reactor's timers: one-shot and periodic, each with an id to cancel it by (Redis' aeCreateTimeEvent and
// aeDeleteTimeEvent). Deadlines are monotonic nanoseconds passed in by the caller, so tests drive the queue
// without a clock. A cancelled timer's heap entry stays until its deadline comes round and is then skipped:
// cancelling costs a dictionary removal, not a search of the heap.
import HeapModule

public struct TimerID: Hashable, Sendable {
    let rawValue: UInt64
}

struct TimerQueue {
    private struct Entry: Comparable {
        var deadline: UInt64
        var id: TimerID

        static func < (lhs: Entry, rhs: Entry) -> Bool {
            (lhs.deadline, lhs.id.rawValue) < (rhs.deadline, rhs.id.rawValue)
        }
    }

    private struct Timer {
        var action: () -> Void
        /// Nanoseconds between runs; nil for a one-shot timer.
        var period: UInt64?
    }

    private var deadlines = Heap<Entry>()
    private var timers: [TimerID: Timer] = [:]
    private var lastID: UInt64 = 0

    var isEmpty: Bool { timers.isEmpty }

    /// Runs `action` at `deadline`, then every `period` nanoseconds if one is given.
    mutating func add(at deadline: UInt64, period: UInt64? = nil, _ action: @escaping () -> Void) -> TimerID {
        precondition(period.map { $0 > 0 } ?? true, "a periodic timer needs a period")
        lastID += 1
        let id = TimerID(rawValue: lastID)
        timers[id] = Timer(action: action, period: period)
        deadlines.insert(Entry(deadline: deadline, id: id))
        return id
    }

    /// The timer will not run again; cancelling one that has run (one-shot) or was cancelled does nothing.
    mutating func cancel(_ id: TimerID) {
        timers[id] = nil
    }

    /// Milliseconds from `now` until the next deadline, rounded up (waking early would only wait again), or
    /// -1 when no timer is set: what epoll_wait takes.
    mutating func millisecondsUntilNext(now: UInt64) -> Int32 {
        dropCancelled()
        guard let next = deadlines.min else { return -1 }
        guard next.deadline > now else { return 0 }
        return Int32(clamping: (next.deadline - now + 999_999) / 1_000_000)
    }

    /// The action of a timer due at `now`, earliest first, or nil when none is due. A periodic timer is set
    /// again, one period after its deadline (or after `now`, when it is more than a period behind: a stalled
    /// loop does not run it in a burst afterwards).
    mutating func popDue(now: UInt64) -> (() -> Void)? {
        dropCancelled()
        guard let next = deadlines.min, next.deadline <= now else { return nil }
        _ = deadlines.popMin()
        guard let timer = timers[next.id] else { return nil }
        if let period = timer.period {
            let following = next.deadline + period
            deadlines.insert(Entry(deadline: following > now ? following : now + period, id: next.id))
        } else {
            timers[next.id] = nil
        }
        return timer.action
    }

    private mutating func dropCancelled() {
        while let next = deadlines.min, timers[next.id] == nil { _ = deadlines.popMin() }
    }
}
