// The single-threaded event loop: one epoll instance dispatching readiness to registered handlers, timers and
// signals run on the same thread. It knows descriptors, nothing of the protocols spoken over them (compare
// Redis' ae.h); epoll itself is touched only here.
import CEpoll
import Glibc

/// Something that owns a descriptor and wants to hear when it is ready.
public protocol ReactorHandler: AnyObject {
    /// Data (or end of file, or an error) is waiting to be read.
    func readable()
    /// The socket can take more bytes.
    func writable()
}

extension ReactorHandler {
    public func writable() {}
}

public struct Interest: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let readable = Interest(rawValue: EPOLLIN.rawValue | EPOLLRDHUP.rawValue)
    public static let writable = Interest(rawValue: EPOLLOUT.rawValue)
}

public final class Reactor {
    private let epoll: FileDescriptor
    /// Registrations indexed by descriptor number: descriptors are small, dense integers.
    private var registrations: [Registration?] = []
    /// Tags registrations, so that an event for a descriptor closed and reused within one batch (its number
    /// given to a new connection) cannot reach the new owner: epoll's user data carries fd and tag.
    private var lastTag: UInt32 = 0
    private var events = [epoll_event](repeating: epoll_event(), count: 512)
    private var timers = TimerQueue()
    private var iterationEndActions: [() -> Void] = []
    private var isRunning = false
    /// Monotonic whole seconds, read once per batch of events: what handlers stamp activity with, at no cost
    /// per read.
    public private(set) var seconds = Int(Clock.monotonicNanoseconds / 1_000_000_000)
    /// One buffer every handler reads into and consumes before returning (the loop runs one handler at a time),
    /// instead of a buffer per connection or an allocation per read.
    public let readBuffer: UnsafeMutableRawBufferPointer

    static let readBufferBytes = 256 * 1024

    private struct Registration {
        var handler: ReactorHandler
        var tag: UInt32
    }

    public init() throws(SystemError) {
        epoll = FileDescriptor(rawValue: try systemCall("epoll_create1", cepoll_create()))
        readBuffer = .allocate(byteCount: Self.readBufferBytes, alignment: 64)
        _ = FileDescriptorReserve.shared  // its spare descriptor is taken now, while descriptors are left
    }

    deinit {
        epoll.close()
        readBuffer.deallocate()
    }

    // MARK: Descriptors

    public func register(_ fd: FileDescriptor, interest: Interest, handler: ReactorHandler) throws(SystemError) {
        let index = Int(fd.rawValue)
        if index >= registrations.count { registrations.append(contentsOf: repeatElement(nil, count: index + 1 - registrations.count)) }
        lastTag &+= 1
        _ = try systemCall("epoll_ctl(ADD)", cepoll_ctl(epoll.rawValue, EPOLL_CTL_ADD, fd.rawValue, interest.rawValue, Self.eventData(fd, lastTag)))
        registrations[index] = Registration(handler: handler, tag: lastTag)
    }

    /// Hands a registered descriptor to another handler (an HTTP connection upgraded to a WebSocket).
    public func replaceHandler(of fd: FileDescriptor, with handler: ReactorHandler) {
        if registration(of: fd) != nil { registrations[Int(fd.rawValue)]!.handler = handler }
    }

    /// Changes what `fd` is watched for. A failure (the descriptor is no longer registered, or the kernel is out
    /// of memory) is thrown: the caller closes the connection rather than leave it deaf.
    public func setInterest(_ interest: Interest, for fd: FileDescriptor) throws(SystemError) {
        guard let registration = registration(of: fd) else { throw SystemError("epoll_ctl(MOD)", errno: .badDescriptor) }
        _ = try systemCall("epoll_ctl(MOD)", cepoll_ctl(epoll.rawValue, EPOLL_CTL_MOD, fd.rawValue, interest.rawValue,
                                                   Self.eventData(fd, registration.tag)))
    }

    /// Forgets `fd`'s handler and closes it. Closing removes it from epoll (its only reference: descriptors are
    /// never duplicated here), so no EPOLL_CTL_DEL is needed; events already fetched for it are dropped by tag.
    public func close(_ fd: FileDescriptor) {
        if registration(of: fd) != nil { registrations[Int(fd.rawValue)] = nil }
        fd.close()
    }

    private func registration(of fd: FileDescriptor) -> Registration? {
        Int(fd.rawValue) < registrations.count ? registrations[Int(fd.rawValue)] : nil
    }

    /// Closes at once, or, when the peer may still be sending after our last words, gracefully.
    public func close(_ fd: FileDescriptor, gracefully: Bool) {
        gracefully ? closeGracefully(fd) : close(fd)
    }

    /// Accepts every pending connection on `listener` and registers each for reading with the handler
    /// `makeHandler` returns for it; one it returns nil for is closed at once (refused, not left in the
    /// backlog). Returns the handlers registered.
    @discardableResult
    public func acceptConnections<Handler: ReactorHandler>(
        on listener: FileDescriptor, _ makeHandler: (FileDescriptor, SocketAddress) -> Handler?
    ) -> [Handler] {
        var accepted: [Handler] = []
        while true {
            let connection: (FileDescriptor, SocketAddress)?
            do { connection = try Socket.accept(from: listener) } catch {
                FileDescriptorReserve.shared.shedPendingConnection(on: listener, after: error)
                return accepted
            }
            guard let (fd, peer) = connection else { return accepted }
            guard let handler = makeHandler(fd, peer) else {
                fd.close()
                continue
            }
            do {
                try register(fd, interest: .readable, handler: handler)
                accepted.append(handler)
            } catch {
                fd.close()
            }
        }
    }

    // MARK: Timers, signals, the loop

    /// Runs `action` every `intervalMilliseconds` on the loop thread, until cancelled.
    @discardableResult
    public func addTimer(everyMilliseconds intervalMilliseconds: Int, _ action: @escaping () -> Void) -> TimerID {
        let period = UInt64(max(intervalMilliseconds, 1)) * 1_000_000
        return timers.add(at: Clock.monotonicNanoseconds + period, period: period, action)
    }

    /// Runs `action` once, after `delayMilliseconds`, on the loop thread, unless cancelled first.
    @discardableResult
    public func schedule(afterMilliseconds delayMilliseconds: Int, _ action: @escaping () -> Void) -> TimerID {
        timers.add(at: Clock.monotonicNanoseconds + UInt64(max(delayMilliseconds, 0)) * 1_000_000, action)
    }

    public func cancel(_ timer: TimerID) {
        timers.cancel(timer)
    }

    /// Delivers the given signals to `action` on the loop thread instead of interrupting it.
    public func onSignals(_ signals: [Int32], _ action: @escaping (Int32) -> Void) throws(SystemError) {
        let source = FileDescriptor(rawValue: try systemCall("signalfd", cepoll_signal_create(signals, Int32(signals.count))))
        try register(source, interest: .readable, handler: SignalSource(fd: source, action: action))
    }

    /// Runs `action` after each batch of events: the place to flush work the batch produced.
    public func afterEachIteration(_ action: @escaping () -> Void) {
        iterationEndActions.append(action)
    }

    public func run() {
        isRunning = true
        while isRunning {
            let timeout = timers.millisecondsUntilNext(now: Clock.monotonicNanoseconds)
            let count: Int32
            do { count = try systemCall("epoll_wait", cepoll_wait(epoll.rawValue, &events, Int32(events.count), timeout)) } catch {
                fatalError("\(error)")  // EBADF, EFAULT, EINVAL: the loop itself is broken
            }
            let now = Clock.monotonicNanoseconds
            seconds = Int(now / 1_000_000_000)
            for index in 0..<Int(count) { dispatch(events[index]) }
            while let action = timers.popDue(now: now) { action() }
            for action in iterationEndActions { action() }
        }
    }

    /// Ends `run()` after the current batch of events.
    public func stop() {
        isRunning = false
    }

    private func dispatch(_ event: epoll_event) {
        let fd = Int(truncatingIfNeeded: event.data.u64 & 0xFFFF_FFFF)
        let tag = UInt32(truncatingIfNeeded: event.data.u64 >> 32)
        let flags = event.events
        if flags & (EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 {
            guard let registration = registrations[fd], registration.tag == tag else { return }
            registration.handler.readable()
        }
        // The read callback may have closed the descriptor, or handed it to another handler.
        if flags & EPOLLOUT.rawValue != 0, let registration = registrations[fd], registration.tag == tag {
            registration.handler.writable()
        }
    }

    private static func eventData(_ fd: FileDescriptor, _ tag: UInt32) -> UInt64 {
        UInt64(tag) << 32 | UInt64(UInt32(bitPattern: fd.rawValue))
    }
}

private final class SignalSource: ReactorHandler {
    let fd: FileDescriptor
    let action: (Int32) -> Void

    init(fd: FileDescriptor, action: @escaping (Int32) -> Void) {
        self.fd = fd
        self.action = action
    }

    func readable() {
        var signal: UInt32 = 0
        while let count = try? nonBlockingCall("read(signalfd)", cepoll_signal_read(fd.rawValue, &signal)), count > 0 {
            action(Int32(signal))
        }
    }
}
