// Files, for the parts that keep data on disk (next: segment files) and the dashboard's files read at start:
// an owned handle with positioned reads and writes and the syncs a durable log needs, and the directory
// operations around it. Blocking calls: on the reactor thread only at startup, otherwise on a worker.
import Glibc

/// An open file this process owns: closed when the value goes away, never copied (swift-system's
/// FileDescriptor with the ownership of ZeroedPages).
public struct File: ~Copyable, Sendable {
    public let descriptor: FileDescriptor

    public enum Access {
        /// Read only.
        case reading
        /// Read and write; created if missing (with `permissions`).
        case writing
        /// Read and write; created, failing if it exists (a new segment must not overwrite an old one).
        case creatingNew
    }

    public init(_ path: String, for access: Access, permissions: mode_t = 0o644) throws(SystemError) {
        let flags: Int32 = switch access {
        case .reading: O_RDONLY
        case .writing: O_RDWR | O_CREAT
        case .creatingNew: O_RDWR | O_CREAT | O_EXCL
        }
        descriptor = FileDescriptor(rawValue: try systemCall("open \(path)", Glibc.open(path, flags | O_CLOEXEC, permissions)))
    }

    deinit { descriptor.close() }

    /// Reads into `buffer` from `offset` until it is full or the file ends; returns the bytes read.
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(SystemError) -> Int {
        var done = 0
        while done < buffer.count {
            let count = try systemCall("pread", pread(descriptor.rawValue, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done)))
            if count == 0 { break }
            done += count
        }
        return done
    }

    /// Writes all of `bytes` at `offset` (a short write is continued, not returned).
    public func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(SystemError) {
        var done = 0
        while done < bytes.count {
            done += try systemCall("pwrite", pwrite(descriptor.rawValue, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done)))
        }
    }

    /// Writes all of `bytes` at `offset`.
    public func write(_ bytes: [UInt8], at offset: Int = 0) throws(SystemError) {
        let result: Result<Void, SystemError> = bytes.withUnsafeBytes { raw in Result { () throws(SystemError) in try write(raw, at: offset) } }
        try result.get()
    }

    /// Makes the file's data durable (fdatasync: the data and what is needed to read it back, such as its size).
    public func synchronizeData() throws(SystemError) {
        _ = try systemCall("fdatasync", fdatasync(descriptor.rawValue))
    }

    /// The file's size in bytes.
    public func size() throws(SystemError) -> Int {
        var info = stat()
        _ = try systemCall("fstat", fstat(descriptor.rawValue, &info))
        return Int(info.st_size)
    }

    /// Takes this process's exclusive lock on the file (flock), failing at once (EWOULDBLOCK) if another
    /// process holds it: two servers must not write one data directory. Released when the file is closed.
    public func lockExclusively() throws(SystemError) {
        _ = try systemCall("flock", flock(descriptor.rawValue, LOCK_EX | LOCK_NB))
    }

    /// Cuts (or extends with zeros) the file to `size` bytes: a torn tail after a crash is cut off this way.
    public func truncate(to size: Int) throws(SystemError) {
        _ = try systemCall("ftruncate", ftruncate(descriptor.rawValue, off_t(size)))
    }
}

/// A file mapped read-only into memory, for readers on any thread: what they touch is paged in from the page
/// cache, nothing else is read. `length` may exceed the file's size (a segment still being written maps its
/// whole budget); bytes past the end must not be touched. Unmapped when the last reference goes away, so a
/// file removed by retention stays readable for the searches still holding it.
public final class MappedFile: @unchecked Sendable {
    public let bytes: UnsafeRawBufferPointer

    public init(_ file: borrowing File, length: Int) throws(SystemError) {
        guard length > 0 else {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        let address = mmap(nil, length, PROT_READ, MAP_SHARED, file.descriptor.rawValue, 0)
        guard let address, address != MAP_FAILED else { throw SystemError("mmap") }
        bytes = UnsafeRawBufferPointer(start: address, count: length)
    }

    /// Whether reads will hop about (no read-around on a fault: start-up reads one header a block, and reading
    /// around each would read most of the file) or go in order (the default).
    public func adviseAccess(random: Bool) {
        if let base = bytes.baseAddress {
            _ = madvise(UnsafeMutableRawPointer(mutating: base), bytes.count, random ? MADV_RANDOM : MADV_NORMAL)
        }
    }

    /// Drops this process's page table entries for the mapping: the pages stay in the page cache, and no
    /// longer count in its RSS until read again (after start-up reads a header of every block, say).
    public func releaseResidentPages() {
        if let base = bytes.baseAddress { _ = madvise(UnsafeMutableRawPointer(mutating: base), bytes.count, MADV_DONTNEED) }
    }

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }
}

public enum FileSystem {
    public enum Kind: Equatable {
        case regularFile, directory, other
    }

    /// What `path` is, not following a final symbolic link (`.other` for one); nil when nothing is there.
    public static func kind(of path: String) -> Kind? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .regularFile
        case S_IFDIR: return .directory
        default: return .other
        }
    }

    /// Whether `path` is a directory, following symbolic links (a flag may name a linked folder).
    public static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
    }

    /// Whether this process may read `path`.
    public static func isReadable(_ path: String) -> Bool {
        access(path, R_OK) == 0
    }

    /// The names in a directory, `.` and `..` left out, in no particular order.
    public static func entries(of directory: String) throws(SystemError) -> [String] {
        guard let stream = opendir(directory) else { throw SystemError("opendir \(directory)") }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Creates a directory; one that is already there is not an error.
    public static func makeDirectory(_ path: String, permissions: mode_t = 0o755) throws(SystemError) {
        do { _ = try systemCall("mkdir \(path)", mkdir(path, permissions)) } catch where error.errno == .fileExists && isDirectory(path) {}
    }

    /// Renames atomically (within one file system): readers see the old file or the new one, never a mix.
    public static func rename(_ source: String, to destination: String) throws(SystemError) {
        _ = try systemCall("rename \(source)", Glibc.rename(source, destination))
    }

    /// Bytes free for this process on the file system holding `path`.
    public static func availableBytes(at path: String) -> Int? {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return nil }
        return Int(info.f_bavail) * Int(info.f_frsize)
    }

    public static func removeFile(_ path: String) throws(SystemError) {
        _ = try systemCall("unlink \(path)", unlink(path))
    }

    /// Makes a directory's entries durable (a file created, renamed or removed in it survives a crash).
    public static func synchronizeDirectory(_ path: String) throws(SystemError) {
        let directory = try File(path, for: .reading)
        _ = try systemCall("fsync \(path)", fsync(directory.descriptor.rawValue))
    }

    /// The running executable's path (/proc/self/exe), to find files installed beside it.
    public static var executablePath: String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { return nil }
        return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
