// What LogStream reads from and writes to ClickHouse: the input is read as an HTTP response head (the shipper's
// and the cluster search's answers), as RowBinary rows of a search answer, and as a query whose SQL translation
// must keep every user string inside its literal. No crash; a head's length stays within the input; the SQL has
// no quote left open.
import FuzzSupport
@testable import LogStream

@main enum Main {
    static func main() { runFuzzer { data, count in fuzz(data!, count) } }
}

func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: count)
    if case .complete(let head) = HTTPResponseParser.parse(input, maxHeadBytes: 2048) {
        precondition(head.length <= input.count, "a head longer than its bytes")
        if case .length(let length) = head.framing { precondition(length >= 0) }
    }
    var reader = RowBinaryReader(input)
    while !reader.isAtEnd, !reader.failed {
        _ = reader.string()
        _ = reader.uint64()
        for _ in 0..<reader.arrayCount() where !reader.failed { _ = reader.string() }
        precondition(reader.offset <= input.count || reader.failed)
    }
    let text = String(decoding: input, as: UTF8.self)
    if let query = try? QueryParser.parse(text) {
        checkLiterals(ClickHouseSQL.condition(RecordFilter(query: text, service: text, fields: [text: text], expression: query), ClusterWindow(node: text)))
    }
    checkLiterals(SQLText.literal(text))
    return 0
}

/// Every quote that opens a literal closes it: a string can end the literal only where we put the quote.
private func checkLiterals(_ sql: String) {
    var inLiteral = false, escaped = false
    for byte in sql.utf8 {
        if inLiteral {
            if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "'") { inLiteral = false }
        } else if byte == UInt8(ascii: "'") {
            inLiteral = true
        }
    }
    precondition(!inLiteral, "a literal left open: \(sql)")
}
