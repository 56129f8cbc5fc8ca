// The shape a record arrived in, kept with it. The raw values are the codes stored in the slot (SlotLayout):
// they never change meaning, and formats to come take the next ones, up to 63.

public enum LogFormat: UInt8, CaseIterable, Sendable {
    case plain = 0, rfc5424 = 1, rfc3164 = 2, json = 3, logfmt = 4, otlp = 5, loki = 6, elasticsearch = 7, gelf = 8, forward = 9

    /// The format a name (as `name` writes it) stands for.
    public init?(name: UnsafeRawBufferPointer) {
        guard let found = Self.allCases.first(where: { name.elementsEqual($0.name.utf8) }) else { return nil }
        self = found
    }

    public var name: String {
        switch self {
        case .plain: "plain"
        case .rfc5424: "rfc5424"
        case .rfc3164: "rfc3164"
        case .json: "json"
        case .logfmt: "logfmt"
        case .otlp: "otlp"
        case .loki: "loki"
        case .elasticsearch: "elasticsearch"
        case .gelf: "gelf"
        case .forward: "forward"
        }
    }
}
