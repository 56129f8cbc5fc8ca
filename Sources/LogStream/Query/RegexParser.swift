// The pattern of a `/regex/` read into a tree, then compiled into the Pike VM's program (Regex.swift).

indirect enum RegexNode: Equatable {
    case set(ByteSet)
    case sequence([RegexNode])
    case alternatives([RegexNode])
    case repeated(RegexNode, min: Int, max: Int?)
    case lineStart, lineEnd
}

struct RegexParser {
    let bytes: [UInt8]
    let ignoringCase: Bool
    var index = 0

    static let maxDepth = 32
    static let maxRepeat = 1000

    init(bytes: [UInt8], ignoringCase: Bool) {
        self.bytes = bytes
        self.ignoringCase = ignoringCase
    }

    private var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    mutating func alternation(depth: Int) throws(RegexError) -> RegexNode {
        guard depth < Self.maxDepth else { throw RegexError("nests deeper than \(Self.maxDepth) groups") }
        var branches = [try sequence(depth: depth)]
        while peek == UInt8(ascii: "|") {
            index += 1
            branches.append(try sequence(depth: depth))
        }
        return branches.count == 1 ? branches[0] : .alternatives(branches)
    }

    private mutating func sequence(depth: Int) throws(RegexError) -> RegexNode {
        var items: [RegexNode] = []
        while let byte = peek, byte != UInt8(ascii: "|"), byte != UInt8(ascii: ")") {
            items.append(try quantified(try atom(depth: depth)))
        }
        return items.count == 1 ? items[0] : .sequence(items)
    }

    private mutating func atom(depth: Int) throws(RegexError) -> RegexNode {
        let byte = bytes[index]
        index += 1
        switch byte {
        case UInt8(ascii: "("):
            if bytes[index...].starts(with: [UInt8(ascii: "?"), UInt8(ascii: ":")]) { index += 2 }
            let inner = try alternation(depth: depth + 1)
            guard peek == UInt8(ascii: ")") else { throw RegexError("has an unbalanced '('") }
            index += 1
            return inner
        case UInt8(ascii: "."):
            var any = ByteSet()
            any.invert()
            return .set(any)
        case UInt8(ascii: "^"): return .lineStart
        case UInt8(ascii: "$"): return .lineEnd
        case UInt8(ascii: "["): return .set(try bracket())
        case UInt8(ascii: "\\"): return .set(try escape(inClass: false))
        case UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "?"), UInt8(ascii: "{"):
            throw RegexError("has nothing to repeat before '\(Character(Unicode.Scalar(byte)))'")
        default:
            return .set(literal(byte))
        }
    }

    private mutating func quantified(_ node: RegexNode) throws(RegexError) -> RegexNode {
        guard let byte = peek else { return node }
        let bounds: (Int, Int?)
        switch byte {
        case UInt8(ascii: "*"): bounds = (0, nil)
        case UInt8(ascii: "+"): bounds = (1, nil)
        case UInt8(ascii: "?"): bounds = (0, 1)
        case UInt8(ascii: "{"):
            index += 1
            let minimum = try number()
            var maximum: Int? = minimum
            if peek == UInt8(ascii: ",") {
                index += 1
                maximum = peek == UInt8(ascii: "}") ? nil : try number()
            }
            guard peek == UInt8(ascii: "}") else { throw RegexError("has an unclosed '{'") }
            if let maximum, maximum < minimum { throw RegexError("repeats {\(minimum),\(maximum)}: the maximum is below the minimum") }
            bounds = (minimum, maximum)
        default:
            return node
        }
        index += 1
        if peek == UInt8(ascii: "?") { index += 1 }  // lazy or greedy: the same lines match
        if let next = peek, [UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "{")].contains(next) {
            throw RegexError("has nothing to repeat before '\(Character(Unicode.Scalar(next)))'")
        }
        return .repeated(node, min: bounds.0, max: bounds.1)
    }

    private mutating func number() throws(RegexError) -> Int {
        let start = index
        var value = 0
        while let byte = peek, byte &- 0x30 < 10, index - start < 5 {
            value = value * 10 + Int(byte - 0x30)
            index += 1
        }
        guard index > start else { throw RegexError("has a '{' without a number") }
        guard value <= Self.maxRepeat else { throw RegexError("repeats more than \(Self.maxRepeat) times") }
        return value
    }

    /// `[...]` after its `[`.
    private mutating func bracket() throws(RegexError) -> ByteSet {
        var set = ByteSet()
        let negated = peek == UInt8(ascii: "^")
        if negated { index += 1 }
        var first = true
        while let byte = peek, byte != UInt8(ascii: "]") || first {
            first = false
            index += 1
            var low = byte
            if byte == UInt8(ascii: "\\") {
                let escaped = try escape(inClass: true)
                if let single = escaped.single { low = single } else { set.formUnion(escaped); continue }
            }
            if peek == UInt8(ascii: "-"), index + 1 < bytes.count, bytes[index + 1] != UInt8(ascii: "]") {
                index += 1
                var high = bytes[index]
                index += 1
                if high == UInt8(ascii: "\\") {
                    guard let single = try escape(inClass: true).single else { throw RegexError("has a range ending in a class") }
                    high = single
                }
                guard low <= high else { throw RegexError("has a backwards range") }
                set.insert(low...high)
            } else {
                set.insert(low)
            }
        }
        guard peek == UInt8(ascii: "]") else { throw RegexError("has an unclosed '['") }
        index += 1
        if ignoringCase { set.addOtherCases() }
        if negated { set.invert() }
        return set
    }

    /// After a backslash: a class (`\d`), a control (`\t`), or the punctuation byte itself.
    private mutating func escape(inClass: Bool) throws(RegexError) -> ByteSet {
        guard let byte = peek else { throw RegexError("ends with a lone '\\'") }
        index += 1
        var set = ByteSet()
        switch byte {
        case UInt8(ascii: "d"), UInt8(ascii: "D"): set.insert(UInt8(ascii: "0")...UInt8(ascii: "9"))
        case UInt8(ascii: "w"), UInt8(ascii: "W"):
            set.insert(UInt8(ascii: "a")...UInt8(ascii: "z"))
            set.insert(UInt8(ascii: "A")...UInt8(ascii: "Z"))
            set.insert(UInt8(ascii: "0")...UInt8(ascii: "9"))
            set.insert(UInt8(ascii: "_"))
        case UInt8(ascii: "s"), UInt8(ascii: "S"): for space in [0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D] as [UInt8] { set.insert(space) }
        case UInt8(ascii: "t"): set.insert(0x09)
        case UInt8(ascii: "n"): set.insert(0x0A)
        case UInt8(ascii: "r"): set.insert(0x0D)
        default:
            guard !ASCIISet.letters.contains(byte), byte &- 0x30 >= 10 else {
                throw RegexError("uses '\\\(Character(Unicode.Scalar(byte)))', which is not supported")
            }
            return inClass ? ByteSet(single: byte) : literal(byte)
        }
        if byte & 0x20 == 0 { set.invert() }  // the capital letter negates
        return set
    }

    private func literal(_ byte: UInt8) -> ByteSet {
        var set = ByteSet(single: byte)
        if ignoringCase { set.addOtherCases() }
        return set
    }
}

struct RegexCompiler {
    var program: [Regex.Instruction] = []
    var sets: [ByteSet] = []

    mutating func emit(_ node: RegexNode) throws(RegexError) {
        switch node {
        case .set(let set):
            sets.append(set)
            try append(.byte(set: sets.count - 1))
        case .sequence(let items):
            for item in items { try emit(item) }
        case .alternatives(let branches):
            var jumpsToEnd: [Int] = []
            for branch in branches.dropLast() {
                let split = program.count
                try append(.split(0, 0))
                try emit(branch)
                jumpsToEnd.append(program.count)
                try append(.jump(0))
                program[split] = .split(split + 1, program.count)
            }
            try emit(branches[branches.count - 1])
            for jump in jumpsToEnd { program[jump] = .jump(program.count) }
        case .repeated(let inner, let minimum, let maximum):
            for _ in 0..<minimum { try emit(inner) }
            if let maximum {
                var splits: [Int] = []
                for _ in minimum..<maximum {
                    splits.append(program.count)
                    try append(.split(0, 0))
                    try emit(inner)
                }
                for split in splits { program[split] = .split(split + 1, program.count) }
            } else {
                let split = program.count
                try append(.split(0, 0))
                try emit(inner)
                try append(.jump(split))
                program[split] = .split(split + 1, program.count)
            }
        case .lineStart: try append(.lineStart)
        case .lineEnd: try append(.lineEnd)
        }
    }

    private mutating func append(_ instruction: Regex.Instruction) throws(RegexError) {
        guard program.count < Regex.maxInstructions else { throw RegexError("is too large once its repeats are written out") }
        program.append(instruction)
    }
}

extension RegexNode {
    /// The longest run of bytes every match must contain, lower-cased, or empty: a line without it cannot match,
    /// which a byte search finds out far faster than the Pike VM.
    var requiredLiteral: [UInt8] {
        switch self {
        case .set(let set):
            return set.singleByteIgnoringCase.map { [$0] } ?? []
        case .sequence(let items):
            var (best, run): ([UInt8], [UInt8]) = ([], [])
            for item in items {
                if case .set(let set) = item, let byte = set.singleByteIgnoringCase {
                    run.append(byte)
                    continue
                }
                let inner = item.requiredLiteral
                for candidate in [run, inner] where candidate.count > best.count { best = candidate }
                run = []
            }
            return run.count > best.count ? run : best
        case .repeated(let inner, let minimum, _):
            return minimum >= 1 ? inner.requiredLiteral : []
        case .alternatives, .lineStart, .lineEnd:
            return []
        }
    }
}

extension ByteSet {
    /// The set's byte lower-cased when it holds one byte, or one letter in both cases.
    var singleByteIgnoringCase: UInt8? {
        var members: [UInt8] = []
        for byte in 0...255 where contains(UInt8(byte)) {
            members.append(UInt8(byte))
            if members.count > 2 { return nil }
        }
        switch members.count {
        case 1: return ASCII.lowercased(members[0])
        case 2: return members[0] &- 0x41 < 26 && members[1] == members[0] | 0x20 ? members[1] : nil
        default: return nil
        }
    }
}
