// `/regular expressions/` for the query language, matched in time linear in the line whatever the pattern:
// the pattern is compiled to a small program and run as a Pike VM (all alternatives advanced together, one
// byte at a time), so there is no backtracking for hostile input to make catastrophic. Hand-written because
// Swift's Regex backtracks. Supported: literals, `.`, `[a-z]`, `[^...]`, `\d \w \s \D \W \S`, escapes, `^ $`,
// `( )`, `|`, `* + ?`, `{m}`, `{m,}`, `{m,n}`; bytes, not Unicode scalars; the `i` flag ignores ASCII case.

public struct Regex: Equatable, Sendable {
    public let pattern: String
    /// The `i` flag: ASCII case is ignored.
    public let ignoringCase: Bool
    /// Bytes every match contains (lower-cased; compared ignoring case), or empty: checked before the VM runs.
    public let requiredLiteral: [UInt8]
    private let program: [Instruction]
    private let sets: [ByteSet]

    public static let maxPatternBytes = 1024
    /// Repeats are expanded; this bounds the program (and so the work per byte).
    public static let maxInstructions = 10_000

    enum Instruction: Equatable, Sendable {
        case byte(set: Int)
        case split(Int, Int)
        case jump(Int)
        case lineStart, lineEnd
        case match
    }

    /// Throws a message saying what is wrong with the pattern.
    public init(_ pattern: String, ignoringCase: Bool) throws(RegexError) {
        let bytes = Array(pattern.utf8)
        guard bytes.count <= Self.maxPatternBytes else { throw RegexError("is longer than \(Self.maxPatternBytes) bytes") }
        var parser = RegexParser(bytes: bytes, ignoringCase: ignoringCase)
        let tree = try parser.alternation(depth: 0)
        guard parser.index == bytes.count else { throw RegexError("has an unbalanced ')'") }
        var compiler = RegexCompiler()
        try compiler.emit(tree)
        compiler.program.append(.match)
        self.pattern = pattern
        self.ignoringCase = ignoringCase
        requiredLiteral = tree.requiredLiteral
        program = compiler.program
        sets = compiler.sets
    }

    /// Whether the pattern matches anywhere in `text`.
    public func matches(_ text: UnsafeRawBufferPointer) -> Bool {
        if !requiredLiteral.isEmpty, !ASCII.contains(text, lowercasedNeedle: requiredLiteral) { return false }
        var current = ThreadList(capacity: program.count)
        var next = ThreadList(capacity: program.count)
        var pending: [Int] = []  // reused by every `add`: no allocation per byte
        pending.reserveCapacity(program.count)
        for position in 0...text.count {
            add(0, at: position, in: text, to: &current, using: &pending)  // a match may start at every position
            if current.contains(program.count - 1) { return true }
            guard position < text.count else { break }
            let byte = text[position]
            next.removeAll()
            for thread in current.members {
                if case .byte(let set) = program[thread], sets[set].contains(byte) {
                    add(thread + 1, at: position + 1, in: text, to: &next, using: &pending)
                }
            }
            swap(&current, &next)
            if current.contains(program.count - 1) { return true }
        }
        return false
    }

    /// Adds `pc` and everything reachable from it without reading a byte.
    private func add(_ pc: Int, at position: Int, in text: UnsafeRawBufferPointer, to list: inout ThreadList,
                     using pending: inout [Int]) {
        pending.append(pc)
        while let pc = pending.popLast() {
            guard list.insert(pc) else { continue }
            switch program[pc] {
            case .jump(let target): pending.append(target)
            case .split(let first, let second): pending.append(second); pending.append(first)
            case .lineStart: if position == 0 { pending.append(pc + 1) }
            case .lineEnd: if position == text.count { pending.append(pc + 1) }
            case .byte, .match: break
            }
        }
    }
}

public struct RegexError: Error, Equatable {
    public var message: String
    init(_ message: String) { self.message = message }
}

/// 256 bits: which bytes a step accepts.
struct ByteSet: Equatable, Sendable {
    private var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    static func == (lhs: ByteSet, rhs: ByteSet) -> Bool { lhs.words == rhs.words }

    func contains(_ byte: UInt8) -> Bool {
        let bit = UInt64(1) << UInt64(byte & 63)
        switch byte >> 6 {
        case 0: return words.0 & bit != 0
        case 1: return words.1 & bit != 0
        case 2: return words.2 & bit != 0
        default: return words.3 & bit != 0
        }
    }

    mutating func insert(_ byte: UInt8) {
        let bit = UInt64(1) << UInt64(byte & 63)
        switch byte >> 6 {
        case 0: words.0 |= bit
        case 1: words.1 |= bit
        case 2: words.2 |= bit
        default: words.3 |= bit
        }
    }

    init() {}

    init(single byte: UInt8) { insert(byte) }

    /// The one byte in the set, if it holds exactly one.
    var single: UInt8? {
        var found: UInt8?
        for byte in UInt8.min...UInt8.max where contains(byte) {
            guard found == nil else { return nil }
            found = byte
        }
        return found
    }

    mutating func insert(_ range: ClosedRange<UInt8>) { for byte in range { insert(byte) } }

    mutating func formUnion(_ other: ByteSet) {
        words = (words.0 | other.words.0, words.1 | other.words.1, words.2 | other.words.2, words.3 | other.words.3)
    }

    mutating func invert() { words = (~words.0, ~words.1, ~words.2, ~words.3) }

    /// Adds the other case of every ASCII letter in the set.
    mutating func addOtherCases() {
        for byte in UInt8(ascii: "A")...UInt8(ascii: "Z") where contains(byte) || contains(byte | 0x20) {
            insert(byte)
            insert(byte | 0x20)
        }
    }
}

/// Program counters, each at most once, in insertion order (a sparse set: clearing is O(1)).
private struct ThreadList {
    private(set) var members: [Int] = []
    private var isMember: [Bool]

    init(capacity: Int) {
        isMember = Array(repeating: false, count: capacity)
        members.reserveCapacity(capacity)
    }

    func contains(_ pc: Int) -> Bool { isMember[pc] }

    mutating func insert(_ pc: Int) -> Bool {
        guard !isMember[pc] else { return false }
        isMember[pc] = true
        members.append(pc)
        return true
    }

    mutating func removeAll() {
        for pc in members { isMember[pc] = false }
        members.removeAll(keepingCapacity: true)
    }
}
