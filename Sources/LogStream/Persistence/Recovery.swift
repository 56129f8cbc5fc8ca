// Start-up: what the data directory holds, read back without reading the records. Each segment is mapped; a
// closed one's blocks come from its index (SegmentIndex) when that checks out, else its block headers are
// hopped through; a header that does not check out starts a search for the next one
// that does (a corrupt stretch is skipped and counted, the rest served). The newest segment's tail is where a
// crash leaves a torn write: blocks there that fail their CRC, and bytes after the last whole block, are cut
// off. Blocking: it runs before the reactor starts.

struct RecoveredHistory {
    var segments: [SegmentView] = []
    /// The newest segment, when new blocks can go on at its end: its path and where they go.
    var appendable: (path: String, offset: Int)?
    /// One past the newest id on disk (1 for an empty directory).
    var nextIDOnDisk: UInt64 = 1
    var reservation: UInt64?
    var tornBytesCut = 0
    var corruptStretches = 0
    var ignoredSegments: [String] = []

    /// The first id this run may hand out: past everything on disk and everything reserved.
    var firstNewID: UInt64 { max(nextIDOnDisk, reservation ?? 1) }
    /// Whether the last run stopped cleanly (it wrote the reservation as exactly its next id).
    var stoppedCleanly: Bool { reservation == nextIDOnDisk }
}

enum Recovery {
    /// Blocks of the newest segment's last this many bytes have their CRC checked at start.
    static let checkedTailBytes = 64 << 20

    static func recover(_ directory: DataDirectory, segmentBytes: Int, report: (String) -> Void) throws(SystemError) -> RecoveredHistory {
        var history = RecoveredHistory()
        history.reservation = directory.readReservation()
        let found = try directory.segments()
        var previousLastID: UInt64 = 0
        for (index, (firstID, path)) in found.enumerated() {
            let isNewest = index == found.count - 1
            let file = try File(path, for: isNewest ? .writing : .reading)
            let size = try file.size()
            let magic = SegmentFormat.fileMagic.count
            if size < magic, isNewest {
                // Created, then the crash came before its first bytes were durable: ours, and empty.
                try FileSystem.removeFile(path)
                continue
            }
            let mapping = try MappedFile(file, length: isNewest ? max(size, segmentBytes) : size)
            guard size >= magic, Array(mapping.bytes[..<magic]) == SegmentFormat.fileMagic else {
                history.ignoredSegments.append(path)
                report("not a segment this version wrote, left alone: \(path)")
                continue
            }
            var (blocks, end, stretches): ([BlockEntry], Int, Int)
            if !isNewest, let indexed = directory.readIndex(firstID: firstID, segmentBytes: size, after: previousLastID) {
                (blocks, end, stretches) = (indexed, size, 0)
            } else {
                mapping.adviseAccess(random: true)
                (blocks, end, stretches) = hop(mapping.bytes, size: size, after: previousLastID)
                mapping.adviseAccess(random: false)
            }
            history.corruptStretches += stretches
            if isNewest {
                while let last = blocks.last, last.offset + last.header.totalBytes > size - checkedTailBytes,
                      CRC32.of(last.body(in: mapping.bytes)) != last.header.bodyCRC {
                    blocks.removeLast()
                    end = last.offset
                }
                if end < size {
                    try file.truncate(to: end)
                    try file.synchronizeData()
                    history.tornBytesCut += size - end
                    report("cut a torn tail of \(size - end) bytes from \(path)")
                }
                history.appendable = (path, end)
            } else if end < size {
                history.corruptStretches += 1
                report("\(size - end) bytes after the last whole block of \(path) skipped")
            }
            if stretches > 0 { report("\(stretches) corrupt stretch(es) of \(path) skipped") }
            if let last = blocks.last { previousLastID = last.header.lastID }
            history.segments.append(SegmentView(file: SegmentFile(firstID: firstID, path: path, mapping: mapping), blocks: blocks, bytes: end))
        }
        history.nextIDOnDisk = previousLastID + 1
        for orphan in try directory.orphanIndexes() { try FileSystem.removeFile(orphan) }
        return history
    }

    /// The whole blocks of a segment's bytes, where the last one ends, and how many corrupt stretches were
    /// passed over. Ids must grow from block to block (and past `previousLastID`): a block that goes back is
    /// not trusted.
    static func hop(_ bytes: UnsafeRawBufferPointer, size: Int, after previousLastID: UInt64) -> ([BlockEntry], end: Int, stretches: Int) {
        var blocks: [BlockEntry] = []
        var offset = SegmentFormat.fileMagic.count
        var end = offset
        var stretches = 0
        var lastID = previousLastID
        func block(at offset: Int) -> BlockHeader? {
            guard offset + SegmentFormat.headerBytes <= size,
                  let header = BlockHeader(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + SegmentFormat.headerBytes])),
                  offset + header.totalBytes <= size, header.firstID > lastID else { return nil }
            return header
        }
        while offset + SegmentFormat.headerBytes <= size {
            if let header = block(at: offset) {
                blocks.append(BlockEntry(offset: offset, header: header))
                lastID = header.lastID
                offset += header.totalBytes
                end = offset
                continue
            }
            // Look for the next header that checks out; none means the rest is a torn tail.
            var next = offset + 1
            while next + SegmentFormat.headerBytes <= size, !(bytes.loadUnaligned(fromByteOffset: next, as: UInt32.self) == SegmentFormat.blockMagic.littleEndian && block(at: next) != nil) {
                next += 1
            }
            guard next + SegmentFormat.headerBytes <= size else { break }
            stretches += 1
            offset = next
        }
        return (blocks, end, stretches)
    }
}
