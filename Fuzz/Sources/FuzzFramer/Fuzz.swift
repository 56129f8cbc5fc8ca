// The line framer on any stream, in both framings: no crash, no line over the bound, and the lines do not
// depend on how the stream was cut into reads (the first byte chooses where the cut falls). The lines then go
// through the multi-line joiner: where records end does not depend on its byte bound, a bounded record is the
// unbounded one's prefix (marked when cut), and no line is lost or reordered.
import FuzzSupport
@testable import LogStream

@main enum Main {
    static func main() { runFuzzer { data, count in fuzz(data!, count) } }
}

typealias Line = (bytes: [UInt8], isTruncated: Bool)

func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    guard count > 0 else { return 0 }
    let stream = UnsafeRawBufferPointer(start: data + 1, count: count - 1)
    let cut = Int(data[0]) % (stream.count + 1)
    for framing in [LineFramer.Framing.lines, .nulTerminated] {
        func lines(_ chunks: [UnsafeRawBufferPointer]) -> [Line] {
            var framer = LineFramer(maxLineBytes: 64, framing: framing)
            var out: [Line] = []
            for chunk in chunks { framer.feed(chunk) { out.append((Array($0.bytes), $0.isTruncated)) } }
            framer.finish { out.append((Array($0.bytes), $0.isTruncated)) }
            return out
        }
        let whole = lines([stream])
        let split = lines([UnsafeRawBufferPointer(rebasing: stream[..<cut]), UnsafeRawBufferPointer(rebasing: stream[cut...])])
        precondition(whole.allSatisfy { $0.bytes.count <= 64 }, "a line over the bound")
        precondition(whole.elementsEqual(split) { $0.bytes == $1.bytes && $0.isTruncated == $1.isTruncated }, "lines depend on where reads were cut")
        checkJoining(whole)
    }
    return 0
}

func checkJoining(_ lines: [Line]) {
    func join(maxBytes: Int) -> [(text: [UInt8], isTruncated: Bool, firstLine: Int)] {
        var joiner = MultilineJoiner<Int>(maxBytes: maxBytes)
        var records: [(text: [UInt8], isTruncated: Bool, firstLine: Int)] = []
        let emit = { (text: UnsafeRawBufferPointer, isTruncated: Bool, first: Int) in records.append((Array(text), isTruncated, first)) }
        for (number, line) in lines.enumerated() {
            line.bytes.withUnsafeBytes { joiner.feed($0, isTruncated: line.isTruncated, context: { number }, now: 0, emit: emit) }
        }
        joiner.flush(emit: emit)
        return records
    }
    let unbounded = join(maxBytes: 1 << 20)
    let bounded = join(maxBytes: 100)
    precondition(unbounded.map(\.firstLine) == bounded.map(\.firstLine), "where records end depends on the byte bound")
    for (whole, cut) in zip(unbounded, bounded) {
        precondition(cut.text.count <= 100 && whole.text.starts(with: cut.text), "a bounded record is not the whole one's prefix")
        precondition(cut.isTruncated == (whole.isTruncated || whole.text.count > 100), "a cut record is not marked")
    }
    // Every line that is not blank is in its record, in order: the records' lines are the input's.
    func isBlank(_ bytes: [UInt8]) -> Bool { bytes.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D } }
    let input = lines.map(\.bytes).filter { !isBlank($0) }
    guard !input.contains(where: { $0.contains(0x0A) }) else { return }  // octet-counted frames may hold newlines
    let joined = unbounded.flatMap { $0.text.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init) }.filter { !isBlank($0) }
    precondition(joined == input, "a line lost or reordered by joining")
}
