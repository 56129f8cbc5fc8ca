// The line framer on any stream: no crash, no line over the bound, and the lines do not depend on how the
// stream was cut into reads (the first byte chooses where the cut falls).
import FuzzSupport
@testable import LogStream

@main enum Main {
    static func main() { runFuzzer { data, count in fuzz(data!, count) } }
}

func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    guard count > 0 else { return 0 }
    let stream = UnsafeRawBufferPointer(start: data + 1, count: count - 1)
    let cut = Int(data[0]) % (stream.count + 1)
    func lines(_ chunks: [UnsafeRawBufferPointer]) -> [([UInt8], Bool)] {
        var framer = LineFramer(maxLineBytes: 64)
        var out: [([UInt8], Bool)] = []
        for chunk in chunks { framer.feed(chunk) { out.append((Array($0.bytes), $0.isTruncated)) } }
        framer.finish { out.append((Array($0.bytes), $0.isTruncated)) }
        return out
    }
    let whole = lines([stream])
    let split = lines([UnsafeRawBufferPointer(rebasing: stream[..<cut]), UnsafeRawBufferPointer(rebasing: stream[cut...])])
    precondition(whole.allSatisfy { $0.0.count <= 64 }, "a line over the bound")
    precondition(whole.elementsEqual(split) { $0.0 == $1.0 && $0.1 == $1.1 }, "lines depend on where reads were cut")
    return 0
}
