// A Fluent Forward client's bytes, as the connection takes them: framed as they arrive (the first byte picks the
// read size), each whole value read as a message and its events stored through the connection's sink, with
// multi-line joining on for odd first bytes. No crash; the framer agrees with one skip over the whole stream;
// every value that renders as JSON renders as JSON that parses; every record stored is within the line bound.
import FuzzSupport
@testable import LogStream

@main enum Main {
    static func main() { runFuzzer { data, count in fuzz(data!, count) } }
}

private let ring = LogRing(capacity: 256, arenaBytes: 1 << 20)
nonisolated(unsafe) private let destination = RecordDestination(ring: ring)  // libFuzzer calls from one thread
private let maxLineBytes = 256
private let maxMessageBytes = 1 << 16

func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    guard count > 0 else { return 0 }
    let stream = UnsafeRawBufferPointer(start: data + 1, count: count - 1)
    let step = 1 + Int(data[0] >> 1) * 8
    let sink = ForwardEventSink(destination: destination, peer: Array("fuzz".utf8), maxLineBytes: maxLineBytes, joinsLines: data[0] & 1 == 1)
    var framer = MessagePackFramer()
    var start = 0
    var available = 0
    var sequence = 0
    reading: while available < stream.count {
        available = min(stream.count, available + step)
        while start < available {
            let outcome: MessagePackFramer.Outcome
            do { outcome = try framer.end(in: UnsafeRawBufferPointer(rebasing: stream[start..<available])) } catch { break reading }
            guard case .complete(let length) = outcome else {
                if case .needsMore(let atLeast) = outcome, atLeast > maxMessageBytes { break reading }  // refused, as the connection does
                break
            }
            var whole = MessagePackReader(stream, offset: start)
            precondition((try? whole.skip()) != nil && whole.offset == start + length, "the framer and a whole skip disagree")
            let message = UnsafeRawBufferPointer(rebasing: stream[start..<(start + length)])
            checkJSON(message)
            guard store(message, sink: sink, sequence: sequence) else { break reading }
            sequence += 1
            start += length
        }
    }
    sink.finish(now: 1_795_946_400_000)
    if let last = sink.lastStoredID {
        ring.read(last) { record in precondition(record.line.count <= maxLineBytes, "a record over the line bound") }
    }
    return 0
}

/// Stores a message's events; false when the connection would be closed.
private func store(_ message: UnsafeRawBufferPointer, sink: ForwardEventSink, sequence: Int) -> Bool {
    guard let parsed = try? ForwardMessage.parse(message) else { return false }
    let tag = UnsafeRawBufferPointer(rebasing: message[parsed.tag])
    func storeEvents(in buffer: UnsafeRawBufferPointer) -> Bool {
        var events = parsed.events()
        while true {
            let event: ForwardEvent?
            do { event = try events.next(in: buffer) } catch { return false }
            guard let event else { return true }
            do { try sink.take(event, tag: tag, in: buffer, sequence: sequence, now: 1_795_946_400_000) } catch { return false }
        }
    }
    guard parsed.mode == .compressedPackedForward else { return storeEvents(in: message) }
    let compressed = UnsafeRawBufferPointer(rebasing: message[parsed.entries])
    guard let inflated = try? Inflate.decompress(compressed, .gzip, limit: 8 * maxMessageBytes) else { return false }
    return inflated.withUnsafeBytes { storeEvents(in: $0) }
}

private func checkJSON(_ value: UnsafeRawBufferPointer) {
    var reader = MessagePackReader(value)
    var writer = JSONWriter()
    guard (try? MessagePackJSON.write(&reader, into: &writer)) != nil else { return }
    let parsed = writer.bytes.withUnsafeBytes { try? JSONDocument(parsing: $0) }
    precondition(parsed != nil, "MessagePack rendered as JSON that does not parse")
}
