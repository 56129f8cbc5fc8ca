// A bound on open connections for a listener: beyond it a new connection is accepted and closed at once (not
// left in the backlog, where it would wait unanswered), and counted.

public struct ConnectionLimit {
    public let maximum: Int
    public private(set) var refusedCount = 0

    public init(maximum: Int) { self.maximum = maximum }

    /// Takes one more connection if `open` is under the bound (and counts it in `open`); otherwise counts a
    /// refusal. For the factory of `Reactor.acceptConnections`, where `open` tracks one batch of accepts.
    public mutating func admit(open: inout Int) -> Bool {
        guard open < maximum else {
            refusedCount += 1
            return false
        }
        open += 1
        return true
    }
}
