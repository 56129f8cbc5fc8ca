// When the process runs out of descriptors, a level-triggered listener would wake the loop forever for a
// connection it cannot accept. Keeping one spare descriptor lets us accept that connection and close it.
import Glibc

public final class FileDescriptorReserve: @unchecked Sendable {
    /// Created with the reactor: made lazily, at the first EMFILE, it could not open its spare.
    public static let shared = FileDescriptorReserve()
    private var spare: FileDescriptor?
    /// Connections accepted and closed at once because no descriptor was left.
    public private(set) var shedCount = 0

    private init() { spare = Self.openSpare() }

    /// Called after accept failed: on EMFILE/ENFILE, frees the spare, accepts and drops one connection.
    public func shedPendingConnection(on listener: FileDescriptor, after error: SystemError) {
        guard error.errno == .tooManyOpenFiles || error.errno == .tooManyOpenFilesInSystem, let descriptor = spare else { return }
        descriptor.close()
        if let (fd, _) = try? Socket.accept(from: listener) {
            fd.close()
            shedCount += 1
        }
        spare = Self.openSpare()  // takes back the number just freed
    }

    private static func openSpare() -> FileDescriptor? {
        (try? systemCall("open /dev/null", open("/dev/null", O_RDONLY | O_CLOEXEC))).map(FileDescriptor.init(rawValue:))
    }
}
