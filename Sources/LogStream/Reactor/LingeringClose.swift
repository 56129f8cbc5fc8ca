// Closing a socket that still has unread input makes the kernel send a reset, which can destroy the last
// response (a 4xx, a WebSocket close frame) before the peer reads it. So we shut down our side, discard what
// the peer still sends until it closes, and give up after a deadline or a byte budget.
import CEpoll
import Glibc

final class LingeringClose: ReactorHandler {
    let fd: FileDescriptor
    let deadlineNanoseconds: UInt64
    private unowned let reactor: Reactor
    private var discardBudget = 1 << 20
    private(set) var isFinished = false

    static let lingerNanoseconds: UInt64 = 2_000_000_000

    init(fd: FileDescriptor, reactor: Reactor) {
        self.fd = fd
        self.reactor = reactor
        deadlineNanoseconds = cepoll_monotonic_ns() + Self.lingerNanoseconds
        shutdown(fd.rawValue, Int32(SHUT_WR))
    }

    func readable() {
        var scratch = [UInt8](repeating: 0, count: 16 * 1024)
        while !isFinished {
            let count = scratch.withUnsafeMutableBytes { Glibc.read(fd.rawValue, $0.baseAddress, $0.count) }
            if count > 0 {
                discardBudget -= count
                if discardBudget <= 0 { finish() }
            } else if count < 0 && (errno == EAGAIN || errno == EINTR) {
                return
            } else {
                finish()
            }
        }
    }

    func finish() {
        guard !isFinished else { return }
        isFinished = true
        reactor.close(fd)
    }
}

extension Reactor {
    /// Sends FIN, then closes `fd` once the peer has closed too, or after a short deadline. The descriptor's
    /// current handler is replaced; the caller must not use the descriptor afterwards.
    public func closeGracefully(_ fd: FileDescriptor) {
        let linger = LingeringClose(fd: fd, reactor: self)
        replaceHandler(of: fd, with: linger)
        setInterest(.readable, for: fd)
        trackLingering(linger)
    }
}
