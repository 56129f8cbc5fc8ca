// A GELF message (go2docs.graylog.org/current/getting_in_log_data/gelf.html) to a record: plain JSON, or gzip
// (`1f 8b`) or zlib (`78 ..`) compressed JSON. `short_message` is the text, `host` the host, `level` a syslog
// severity (absent: 1, the spec's default; above 7: DEBUG), `timestamp` seconds with optional fractions;
// `full_message` and every additional field (`_name`, and non-standard top-level keys such as graypy's `file`
// and `line`) become fields. The service is `_service`, `_app`, `_container_name`, `_tag` or `facility`,
// whichever comes first in that order, else the text's `[name]`.

public struct GELFError: Error, Equatable, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}

public enum GELFMessage {
    /// Decodes one whole message (a datagram, reassembled chunks or a TCP frame), inflating at most `limit`
    /// bytes (with `inflater`, kept from message to message, when given), and appends its record to `batch`.
    public static func decode(_ payload: UnsafeRawBufferPointer, limit: Int, fields: inout FieldsBuilder,
                              into batch: inout IngestBatch, inflater: Inflater? = nil) throws(GELFError) {
        guard payload.count >= 2 else { throw GELFError(reason: "a message of \(payload.count) bytes") }
        let wrapping: Inflate.Wrapping? = switch (payload[0], payload[1]) {
        case (0x1F, 0x8B): .gzip
        case (0x78, _): .deflate
        default: nil
        }
        guard let wrapping else { return try decodeJSON(payload, fields: &fields, into: &batch) }
        let inflated: [UInt8]
        do { inflated = try (inflater ?? Inflater()).decompress(payload, wrapping, limit: limit) } catch {
            throw GELFError(reason: "\(wrapping == .gzip ? "gzip" : "zlib"): \(error)")
        }
        let decoded = inflated.withUnsafeBytes { raw in Result { () throws(GELFError) in try decodeJSON(raw, fields: &fields, into: &batch) } }
        try decoded.get()
    }

    /// The service members, by priority.
    static let serviceNames: [StaticString] = ["_service", "_app", "_container_name", "_tag", "facility"]

    static func decodeJSON(_ json: UnsafeRawBufferPointer, fields: inout FieldsBuilder, into batch: inout IngestBatch) throws(GELFError) {
        let document: JSONDocument
        do { document = try JSONDocument(parsing: json) } catch { throw GELFError(reason: "JSON: \(error)") }
        let root = document.root
        guard root.kind == .object else { throw GELFError(reason: "a message is a JSON object") }
        fields.removeAll()
        // Views into the message; a string with escapes is decoded into `unescaped` instead.
        var text: JSONValue?
        var host: JSONValue?
        var level = LogLevel.fatal  // severity 1, when absent
        var time: Int64?
        var service: (value: JSONValue, priority: Int)?
        root.forEachMember { name, value in
            let key = name.raw
            if name.hasEscapes { return appendField(key, value, fields: &fields) }
            switch key.count {  // the length first: most keys are then compared with one name, or none
            case 13 where ASCII.equals(key, "short_message"): return text = value
            case 4 where ASCII.equals(key, "host"): return host = value
            case 5 where ASCII.equals(key, "level"): return level = severity(value).map(syslogLevel) ?? level
            case 9 where ASCII.equals(key, "timestamp"):
                if let seconds = value.double, seconds.isFinite, abs(seconds) < 1e11 { time = Int64((seconds * 1000).rounded()) }
                return
            case 7 where ASCII.equals(key, "version"): return
            default: break
            }
            if value.kind == .string, !value.raw.isEmpty, key.first == UInt8(ascii: "_") || key.count == 8,
               let priority = serviceNames.firstIndex(where: { ASCII.equals(key, $0) }), priority < service?.priority ?? .max {
                service = (value, priority)
            }
            appendField(key, value, fields: &fields)
        }
        guard let text else { throw GELFError(reason: "no short_message") }
        withDecoded(text) { raw in
            withDecoded(host) { host in
                if let service {
                    withDecoded(service.value) { name in
                        // Docker's container names start with `/`.
                        let trimmed = name.first == UInt8(ascii: "/") ? UnsafeRawBufferPointer(rebasing: name.dropFirst()) : name
                        batch.append(text: raw, service: trimmed, host: host, level: level, format: .gelf, sourceTimeMilliseconds: time, fields: fields)
                    }
                } else {
                    let found = LineParser.findService(in: raw).map { UnsafeRawBufferPointer(rebasing: raw[$0]) } ?? UnsafeRawBufferPointer(start: nil, count: 0)
                    batch.append(text: raw, service: found, host: host, level: level, format: .gelf, sourceTimeMilliseconds: time, fields: fields)
                }
            }
        }
    }

    /// A string's bytes (decoded when it has escapes; a view into the message when not), another value's text,
    /// or none.
    private static func withDecoded<R>(_ value: JSONValue?, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        guard let value else { return body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        guard value.kind == .string, value.hasEscapes, let decoded = value.stringBytes else { return body(value.raw) }
        return decoded.withUnsafeBytes(body)
    }

    /// Severity 0-7 as for syslog; beyond 7, DEBUG.
    static func syslogLevel(_ severity: Int64) -> LogLevel {
        switch severity {
        case ...2: .fatal
        case 3: .error
        case 4: .warn
        case 5, 6: .info
        default: .debug
        }
    }

    /// A number, or a string holding one (some libraries quote it); a level word in a string counts too.
    private static func severity(_ value: JSONValue) -> Int64? {
        if let number = value.int64 { return number }
        guard value.kind == .string, let word = value.stringBytes else { return nil }
        let named = word.withUnsafeBytes { LogLevel(word: $0) }
        return named.map { [.trace: 7, .debug: 7, .info: 6, .warn: 4, .error: 3, .fatal: 2][$0]! }
    }

    /// `_name` as `name`; other keys as they are; strings decoded, other values as their JSON text.
    private static func appendField(_ key: UnsafeRawBufferPointer, _ value: JSONValue, fields: inout FieldsBuilder) {
        let name = key.count > 1 && key[0] == UInt8(ascii: "_") ? UnsafeRawBufferPointer(rebasing: key.dropFirst()) : key
        switch value.kind {
        case .string:
            fields.beginField(name: name)
            fields.appendJSONStringValue(value.raw)
        case .number, .boolean, .null:
            fields.append(name: name, value: value.raw, kind: .literal)
        case .object, .array:
            fields.append(name: name, value: value.raw)
        }
    }
}
