// The query language and the regex engine on any text: parsing ends in a query or a positioned error, and a
// query (regexes included) runs over a line in bounded time, whatever it is. The input's first NUL, if any,
// separates the query from the line it is run over.
import FuzzSupport
@testable import LogStream

@main enum Main {
    static func main() { runFuzzer { data, count in fuzz(data!, count) } }
}

func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: min(count, 4096))
    let split = input.firstIndex(of: 0) ?? input.count
    let text = String(decoding: input[..<split], as: UTF8.self)
    let line = split < input.count ? Array(input[(split + 1)...]) : Array("ERROR [payment] card declined after 3 retries".utf8)
    let query: Query?
    do { query = try QueryParser.parse(text) } catch {
        precondition(error.position >= 0 && error.position <= text.utf8.count, "an error positioned outside the query")
        return 0
    }
    guard let query else { return 0 }
    let filter = RecordFilter(expression: query)
    _ = (filter.requiredText, filter.blockKey, filter.levelsWhenOnlyLevelCounts)
    line.withUnsafeBytes { line in
        let record = LogRecord(id: 1, receivedAtMilliseconds: 0, level: .error, ingestProtocol: .udp, isTruncated: false, line: line,
                               host: line, service: UnsafeRawBufferPointer(rebasing: line[..<min(3, line.count)]),
                               fields: RecordFields(blob: UnsafeRawBufferPointer(start: nil, count: 0)), format: .plain,
                               sourceTimeMilliseconds: nil)
        _ = filter.matches(record)
    }
    return 0
}
