// The data directory: created if missing, locked against a second server, and the one place that knows its
// file names (SegmentFormat's segments and SegmentIndex's indexes beside them, the id reservation `ids`, the
// shipping cursor `clickhouse.shipped`, the lock file `LOCK`). Files with other names are not the server's and are left alone.

public struct DataDirectoryError: Error, CustomStringConvertible {
    public var description: String
}

public final class DataDirectory: Sendable {
    public let path: String
    /// Held open (and locked) for the life of the process.
    private let lock: LockHolder

    final class LockHolder: Sendable {
        let file: File
        init(_ file: consuming File) { self.file = file }
    }

    public init(path: String) throws(DataDirectoryError) {
        self.path = path
        do {
            try FileSystem.makeDirectory(path)
        } catch {
            throw DataDirectoryError(description: "cannot use data directory \(path): \(error.errno)")
        }
        guard FileSystem.isDirectory(path) else { throw DataDirectoryError(description: "cannot use data directory \(path): not a directory") }
        let lockPath = path + "/LOCK"
        let file: File
        do { file = try File(lockPath, for: .writing) } catch {
            throw DataDirectoryError(description: "cannot use data directory \(path): \(error.errno)")
        }
        do { try file.lockExclusively() } catch {
            throw DataDirectoryError(description: "data directory \(path) is in use by another LogStream (\(lockPath) is locked)")
        }
        lock = LockHolder(file)
    }

    public func segmentPath(firstID: UInt64) -> String { path + "/" + SegmentFormat.segmentName(firstID: firstID) }

    /// The segments present, oldest first.
    func segments() throws(SystemError) -> [(firstID: UInt64, path: String)] {
        try FileSystem.entries(of: path).compactMap { name in
            SegmentFormat.firstID(ofSegmentNamed: name).map { ($0, path + "/" + name) }
        }.sorted { $0.firstID < $1.firstID }
    }

    public func indexPath(firstID: UInt64) -> String { path + "/" + SegmentIndex.name(firstID: firstID) }

    /// The blocks the index beside segment `firstID` names, if there is one that checks out for a segment of
    /// `segmentBytes` whose ids follow `previousLastID`.
    func readIndex(firstID: UInt64, segmentBytes: Int, after previousLastID: UInt64) -> [BlockEntry]? {
        guard let file = try? File(indexPath(firstID: firstID), for: .reading), let size = try? file.size(), size < 1 << 30 else { return nil }
        var bytes = [UInt8](repeating: 0, count: size)
        guard (try? bytes.withUnsafeMutableBytes { try file.read(into: $0, at: 0) }) == size else { return nil }
        return bytes.withUnsafeBytes { SegmentIndex.decode($0, segmentBytes: segmentBytes, after: previousLastID) }
    }

    /// Writes the index of a closed segment. Not synced: one lost or cut by a crash fails its CRC and start-up
    /// reads the segment's headers instead.
    func writeIndex(firstID: UInt64, _ bytes: [UInt8]) throws(SystemError) {
        let file = try File(indexPath(firstID: firstID), for: .writing)
        try file.truncate(to: 0)
        try file.write(bytes)
    }

    /// Indexes whose segment is gone (retention removed it, or a crash came between the two removals).
    func orphanIndexes() throws(SystemError) -> [String] {
        let names = Set(try FileSystem.entries(of: path))
        return names.filter { name in
            guard name.hasSuffix(SegmentIndex.suffix) else { return false }
            let segment = String(name.dropLast(SegmentIndex.suffix.count)) + SegmentFormat.segmentSuffix
            return SegmentFormat.firstID(ofSegmentNamed: segment) != nil && !names.contains(segment)
        }.map { path + "/" + $0 }
    }

    /// The first id not handed out yet, as last written; nil when there is none (or it does not check out).
    func readReservation() -> UInt64? { readID(named: "ids", magic: SegmentFormat.idsMagic) }

    /// Records that ids below `next` may have been handed out, durably.
    func writeReservation(_ next: UInt64) throws(SystemError) { try writeID(next, named: "ids", magic: SegmentFormat.idsMagic) }

    /// The first id not yet shipped to ClickHouse, as last written; nil when there is none (or it does not check out).
    func readShippedUpTo() -> UInt64? { readID(named: "clickhouse.shipped", magic: SegmentFormat.shippedMagic) }

    func writeShippedUpTo(_ next: UInt64) throws(SystemError) {
        try writeID(next, named: "clickhouse.shipped", magic: SegmentFormat.shippedMagic)
    }

    /// A file of one id: 8 bytes of magic, the id, a CRC of both. Read whole or not at all.
    private func readID(named name: String, magic: [UInt8]) -> UInt64? {
        guard let file = try? File(path + "/" + name, for: .reading) else { return nil }
        var bytes = [UInt8](repeating: 0, count: 20)
        guard (try? bytes.withUnsafeMutableBytes { try file.read(into: $0, at: 0) }) == 20 else { return nil }
        return bytes.withUnsafeBytes { raw -> UInt64? in
            var reader = ByteReader(raw)
            guard Array(reader.take(8)) == magic else { return nil }
            let value = reader.fixed(UInt64.self)
            guard reader.fixed(UInt32.self) == CRC32.of(UnsafeRawBufferPointer(rebasing: raw[..<16])) else { return nil }
            return value
        }
    }

    /// Written aside, synced, renamed over the old one and the directory synced: a crash leaves the old value
    /// or the new one, never a torn file.
    private func writeID(_ value: UInt64, named name: String, magic: [UInt8]) throws(SystemError) {
        var writer = ByteWriter()
        writer.bytes = magic
        writer.fixed(value)
        let crc = writer.bytes.withUnsafeBytes { CRC32.of($0) }
        writer.fixed(crc)
        let destination = path + "/" + name, temporary = destination + ".tmp"
        do {
            let file = try File(temporary, for: .writing)
            try file.truncate(to: 0)
            try file.write(writer.bytes)
            try file.synchronizeData()
        }
        try FileSystem.rename(temporary, to: destination)
        try FileSystem.synchronizeDirectory(path)
    }
}
