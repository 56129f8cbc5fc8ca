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
                    if OTLPMapping.isServiceName(key), let text = value["stringValue"]?.stringBytes ?? value["string_value"]?.stringBytes {
                        service = text
                    } else if OTLPMapping.isHostName(key), let text = value["stringValue"]?.stringBytes ?? value["string_value"]?.stringBytes {
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
            if let text = body["stringValue"]?.stringBytes ?? body["string_value"]?.stringBytes {
                state.text = text
            } else {
                var json = JSONWriter()
                writeJSON(body, to: &json)
                state.text = json.bytes == Array("null".utf8) ? [] : json.bytes
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
        guard !key.isEmpty else { return }
        if let text = value["stringValue"] ?? value["string_value"], text.kind == .string {
            fields.beginField(name: key)
            fields.appendJSONStringValue(text.raw)
        } else if let bytes = value["bytesValue"] ?? value["bytes_value"], bytes.kind == .string {
            fields.beginField(name: key)
            fields.appendJSONStringValue(bytes.raw)
        } else {
            var json = JSONWriter()
            writeJSON(value, to: &json)
            let isScalar = value["intValue"] ?? value["int_value"] ?? value["doubleValue"] ?? value["double_value"]
                ?? value["boolValue"] ?? value["bool_value"] != nil
            guard json.bytes != Array("null".utf8) else { return }
            json.bytes.withUnsafeBytes { fields.append(name: key, value: $0, kind: isScalar ? .literal : .string) }
        }
    }

    /// An AnyValue as plain JSON: strings, numbers, booleans, arrays and objects; bytes as their base64 text.
    private static func writeJSON(_ value: JSONValue, to json: inout JSONWriter) {
        if let text = value["stringValue"] ?? value["string_value"] ?? value["bytesValue"] ?? value["bytes_value"], text.kind == .string {
            json.bytes.append(contentsOf: text.text)
        } else if let integer = value["intValue"] ?? value["int_value"], let number = integer.int64 {
            json.integer(number)
        } else if let double = value["doubleValue"] ?? value["double_value"], let number = double.double {
            json.number(number)
        } else if let boolean = value["boolValue"] ?? value["bool_value"], boolean.kind == .boolean {
            json.boolean(boolean.raw.first == UInt8(ascii: "t"))
        } else if let array = value["arrayValue"] ?? value["array_value"] {
            json.raw("[")
            var first = true
            array["values"]?.forEachElement { element in
                if !first { json.raw(",") }
                first = false
                writeJSON(element, to: &json)
            }
            json.raw("]")
        } else if let map = value["kvlistValue"] ?? value["kvlist_value"] {
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
        } else {
            json.raw("null")
        }
    }
}
