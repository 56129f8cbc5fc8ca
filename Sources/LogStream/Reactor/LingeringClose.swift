// Closing a socket that still has unread input makes the kernel send a reset, which can destroy the last
// response (a 4xx, a WebSocket close frame) before the peer reads it. So we shut down our side, discard what
// the peer still sends until it closes, and give up after a deadline or a byte budget.
import Glibc

final class LingeringClose: ReactorHandler {
    let fd: FileDescriptor
    private unowned let reactor: Reactor
    private var discardBudget = 1 << 20
    private var deadline: TimerID?
    private(set) var isFinished = false

    static let lingerMilliseconds = 2000

    init(fd: FileDescriptor, reactor: Reactor) {
        self.fd = fd
        self.reactor = reactor
        shutdown(fd.rawValue, Int32(SHUT_WR))
    }

    func start() {
        deadline = reactor.schedule(afterMilliseconds: Self.lingerMilliseconds) { [self] in finish() }
    }

    func readable() {
        while !isFinished {
            switch try? fd.read(into: reactor.readBuffer) {
            case .bytes(let count):
                discardBudget -= count
                if discardBudget <= 0 { finish() }
            case .wouldBlock:
                return
            case .endOfFile, nil:
                finish()
            }
        }
    }

    func finish() {
        guard !isFinished else { return }
        isFinished = true
        if let deadline { reactor.cancel(deadline) }
        reactor.close(fd)
    }
}

extension Reactor {
    /// Sends FIN, then closes `fd` once the peer has closed too, or after a short deadline. The descriptor's
    /// current handler is replaced; the caller must not use the descriptor afterwards.
    public func closeGracefully(_ fd: FileDescriptor) {
        let linger = LingeringClose(fd: fd, reactor: self)
        replaceHandler(of: fd, with: linger)
        do { try setInterest(.readable, for: fd) } catch {
            linger.finish()
            return
        }
        linger.start()
    }
}
