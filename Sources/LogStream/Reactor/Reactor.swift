// The single-threaded event loop: one epoll instance dispatching readiness to registered handlers.
// It knows descriptors, timers and signals, nothing of the protocols spoken over them (compare Redis' ae.h).
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
    /// Handlers indexed by descriptor number: descriptors are small, dense integers.
    private var handlers: [ReactorHandler?] = []
    private var events = [epoll_event](repeating: epoll_event(), count: 512)
    private var iterationEndActions: [() -> Void] = []
    private var isRunning = false
    /// Sockets waiting for their peer to close; swept by a timer created on first use.
    private var lingering: [LingeringClose] = []
    private var hasLingerSweep = false
    /// Monotonic whole seconds, read once per batch of events: what handlers stamp activity with, at no cost
    /// per read.
    public private(set) var seconds = Int(cepoll_monotonic_ns() / 1_000_000_000)

    public init() throws(SystemError) {
        let fd = cepoll_create()
        guard fd >= 0 else { throw SystemError("epoll_create1") }
        epoll = FileDescriptor(rawValue: fd)
        _ = FileDescriptorReserve.shared  // its spare descriptor is taken now, while descriptors are left
    }

    deinit { epoll.close() }

    public func register(_ fd: FileDescriptor, interest: Interest, handler: ReactorHandler) throws(SystemError) {
        let index = Int(fd.rawValue)
        if index >= handlers.count { handlers.append(contentsOf: repeatElement(nil, count: index + 1 - handlers.count)) }
        guard cepoll_ctl(epoll.rawValue, EPOLL_CTL_ADD, fd.rawValue, interest.rawValue, UInt64(index)) == 0 else {
            throw SystemError("epoll_ctl(ADD)")
        }
        handlers[index] = handler
    }

    /// Hands an already registered descriptor to another handler (e.g. HTTP upgraded to WebSocket).
    public func replaceHandler(of fd: FileDescriptor, with handler: ReactorHandler) {
        handlers[Int(fd.rawValue)] = handler
    }

    public func setInterest(_ interest: Interest, for fd: FileDescriptor) {
        _ = cepoll_ctl(epoll.rawValue, EPOLL_CTL_MOD, fd.rawValue, interest.rawValue, UInt64(fd.rawValue))
    }

    /// Stops watching `fd`; the caller still owns and closes it.
    public func deregister(_ fd: FileDescriptor) {
        _ = cepoll_ctl(epoll.rawValue, EPOLL_CTL_DEL, fd.rawValue, 0, 0)
        if Int(fd.rawValue) < handlers.count { handlers[Int(fd.rawValue)] = nil }
    }

    /// Stops watching `fd` and closes it.
    public func close(_ fd: FileDescriptor) {
        deregister(fd)
        fd.close()
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

    /// Runs `action` every `intervalMilliseconds` on the loop thread.
    public func addTimer(everyMilliseconds intervalMilliseconds: Int, _ action: @escaping () -> Void) throws(SystemError) {
        let fd = cepoll_timer_create(UInt64(intervalMilliseconds) * 1_000_000)
        guard fd >= 0 else { throw SystemError("timerfd_create") }
        let timer = FileDescriptor(rawValue: fd)
        try register(timer, interest: .readable, handler: TimerSource(fd: timer, action: action))
    }

    /// Delivers the given signals to `action` on the loop thread instead of interrupting it.
    public func onSignals(_ signals: [Int32], _ action: @escaping (Int32) -> Void) throws(SystemError) {
        let fd = cepoll_signal_create(signals, Int32(signals.count))
        guard fd >= 0 else { throw SystemError("signalfd") }
        let source = FileDescriptor(rawValue: fd)
        try register(source, interest: .readable, handler: SignalSource(fd: source, action: action))
    }

    /// Runs `action` after each batch of events: the place to flush work the batch produced.
    public func afterEachIteration(_ action: @escaping () -> Void) {
        iterationEndActions.append(action)
    }

    public func run() {
        isRunning = true
        while isRunning {
            let count = cepoll_wait(epoll.rawValue, &events, Int32(events.count), -1)
            if count < 0 {
                if errno == EINTR { continue }
                fatalError("epoll_wait: \(SystemError("epoll_wait"))")
            }
            seconds = Int(cepoll_monotonic_ns() / 1_000_000_000)
            for index in 0..<Int(count) {
                let event = events[index]
                let fd = Int(event.data.u64)
                let flags = event.events
                if flags & (EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 {
                    handlers[fd]?.readable()
                }
                // The read callback may have closed and deregistered the descriptor.
                if flags & EPOLLOUT.rawValue != 0 {
                    handlers[fd]?.writable()
                }
            }
            for action in iterationEndActions { action() }
        }
    }

    func trackLingering(_ linger: LingeringClose) {
        lingering.append(linger)
        guard !hasLingerSweep else { return }
        hasLingerSweep = (try? addTimer(everyMilliseconds: 500) { [unowned self] in sweepLingering() }) != nil
    }

    private func sweepLingering() {
        let now = cepoll_monotonic_ns()
        for linger in lingering where now >= linger.deadlineNanoseconds { linger.finish() }
        lingering.removeAll { $0.isFinished }
    }

    /// Ends `run()` after the current batch of events.
    public func stop() {
        isRunning = false
    }
}

private final class TimerSource: ReactorHandler {
    let fd: FileDescriptor
    let action: () -> Void

    init(fd: FileDescriptor, action: @escaping () -> Void) {
        self.fd = fd
        self.action = action
    }

    func readable() {
        var expirations: UInt64 = 0
        let count = withUnsafeMutableBytes(of: &expirations) { Glibc.read(fd.rawValue, $0.baseAddress, 8) }
        if count == 8 { action() }
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
        while case let signal = cepoll_signal_read(fd.rawValue), signal > 0 {
            action(signal)
        }
    }
}
