// The six normalized severities every record carries.

public enum LogLevel: UInt8, CaseIterable, Sendable {
    case trace, debug, info, warn, error, fatal

    public var name: String {
        switch self {
        case .trace: "TRACE"
        case .debug: "DEBUG"
        case .info: "INFO"
        case .warn: "WARN"
        case .error: "ERROR"
        case .fatal: "FATAL"
        }
    }

    /// Accepts the normalized names and their synonyms, in any case ("warning", "Err", "critical").
    public init?(name: some StringProtocol) {
        var bytes = Array(name.utf8)
        guard let level = bytes.withUnsafeMutableBytes({ LogLevel(word: UnsafeRawBufferPointer($0)) }) else { return nil }
        self = level
    }

    /// Recognizes a level word, case-insensitively: TRACE, DEBUG, INFO, WARN/WARNING, ERROR/ERR,
    /// FATAL/CRITICAL/CRIT/PANIC/EMERG/ALERT.
    init?(word: UnsafeRawBufferPointer) {
        guard (3...8).contains(word.count) else { return nil }
        // The word lower-cased and packed into one integer: one comparison per candidate, not a byte loop.
        // Two four-byte loads that overlap in the middle cover 4 to 8 bytes (the overlap is the same bytes).
        // Folding with 0x20 is safe: every candidate is all letters, and no other byte folds onto a letter.
        var folded: UInt64
        if word.count >= 4 {
            let head = UInt64(word.loadUnaligned(as: UInt32.self))
            let tail = UInt64(word.loadUnaligned(fromByteOffset: word.count - 4, as: UInt32.self))
            folded = head | tail << (8 * UInt64(word.count - 4))
        } else {
            folded = UInt64(word[0]) | UInt64(word[1]) << 8 | UInt64(word[2]) << 16
        }
        folded |= 0x2020_2020_2020_2020 >> (64 - 8 * UInt64(word.count))
        switch folded {
        case Self.packed("err"), Self.packed("error"): self = .error
        case Self.packed("info"): self = .info
        case Self.packed("warn"), Self.packed("warning"): self = .warn
        case Self.packed("trace"): self = .trace
        case Self.packed("debug"): self = .debug
        case Self.packed("fatal"), Self.packed("crit"), Self.packed("critical"), Self.packed("panic"),
             Self.packed("emerg"), Self.packed("alert"):
            self = .fatal
        default: return nil
        }
    }

    /// A word of up to eight bytes as a little-endian integer (folded to a constant where it is used).
    @inline(__always) private static func packed(_ word: StaticString) -> UInt64 {
        var value: UInt64 = 0
        for index in 0..<word.utf8CodeUnitCount { value |= UInt64(word.utf8Start[index]) << (8 * UInt64(index)) }
        return value
    }
}
