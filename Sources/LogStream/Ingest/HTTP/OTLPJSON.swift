// OTLP/HTTP logs in JSON (`application/json`): the protobuf schema under the OTLP JSON mapping
// (opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding): lowerCamelCase names (the proto's snake_case
// names accepted too), trace and span ids as hex, 64-bit integers as strings or numbers, enums as numbers.

public enum OTLPJSON {
    /// Every log record of the request; a malformed document, or one of the wrong shape, stores nothing.
    public static func decode(_ body: UnsafeRawBufferPointer, into batch: inout IngestBatch) throws(JSONError) {
        let document = try JSONDocument(parsing: body)
        guard document.root.kind == .object else { throw JSONError(reason: "an ExportLogsServiceRequest is an object", offset: 0) }
        var decoded = IngestBatch(maxLineBytes: batch.maxLineBytes)
        var state = OTLPRecordState()
        member(document.root, "resourceLogs", "resource_logs")?.forEachElement { resourceLogs in
            var service: [UInt8] = []
            var host: [UInt8] = []
            var resourceFields = FieldsBuilder()
            member(resourceLogs, "resource", "resource")?["attributes"]?.forEachElement { attribute in
                guard let key = attribute["key"]?.stringBytes, let value = attribute["value"] else { return }
                key.withUnsafeBytes { key in
                    if OTLPMapping.isServiceName(key), let text = AnyValue(value)?.string {
                        service = text
                    } else if OTLPMapping.isHostName(key), let text = AnyValue(value)?.string {
                        host = text
                    } else {
                        appendField(named: key, value, to: &resourceFields)
                    }
                }
            }
            member(resourceLogs, "scopeLogs", "scope_logs")?.forEachElement { scopeLogs in
                var scopeFields = resourceFields
                if let name = scopeLogs["scope"]?["name"]?.stringBytes, !name.isEmpty {
                    name.withUnsafeBytes { scopeFields.append(name: "scope.name", value: $0) }
                }
                member(scopeLogs, "logRecords", "log_records")?.forEachElement { record in
                    state.reset(resourceService: service, resourceHost: host, resourceFields: scopeFields)
                    logRecord(record, state: &state)
                    state.append(to: &decoded)
                }
            }
        }
        batch = decoded
    }

    private static func logRecord(_ record: JSONValue, state: inout OTLPRecordState) {
        state.timeNanoseconds = member(record, "timeUnixNano", "time_unix_nano").flatMap(nanoseconds) ?? 0
        state.observedNanoseconds = member(record, "observedTimeUnixNano", "observed_time_unix_nano").flatMap(nanoseconds) ?? 0
        if let severity = member(record, "severityNumber", "severity_number") {
            state.level = severity.int64.flatMap(OTLPMapping.level(severityNumber:)) ?? OTLPMapping.level(severityName: severity.raw)
        }
        state.severityText = member(record, "severityText", "severity_text")?.stringBytes ?? []
        if let body = record["body"] {
            if let text = AnyValue(body)?.string {
                state.text = text
            } else if let any = AnyValue(body) {
                var json = JSONWriter()
                writeJSON(any, to: &json)
                state.text = json.bytes
            }
        }
        record["attributes"]?.forEachElement { attribute in
            guard let key = attribute["key"]?.stringBytes, let value = attribute["value"] else { return }
            key.withUnsafeBytes { appendField(named: $0, value, to: &state.fields) }
        }
        for (camel, snake, field) in [("traceId", "trace_id", "trace_id"), ("spanId", "span_id", "span_id")] as [(StaticString, StaticString, StaticString)] {
            guard let id = member(record, camel, snake)?.stringBytes, !id.isEmpty, id.contains(where: { $0 != UInt8(ascii: "0") }) else { continue }
            id.map { $0 | ($0 &- 0x41 < 26 ? 0x20 : 0) }.withUnsafeBytes { state.fields.append(name: field, value: $0) }
        }
        if let name = member(record, "eventName", "event_name")?.stringBytes, !name.isEmpty {
            name.withUnsafeBytes { state.fields.append(name: "event_name", value: $0) }
        }
    }

    /// The member under its JSON name, else its proto name.
    private static func member(_ object: JSONValue, _ camel: StaticString, _ snake: StaticString) -> JSONValue? {
        object[camel] ?? object[snake]
    }

    private static func nanoseconds(_ value: JSONValue) -> UInt64? {
        UInt64(String(decoding: value.raw, as: UTF8.self)) ?? value.int64.map { UInt64(clamping: $0) }
    }

    /// An AnyValue (`{"stringValue": ...}`, `{"intValue": "42"}`, ...) as a field, as the protobuf decoder does.
    private static func appendField(named key: UnsafeRawBufferPointer, _ value: JSONValue, to fields: inout FieldsBuilder) {
        guard !key.isEmpty, let any = AnyValue(value) else { return }
        switch any {
        case .string(let text), .bytes(let text):
            fields.beginField(name: key)
            fields.appendJSONStringValue(text.raw)
        case .int, .double, .bool, .array, .kvlist:
            var json = JSONWriter()
            writeJSON(any, to: &json)
            let isScalar = switch any { case .array, .kvlist: false; default: true }
            json.bytes.withUnsafeBytes { fields.append(name: key, value: $0, kind: isScalar ? .literal : .string) }
        }
    }

    /// An AnyValue as plain JSON: strings, numbers, booleans, arrays and objects; bytes as their base64 text.
    private static func writeJSON(_ value: JSONValue, to json: inout JSONWriter) {
        guard let any = AnyValue(value) else { return json.raw("null") }
        writeJSON(any, to: &json)
    }

    private static func writeJSON(_ any: AnyValue, to json: inout JSONWriter) {
        switch any {
        case .string(let text), .bytes(let text): json.bytes.append(contentsOf: text.text)
        case .int(let number): json.integer(number)
        case .double(let number): json.number(number)
        case .bool(let value): json.boolean(value)
        case .array(let array):
            json.raw("[")
            var first = true
            array["values"]?.forEachElement { element in
                if !first { json.raw(",") }
                first = false
                writeJSON(element, to: &json)
            }
            json.raw("]")
        case .kvlist(let map):
            json.raw("{")
            var first = true
            map["values"]?.forEachElement { pair in
                guard let key = pair["key"], key.kind == .string else { return }
                if !first { json.raw(",") }
                first = false
                json.bytes.append(contentsOf: key.text)
                json.raw(":")
                if let inner = pair["value"] { writeJSON(inner, to: &json) } else { json.raw("null") }
            }
            json.raw("}")
        }
    }
}

/// Which member of an AnyValue's oneof is set, found in one pass over its members (under its JSON or its
/// proto name); when a sender sets several, the first valid one in the schema's order counts.
private enum AnyValue {
    case string(JSONValue), bytes(JSONValue), int(Int64), double(Double), bool(Bool), array(JSONValue), kvlist(JSONValue)

    private static let names: [(camel: StaticString, snake: StaticString)] = [
        ("stringValue", "string_value"), ("bytesValue", "bytes_value"), ("intValue", "int_value"), ("doubleValue", "double_value"),
        ("boolValue", "bool_value"), ("arrayValue", "array_value"), ("kvlistValue", "kvlist_value"),
    ]

    init?(_ value: JSONValue) {
        var found = [JSONValue?](repeating: nil, count: Self.names.count)
        value.forEachMember { name, member in
            if let index = Self.names.firstIndex(where: { name.isString($0.camel) || name.isString($0.snake) }), found[index] == nil {
                found[index] = member
            }
        }
        if let text = found[0], text.kind == .string { self = .string(text) }
        else if let bytes = found[1], bytes.kind == .string { self = .bytes(bytes) }
        else if let number = found[2]?.int64 { self = .int(number) }
        else if let number = found[3]?.double { self = .double(number) }
        else if let boolean = found[4], boolean.kind == .boolean { self = .bool(boolean.raw.first == UInt8(ascii: "t")) }
        else if let array = found[5] { self = .array(array) }
        else if let map = found[6] { self = .kvlist(map) }
        else { return nil }
    }

    /// The string, when this is a string value.
    var string: [UInt8]? { if case .string(let text) = self { text.stringBytes } else { nil } }
}
