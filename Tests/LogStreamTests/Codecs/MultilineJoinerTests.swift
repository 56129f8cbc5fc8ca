import Testing
@testable import LogStream

@Suite("Multi-line records joined")
struct MultilineJoinerTests {
    struct Joined: Equatable {
        var text: String
        var isTruncated = false
        var firstLine: Int
    }

    /// Feeds `text`'s lines; each record keeps the number of its first line as its context.
    func join(_ text: String, maxBytes: Int = 1 << 16, flush: Bool = true) -> [Joined] {
        var joiner = MultilineJoiner<Int>(maxBytes: maxBytes)
        var records: [Joined] = []
        let emit = { (text: UnsafeRawBufferPointer, isTruncated: Bool, line: Int) in
            records.append(Joined(text: text.text, isTruncated: isTruncated, firstLine: line))
        }
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            withBytes(String(line)) { joiner.feed($0, isTruncated: false, context: { number }, now: Int64(number), emit: emit) }
        }
        if flush { joiner.flush(emit: emit) }
        return records
    }

    func texts(_ text: String) -> [String] { join(text).map(\.text) }

    let java = """
        2026-12-03 10:00:00 ERROR [orders] request failed
        java.lang.IllegalStateException: boom
        \tat com.example.Orders.place(Orders.java:42)
        \tat com.example.Api.handle(Api.java:17)
        Caused by: java.io.IOException: disk full
        \tat com.example.Disk.write(Disk.java:9)
        \t... 2 more
        Suppressed: java.lang.RuntimeException: close failed
        \t\tat com.example.Disk.close(Disk.java:12)
        """

    @Test func aJavaTraceIsOneRecordWithItsCausesAndSuppressed() {
        #expect(join(java + "\nINFO next") == [Joined(text: java, firstLine: 0), Joined(text: "INFO next", firstLine: 9)])
    }

    @Test func aPythonTracebackChainedToAnotherIsOneRecord() {
        let python = """
            ERROR:worker:job failed
            Traceback (most recent call last):
              File "/app/worker.py", line 12, in run
                result = compute()
            ZeroDivisionError: division by zero

            During handling of the above exception, another exception occurred:

            Traceback (most recent call last):
              File "/app/worker.py", line 14, in run
            RuntimeError: wrapped
            """
        #expect(texts(python + "\nINFO:worker:next job") == [python, "INFO:worker:next job"])
        // With no record before it, a traceback is a record of its own; its exception line ends it.
        #expect(texts("Traceback (most recent call last):\n  File \"x\", line 1\nKeyError: 'a'\nINFO after") ==
                ["Traceback (most recent call last):\n  File \"x\", line 1\nKeyError: 'a'", "INFO after"])
    }

    @Test func aGoPanicKeepsItsGoroutineBlock() {
        let panic = """
            panic: runtime error: index out of range [3] with length 3

            goroutine 1 [running]:
            main.lookup(...)
            \t/app/main.go:11
            main.main()
            \t/app/main.go:20 +0x1d
            created by main.start in goroutine 1
            exit status 2
            """
        #expect(texts(panic + "\nlevel=info msg=restarted") == [panic, "level=info msg=restarted"])
        // Outside a goroutine block, a line ending in `)` is a line like any other.
        #expect(texts("INFO a\nINFO call(x)") == ["INFO a", "INFO call(x)"])
    }

    @Test func dotNetAndIndentedContinuations() {
        let dotnet = """
            fail: Api[0] Unhandled exception
            System.InvalidOperationException: Sequence contains no elements
               at System.Linq.ThrowHelper.ThrowNoElementsException()
            """
        #expect(texts(dotnet + "\ninfo: Api[0] ok") == [dotnet, "info: Api[0] ok"])
        #expect(texts("ERROR x\nat com.Foo.bar(Foo.java:1)\n[signal SIGSEGV: segmentation violation]") ==
                ["ERROR x\nat com.Foo.bar(Foo.java:1)\n[signal SIGSEGV: segmentation violation]"])
    }

    @Test func exceptionNamesMustBeQualifiedAndEndLikeOne() {
        func isName(_ line: String) -> Bool { withBytes(line) { MultilineJoiner<Int>.isQualifiedExceptionName($0) } }
        #expect(isName("java.lang.IllegalStateException: boom"))
        #expect(isName("com.example.Failure.BadError"))
        #expect(isName("a.Throwable:"))
        #expect(!isName("IllegalStateException: not qualified"))
        #expect(!isName("com.example.Orders placed"))
        #expect(!isName("config.Errors: 3"))
        #expect(!isName("www.example.com: Exception"))
    }

    @Test func blankLinesBetweenRecordsAreDroppedAndAContinuationNeedsARecord() {
        #expect(texts("\n\nINFO a\n\n\nINFO b\n\n") == ["INFO a", "INFO b"])
        #expect(texts("\tat first.Line(X.java:1)\nINFO b") == ["\tat first.Line(X.java:1)", "INFO b"])
    }

    @Test func theRecordIsCutAtMaxBytesAndMarked() {
        let joined = join("ERROR 0123456789\n\tat frame one\n\tat frame two", maxBytes: 20)
        #expect(joined == [Joined(text: "ERROR 0123456789\n\tat", isTruncated: true, firstLine: 0)])
        let exact = join("ERROR 0123456789\n\tat", maxBytes: 20)
        #expect(exact == [Joined(text: "ERROR 0123456789\n\tat", isTruncated: false, firstLine: 0)], "exactly the limit is whole")
    }

    @Test func theLastRecordWaitsForFlush() {
        var joiner = MultilineJoiner<Int>(maxBytes: 100)
        var records: [String] = []
        withBytes("ERROR held") { joiner.feed($0, isTruncated: false, context: { 7 }, now: 1234) { text, _, _ in records.append(text.text) } }
        #expect(records.isEmpty && joiner.hasPending && joiner.pendingContext == 7 && joiner.lastLineMilliseconds == 1234)
        joiner.flush { text, _, _ in records.append(text.text) }
        #expect(records == ["ERROR held"] && !joiner.hasPending)
        joiner.flush { text, _, _ in records.append(text.text) }
        #expect(records.count == 1, "nothing twice")
    }

    @Test func aTruncatedLineMarksItsRecord() {
        var joiner = MultilineJoiner<Int>(maxBytes: 100)
        var marks: [Bool] = []
        withBytes("ERROR x") { joiner.feed($0, isTruncated: false, context: { 0 }, now: 0) { _, cut, _ in marks.append(cut) } }
        withBytes("\tat long") { joiner.feed($0, isTruncated: true, context: { 1 }, now: 0) { _, cut, _ in marks.append(cut) } }
        joiner.flush { _, cut, _ in marks.append(cut) }
        #expect(marks == [true])
    }
}
