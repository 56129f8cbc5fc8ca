// GELF datagrams, as the UDP listener hands them over: the input is a run of datagrams, each a length byte (up to
// 127) and its bytes, the length byte's top bit moving the clock 250 ms on. Whole messages and chunks (reassembled, in
// any order, duplicated, never completed) are decoded and stored. No crash; the chunks held never exceed their
// bound, and account for nothing once none is held; every record stored is within the line bound.
import FuzzSupport
@testable import LogStream

@main enum Main {
    static func main() { runFuzzer { data, count in fuzz(data!, count) } }
}

private let ring = LogRing(capacity: 256, arenaBytes: 1 << 20)
nonisolated(unsafe) private let destination = RecordDestination(ring: ring)  // libFuzzer calls from one thread
private let maxLineBytes = 256
private let maxPendingBytes = 4096

func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: count)
    let ingest = GELFIngest(destination: destination, maxLineBytes: maxLineBytes, maxMessageBytes: 1 << 16, maxPendingChunkBytes: maxPendingBytes)
    var offset = 0
    var now: Int64 = 1_795_946_400_000
    let firstNew = ring.storedIDs.upperBound
    while offset < input.count {
        let header = input[offset]
        let length = min(Int(header & 0x7F), input.count - offset - 1)
        let datagram = UnsafeRawBufferPointer(rebasing: input[(offset + 1)..<(offset + 1 + length)])
        offset += 1 + length
        if header & 0x80 != 0 { now += 250 }
        ingest.ingest(datagram: datagram, isTruncated: false, host: UnsafeRawBufferPointer(start: nil, count: 0), hostNumber: nil,
                      maxLineBytes: maxLineBytes, receivedAtMilliseconds: now)
        let assembler = ingest.assembler
        precondition(assembler.pendingBytes >= 0 && assembler.pendingBytes <= maxPendingBytes, "chunks held past their bound")
        precondition(assembler.pendingCount > 0 || assembler.pendingBytes == 0, "bytes counted for no message")
    }
    ingest.expireChunks(now: now + 5000)
    precondition(ingest.assembler.pendingCount == 0 && ingest.assembler.pendingBytes == 0, "chunks held past their expiry")
    for id in max(firstNew, ring.storedIDs.lowerBound)..<ring.storedIDs.upperBound {
        ring.read(id) { record in precondition(record.line.count <= maxLineBytes, "a record over the line bound") }
    }
    return 0
}
