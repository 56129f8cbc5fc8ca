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
        // Folding ASCII letters to lower case with 0x20 is safe here: every candidate is all letters.
        func matches(_ candidate: StaticString) -> Bool {
            guard candidate.utf8CodeUnitCount == word.count else { return false }
            let expected = candidate.utf8Start
            for index in 0..<word.count where word[index] | 0x20 != expected[index] { return false }
            return true
        }
        switch word.count {
        case 3 where matches("err"): self = .error
        case 4 where matches("info"): self = .info
        case 4 where matches("warn"): self = .warn
        case 4 where matches("crit"): self = .fatal
        case 5 where matches("trace"): self = .trace
        case 5 where matches("debug"): self = .debug
        case 5 where matches("error"): self = .error
        case 5 where matches("fatal"): self = .fatal
        case 5 where matches("panic"): self = .fatal
        case 5 where matches("emerg"): self = .fatal
        case 5 where matches("alert"): self = .fatal
        case 7 where matches("warning"): self = .warn
        case 8 where matches("critical"): self = .fatal
        default: return nil
        }
    }
}
