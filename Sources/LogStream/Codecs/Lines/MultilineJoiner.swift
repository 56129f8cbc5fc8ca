// One record per event: a stack trace sent as lines joins the record it belongs to. A line continues the
// pending record when it starts with whitespace, `at `, `Caused by:`, `Suppressed:` or `...` (Java's
// `... 12 more`), names a qualified exception class (`java.lang.IllegalStateException: boom` after logback's
// message line), or belongs to a Python traceback (its header, its indented lines and the exception line that
// ends it) or a Go panic (`goroutine N [state]:` and its frames: function lines, `created by`, `exit status`). Any other line
// starts a record; the pending one is handed out then, or by `flush` after a quiet spell (the caller's timer).
// Blank lines inside a trace are kept; blank lines between records are dropped, as they are without joining.

public struct MultilineJoiner<Context> {
    public let maxBytes: Int
    private var text: [UInt8] = []
    private var context: Context?
    private var isTruncated = false
    private var blankLinesHeld = 0
    private var block = Block.none
    /// When the pending record last grew (the caller's clock).
    public private(set) var lastLineMilliseconds: Int64 = 0

    enum Block { case none, pythonTraceback, goroutine }

    public init(maxBytes: Int) {
        self.maxBytes = maxBytes
    }

    public var hasPending: Bool { context != nil }
    /// What the pending record keeps of its first line.
    public var pendingContext: Context? { context }

    /// Takes one line (without its terminator). `context` is asked for only when the line starts a record:
    /// what the record keeps of its first line besides the text (a Forward event's members).
    public mutating func feed(_ line: UnsafeRawBufferPointer, isTruncated lineTruncated: Bool, context makeContext: () -> Context,
                              now: Int64, emit: (_ text: UnsafeRawBufferPointer, _ isTruncated: Bool, _ context: Context) -> Void) {
        if Self.isBlank(line) {
            if hasPending { blankLinesHeld += 1 }
            if block == .goroutine { block = .none }
            return
        }
        if hasPending, let next = Self.continuation(line, in: block) {
            block = next
            for _ in 0..<blankLinesHeld { append(UInt8(ascii: "\n")) }
            blankLinesHeld = 0
            append(UInt8(ascii: "\n"))
            append(line)
            isTruncated = isTruncated || lineTruncated
            lastLineMilliseconds = now
            return
        }
        flush(emit: emit)
        context = makeContext()
        block = Self.opening(line) ?? .none
        append(line)
        isTruncated = lineTruncated
        lastLineMilliseconds = now
    }

    /// Hands out the pending record, if any.
    public mutating func flush(emit: (_ text: UnsafeRawBufferPointer, _ isTruncated: Bool, _ context: Context) -> Void) {
        guard let pending = context else { return }
        text.withUnsafeBytes { emit(UnsafeRawBufferPointer(rebasing: $0[..<min($0.count, maxBytes)]), isTruncated || $0.count > maxBytes, pending) }
        context = nil
        text.removeAll(keepingCapacity: text.capacity <= 64 << 10)
        (isTruncated, blankLinesHeld, block) = (false, 0, .none)
    }

    private mutating func append(_ bytes: UnsafeRawBufferPointer) {
        // One byte past the limit is kept to mark the overflow; `flush` never hands it out.
        let room = maxBytes + 1 - text.count
        if room > 0 { text.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[..<min(bytes.count, room)])) }
    }

    private mutating func append(_ byte: UInt8) {
        if text.count <= maxBytes { text.append(byte) }
    }

    // MARK: - The rules

    /// The block a line continuing the pending record leaves the joiner in; nil when the line starts a record.
    static func continuation(_ line: UnsafeRawBufferPointer, in block: Block) -> Block? {
        let first = line[0]
        if first == 0x20 || first == 0x09 { return block }
        switch block {
        case .pythonTraceback:
            // The exception line that ends a traceback, or the text that chains the next one.
            return opening(line) == .pythonTraceback || ASCII.hasPrefix(line, "During handling") || ASCII.hasPrefix(line, "The above exception")
                ? .pythonTraceback : Block.none
        case .goroutine:
            // A frame's function line (`main.main()`, `main.lookup(...)`), `created by ...`, `exit status 2`.
            let isGoLine = line[line.count - 1] == UInt8(ascii: ")") || ASCII.hasPrefix(line, "created by ") || ASCII.hasPrefix(line, "exit status ")
                || opening(line) == .goroutine
            return isGoLine ? .goroutine : nil
        case .none:
            if let opened = opening(line) { return opened }
            if ASCII.hasPrefix(line, "at ") || ASCII.hasPrefix(line, "Caused by:") || ASCII.hasPrefix(line, "Suppressed:") || ASCII.hasPrefix(line, "...")
                || ASCII.hasPrefix(line, "[signal ") || ASCII.hasPrefix(line, "During handling") || ASCII.hasPrefix(line, "The above exception")
                || isQualifiedExceptionName(line) {
                return Block.none
            }
            return nil
        }
    }

    /// A line that opens a block whose lines continue the record.
    static func opening(_ line: UnsafeRawBufferPointer) -> Block? {
        if ASCII.hasPrefix(line, "Traceback (most recent call last):") { return .pythonTraceback }
        if ASCII.hasPrefix(line, "goroutine "), line.count >= 14, line[line.count - 1] == UInt8(ascii: ":"), line[line.count - 2] == UInt8(ascii: "]") {
            return .goroutine
        }
        return nil
    }

    /// `java.lang.IllegalStateException: boom`, `com.example.Failure`: dotted identifiers whose last part
    /// ends in Exception, Error or Throwable, then the end or a colon.
    static func isQualifiedExceptionName(_ line: UnsafeRawBufferPointer) -> Bool {
        var end = 0
        var dots = 0
        while end < line.count {
            let byte = line[end]
            if byte == UInt8(ascii: ".") {
                dots += 1
            } else if !(ASCIISet.identifierBytes.contains(byte)) {
                break
            }
            end += 1
        }
        guard dots > 0, end == line.count || line[end] == UInt8(ascii: ":") else { return false }
        let name = UnsafeRawBufferPointer(rebasing: line[..<end])
        return ASCII.hasSuffix(name, "Exception") || ASCII.hasSuffix(name, "Error") || ASCII.hasSuffix(name, "Throwable")
    }

    static func isBlank(_ line: UnsafeRawBufferPointer) -> Bool {
        line.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
    }
}
