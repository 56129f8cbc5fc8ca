// GELF in: UDP datagrams (whole, or chunks reassembled) and NUL-terminated TCP frames, each one message,
// decoded into a record. A message that cannot be decoded is counted by cause and dropped; nothing else is.

public final class GELFIngest: FramedLineConsumer, DatagramConsumer {
    public let destination: RecordDestination
    /// A message inflates to at most this many bytes (and a TCP frame is at most this long).
    public let maxMessageBytes: Int
    private var batch: IngestBatch
    private var fields = FieldsBuilder()
    private let inflater = Inflater()
    public private(set) var assembler: GELFChunkAssembler
    public private(set) var messages: UInt64 = 0
    public private(set) var malformed: UInt64 = 0
    /// The last decoding failure, for the log.
    public private(set) var lastFailure: String?

    public init(destination: RecordDestination, maxLineBytes: Int, maxMessageBytes: Int, maxPendingChunkBytes: Int) {
        self.destination = destination
        self.maxMessageBytes = maxMessageBytes
        batch = IngestBatch(maxLineBytes: maxLineBytes)
        assembler = GELFChunkAssembler(maxPendingBytes: maxPendingChunkBytes)
    }

    /// A TCP frame (one uncompressed JSON message).
    /// A TCP message (GELF's listener is never TLS, so its host is never a verified one).
    public func ingest(_ line: FramedLine, host: UnsafeRawBufferPointer, hostNumber: Int?, hostIsVerified: Bool, protocol ingestProtocol: IngestProtocol,
                       receivedAtMilliseconds: Int64) {
        guard LineParser.trimmed(line.bytes) != nil else { return }  // keep-alive NULs, a trailing newline
        guard !line.isTruncated else { return fail("a TCP message over \(maxMessageBytes) bytes") }
        decode(line.bytes, peer: host, protocol: ingestProtocol, now: receivedAtMilliseconds)
    }

    /// A UDP datagram: a whole message, or one chunk of one.
    public func ingest(datagram: UnsafeRawBufferPointer, isTruncated: Bool, host: UnsafeRawBufferPointer, hostNumber: Int?,
                       maxLineBytes: Int, receivedAtMilliseconds now: Int64) {
        guard !isTruncated else { return fail("a datagram cut by the kernel") }
        guard GELFChunkAssembler.isChunk(datagram) else { return decode(datagram, peer: host, protocol: .udp, now: now) }
        if case .complete(let whole) = assembler.add(datagram, now: now) {
            whole.withUnsafeBytes { decode($0, peer: host, protocol: .udp, now: now) }
        }
    }

    /// Timer: drops chunked messages whose chunks stopped coming.
    public func expireChunks(now: Int64) {
        assembler.expire(now: now)
    }

    private func decode(_ payload: UnsafeRawBufferPointer, peer: UnsafeRawBufferPointer, protocol ingestProtocol: IngestProtocol, now: Int64) {
        batch.removeAll()
        do { try GELFMessage.decode(payload, limit: maxMessageBytes, fields: &fields, into: &batch, inflater: inflater) } catch {
            return fail(error.reason)
        }
        messages += 1
        batch.store(into: destination, protocol: ingestProtocol, peer: peer, receivedAtMilliseconds: now)
    }

    private func fail(_ reason: String) {
        malformed += 1
        lastFailure = reason
    }
}
