// The shape a line arrived in, kept with the record.

public enum LogFormat: UInt8, CaseIterable, Sendable {
    case plain, rfc5424, rfc3164, json, logfmt

    public var name: String {
        switch self {
        case .plain: "plain"
        case .rfc5424: "rfc5424"
        case .rfc3164: "rfc3164"
        case .json: "json"
        case .logfmt: "logfmt"
        }
    }
}
