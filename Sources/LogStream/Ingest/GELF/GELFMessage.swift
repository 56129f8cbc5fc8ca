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
    /// bytes, and appends its record to `batch`.
    public static func decode(_ payload: UnsafeRawBufferPointer, limit: Int, fields: inout FieldsBuilder,
                              into batch: inout IngestBatch) throws(GELFError) {
        guard payload.count >= 2 else { throw GELFError(reason: "a message of \(payload.count) bytes") }
        let wrapping: Inflate.Wrapping? = switch (payload[0], payload[1]) {
        case (0x1F, 0x8B): .gzip
        case (0x78, _): .deflate
        default: nil
        }
        guard let wrapping else { return try decodeJSON(payload, fields: &fields, into: &batch) }
        let inflated: [UInt8]
        do { inflated = try Inflate.decompress(payload, wrapping, limit: limit) } catch {
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
        var text: [UInt8]?
        var host: [UInt8] = []
        var level = LogLevel.fatal  // severity 1, when absent
        var time: Int64?
        var services: [[UInt8]?] = Array(repeating: nil, count: serviceNames.count)
        root.forEachMember { name, value in
            let key = name.raw
            if name.hasEscapes { return appendField(key, value, fields: &fields) }
            if equal(key, "short_message") {
                text = value.stringBytes ?? Array(value.raw)
            } else if equal(key, "host") {
                host = value.stringBytes ?? Array(value.raw)
            } else if equal(key, "level") {
                level = severity(value).map(syslogLevel) ?? level
            } else if equal(key, "timestamp") {
                if let seconds = value.double, seconds.isFinite, abs(seconds) < 1e11 { time = Int64((seconds * 1000).rounded()) }
            } else if equal(key, "version") {
                return
            } else {
                if let index = serviceNames.firstIndex(where: { equal(key, $0) }), value.kind == .string, services[index] == nil,
                   var service = value.stringBytes, !service.isEmpty {
                    if service.first == UInt8(ascii: "/") { service.removeFirst() }  // Docker's container names
                    services[index] = service
                }
                appendField(key, value, fields: &fields)
            }
        }
        guard let text else { throw GELFError(reason: "no short_message") }
        var service = services.first { $0 != nil }.flatMap { $0 } ?? []
        text.withUnsafeBytes { raw in
            if service.isEmpty, let found = LineParser.findService(in: raw) { service = Array(raw[found]) }
            service.withUnsafeBytes { service in
                host.withUnsafeBytes { host in
                    batch.append(text: raw, service: service, host: host, level: level, format: .gelf, sourceTimeMilliseconds: time, fields: fields)
                }
            }
        }
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

    private static func equal(_ bytes: UnsafeRawBufferPointer, _ name: StaticString) -> Bool {
        bytes.elementsEqual(UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
    }
}
