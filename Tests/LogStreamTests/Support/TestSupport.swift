// Small helpers for driving byte-buffer APIs from strings.
@testable import LogStream

func withBytes<R>(_ text: String, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
    try Array(text.utf8).withUnsafeBytes(body)
}

func withBytes<R>(_ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) -> R) -> R {
    bytes.withUnsafeBytes(body)
}

extension UnsafeRawBufferPointer {
    var text: String { String(decoding: self, as: UTF8.self) }
}

/// Feeds `chunks` to a framer and returns the lines it emitted, with their truncation marks.
func frame(_ chunks: [String], maxLineBytes: Int = 64, framing: LineFramer.Framing = .lines, finish: Bool = false) -> [(String, Bool)] {
    var framer = LineFramer(maxLineBytes: maxLineBytes, framing: framing)
    var lines: [(String, Bool)] = []
    for chunk in chunks {
        withBytes(chunk) { framer.feed($0) { lines.append(($0.bytes.text, $0.isTruncated)) } }
    }
    if finish { framer.finish { lines.append(($0.bytes.text, $0.isTruncated)) } }
    return lines
}

/// The bytes of `range` in `bytes` (a service named inside a line), or none.
func slice(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>?) -> UnsafeRawBufferPointer {
    range.map { UnsafeRawBufferPointer(rebasing: bytes[$0]) } ?? UnsafeRawBufferPointer(start: nil, count: 0)
}
