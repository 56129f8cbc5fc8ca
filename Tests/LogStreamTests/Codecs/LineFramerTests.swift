import Testing
@testable import LogStream

@Suite("Line framer")
struct LineFramerTests {
    @Test("complete lines in one read are emitted in order")
    func completeLines() {
        let lines = frame(["one\ntwo\nthree\n"])
        #expect(lines.map(\.0) == ["one", "two", "three"])
        #expect(lines.allSatisfy { !$0.1 })
    }

    @Test("a line split across two reads is reassembled")
    func splitLine() {
        #expect(frame(["hel", "lo\nwor", "ld\n"]).map(\.0) == ["hello", "world"])
    }

    @Test("a line split across many one-byte reads is reassembled")
    func byteByByte() {
        let text = "alpha\nbeta\n"
        #expect(frame(text.map { String($0) }).map(\.0) == ["alpha", "beta"])
    }

    @Test("an unterminated last line is kept only when the stream finishes")
    func unterminatedTail() {
        #expect(frame(["a\nb"]).map(\.0) == ["a"])
        #expect(frame(["a\nb"], finish: true).map(\.0) == ["a", "b"])
    }

    @Test("carriage returns stay in the line for the parser to trim")
    func crlf() {
        #expect(frame(["x\r\ny\r\n"]).map(\.0) == ["x\r", "y\r"])
    }

    @Test("a line longer than the limit is cut, marked, and the rest skipped")
    func truncation() {
        let long = String(repeating: "a", count: 100)
        let lines = frame([long + "\nnext\n"], maxLineBytes: 10)
        #expect(lines.map(\.0) == [String(repeating: "a", count: 10), "next"])
        #expect(lines.map(\.1) == [true, false])
    }

    @Test("a long line arriving in pieces is cut once and the rest up to its newline skipped")
    func truncationAcrossReads() {
        let lines = frame(["aaaaaa", "aaaaaa", "aaaaaa", "aaa\nok\n"], maxLineBytes: 10)
        #expect(lines.map(\.0) == ["aaaaaaaaaa", "ok"])
        #expect(lines.map(\.1) == [true, false])
    }

    @Test("a line exactly at the limit is not truncated, even split across reads")
    func exactLimit() {
        let lines = frame(["12345", "67890", "\nz\n"], maxLineBytes: 10)
        #expect(lines.map(\.0) == ["1234567890", "z"])
        #expect(lines.map(\.1) == [false, false])
    }

    @Test("empty lines are emitted as empty (line ingest drops them)")
    func emptyLines() {
        #expect(frame(["\n\na\n"]).map(\.0) == ["", "", "a"])
    }

    @Test("a datagram is split into lines, with the last unterminated line kept")
    func datagram() {
        var lines: [String] = []
        withBytes("one\ntwo\nthree") { LineFramer.forEachLine(in: $0, maxLineBytes: 100) { lines.append($0.bytes.text) } }
        #expect(lines == ["one", "two", "three"])
    }

    @Test("datagram lines are truncated at the limit")
    func datagramTruncation() {
        var lines: [(String, Bool)] = []
        withBytes("abcdefgh\nxy") { LineFramer.forEachLine(in: $0, maxLineBytes: 4) { lines.append(($0.bytes.text, $0.isTruncated)) } }
        #expect(lines.map(\.0) == ["abcd", "xy"])
        #expect(lines.map(\.1) == [true, false])
    }
}

@Suite("Line framer: NUL and RFC 6587 octet counting")
struct OctetCountingTests {
    @Test("NUL ends a record like a newline")
    func nulTerminated() {
        #expect(frame(["<11>one\u{0}<12>two\u{0}three\n"]).map(\.0) == ["<11>one", "<12>two", "three"])
    }

    @Test("NUL-terminated framing keeps newlines inside a message and reads no octet counts")
    func nulOnly() {
        let messages = frame(["{\"a\":\n1}\u{0}12 {\"b\"", ":2}\u{0}\u{0}"], framing: .nulTerminated)
        #expect(messages.map(\.0) == ["{\"a\":\n1}", "12 {\"b\":2}", ""])
        let cut = frame([String(repeating: "x", count: 70) + "\n\u{0}next\u{0}"], framing: .nulTerminated)
        #expect(cut.map(\.0) == [String(repeating: "x", count: 64), "next"] && cut.map(\.1) == [true, false])
    }

    @Test("octet-counted frames are read by their length, newlines inside included")
    func counted() {
        let lines = frame(["11 <13>hello\nx9 <13>world"], finish: false)
        #expect(lines.map(\.0) == ["<13>hello\nx", "<13>world"])
    }

    @Test("counted and newline-framed records may alternate")
    func mixed() {
        #expect(frame(["8 <13>abcdplain line\n5 <13>x"]).map(\.0) == ["<13>abcd", "plain line", "<13>x"])
    }

    @Test("a counted frame split anywhere across reads is reassembled", arguments: Array(1..<24))
    func splitCounted(at split: Int) {
        let stream = "15 <13>first frame21 <14>second frame here"
        let bytes = Array(stream.utf8)
        let chunks = [String(decoding: bytes[..<split], as: UTF8.self), String(decoding: bytes[split...], as: UTF8.self)]
        #expect(frame(chunks).map(\.0) == ["<13>first frame", "<14>second frame here"])
    }

    @Test("lines that begin with digits but are not counts pass through untouched", arguments: [
        "2026-11-28T18:00:00Z INFO started", "200 OK", "12345", "42 is the answer", "7 <notsyslog", "0 <13>zero",
        "5 <1234>x", "12 <>", "3 <", "99",
    ])
    func digitsAreNotCounts(line: String) {
        #expect(frame([line + "\n"]).map(\.0) == [line])
        // Also when the digits arrive one read before the rest.
        let split = line.index(after: line.startIndex)
        #expect(frame([String(line[..<split]), String(line[split...]) + "\n"]).map(\.0) == [line])
    }

    @Test("a counted frame longer than the limit is truncated and counted once")
    func countedTruncation() {
        let body = "<13>" + String(repeating: "a", count: 96)
        let lines = frame(["100 " + body, "5 <13>z"], maxLineBytes: 10)
        #expect(lines.map(\.0) == ["<13>aaaaaa", "<13>z"])
        #expect(lines.map(\.1) == [true, false])
    }

    @Test("a counted frame cut short by the end of the stream is kept and marked")
    func shortFrameAtEnd() {
        let lines = frame(["50 <13>only part"], finish: true)
        #expect(lines.map(\.0) == ["<13>only part"])
        #expect(lines.map(\.1) == [true])
    }
}
