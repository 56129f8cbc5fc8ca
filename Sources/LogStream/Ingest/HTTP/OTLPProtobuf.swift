// OTLP/HTTP logs in protobuf (`application/x-protobuf`): an ExportLogsServiceRequest, read field by field
// (opentelemetry-proto: collector/logs/v1/logs_service.proto, logs/v1/logs.proto, common/v1/common.proto).
// The field numbers below are that schema's; nothing else of it is needed.
import Glibc

public enum OTLPProtobuf {
    /// Every log record of the request; a malformed message stores nothing.
    public static func decode(_ body: UnsafeRawBufferPointer, into batch: inout IngestBatch) throws(ProtobufError) {
        var decoded = IngestBatch(maxLineBytes: batch.maxLineBytes)
        var state = OTLPRecordState()
        try ProtobufReader(body).forEach(1) { (resourceLogs) throws(ProtobufError) in  // resource_logs
            try Self.resourceLogs(resourceLogs.message, state: &state, into: &decoded)
        }
        batch = decoded
    }

    private static func resourceLogs(_ message: ProtobufReader, state: inout OTLPRecordState, into batch: inout IngestBatch) throws(ProtobufError) {
        // The resource first, wherever it is in the message: every record below takes its service and host.
        var service: [UInt8] = []
        var host: [UInt8] = []
        var resourceFields = FieldsBuilder()
        try message.forEach(1) { (resource) throws(ProtobufError) in  // resource { repeated KeyValue attributes = 1 }
            try resource.message.forEach(1) { (attribute) throws(ProtobufError) in
                let (key, value) = try keyValue(attribute.message)
                if OTLPMapping.isServiceName(key), let text = try stringValue(value) {
                    service = Array(text)
                } else if OTLPMapping.isHostName(key), let text = try stringValue(value) {
                    host = Array(text)
                } else {
                    try appendField(named: key, value, to: &resourceFields)
                }
            }
        }
        try message.forEach(2) { (scopeLogs) throws(ProtobufError) in  // scope_logs
            var scopeFields = resourceFields
            try scopeLogs.message.forEach(1) { (scope) throws(ProtobufError) in  // scope { string name = 1 }
                try scope.message.forEach(1) { (name) throws(ProtobufError) in
                    if !name.bytes.isEmpty { scopeFields.append(name: "scope.name", value: name.bytes) }
                }
            }
            try scopeLogs.message.forEach(2) { (record) throws(ProtobufError) in  // log_records
                state.reset(resourceService: service, resourceHost: host, resourceFields: scopeFields)
                try logRecord(record.message, state: &state)
                state.append(to: &batch)
            }
        }
    }

    private static func logRecord(_ message: ProtobufReader, state: inout OTLPRecordState) throws(ProtobufError) {
        var reader = message
        var traceID = UnsafeRawBufferPointer(start: nil, count: 0)
        var spanID = traceID
        while let field = try reader.next() {
            switch (field.number, field.wireType) {
            case (1, .fixed64): state.timeNanoseconds = field.integer
            case (11, .fixed64): state.observedNanoseconds = field.integer
            case (2, .varint): state.level = OTLPMapping.level(severityNumber: Int64(bitPattern: field.integer))
            case (3, .lengthDelimited):
                state.severityText.removeAll(keepingCapacity: true)
                state.severityText.append(contentsOf: field.bytes)
            case (5, .lengthDelimited): try bodyText(field.message, into: &state.text)
            case (6, .lengthDelimited):
                let (key, value) = try keyValue(field.message)
                try appendField(named: key, value, to: &state.fields)
            case (9, .lengthDelimited): traceID = field.bytes
            case (10, .lengthDelimited): spanID = field.bytes
            case (12, .lengthDelimited) where !field.bytes.isEmpty: state.fields.append(name: "event_name", value: field.bytes)
            default: continue
            }
        }
        OTLPMapping.appendHexField("trace_id", traceID, to: &state.fields)
        OTLPMapping.appendHexField("span_id", spanID, to: &state.fields)
    }

    /// A KeyValue's key and its AnyValue's reader.
    private static func keyValue(_ message: ProtobufReader) throws(ProtobufError) -> (UnsafeRawBufferPointer, ProtobufReader) {
        var key = UnsafeRawBufferPointer(start: nil, count: 0)
        var value = ProtobufReader(key)
        try message.forEach(1) { key = $0.bytes }
        try message.forEach(2) { value = $0.message }
        return (key, value)
    }

    /// The AnyValue's string, if it holds one.
    private static func stringValue(_ value: ProtobufReader) throws(ProtobufError) -> UnsafeRawBufferPointer? {
        var text: UnsafeRawBufferPointer?
        try value.forEach(1) { text = $0.bytes }
        return text
    }

    /// A body: a string as it is, anything else as its JSON.
    private static func bodyText(_ value: ProtobufReader, into text: inout [UInt8]) throws(ProtobufError) {
        if let string = try stringValue(value) {
            text.removeAll(keepingCapacity: true)
            text.append(contentsOf: string)
            return
        }
        var json = JSONWriter()
        try writeJSON(value, to: &json, depth: 0)
        text = json.bytes == Array("null".utf8) ? [] : json.bytes
    }

    /// An attribute as a field: strings as strings, numbers and booleans as literals, arrays and maps as their
    /// JSON, bytes as base64 (as OTLP's JSON writes them).
    private static func appendField(named key: UnsafeRawBufferPointer, _ value: ProtobufReader, to fields: inout FieldsBuilder) throws(ProtobufError) {
        guard !key.isEmpty else { return }
        var reader = value
        while let field = try reader.next() {
            switch (field.number, field.wireType) {
            case (1, .lengthDelimited):
                fields.append(name: key, value: field.bytes)
            case (3, .varint):
                appendInteger(Int64(bitPattern: field.integer), named: key, to: &fields)
            case (2, .varint):
                fields.append(name: key, value: UnsafeRawBufferPointer(field.integer != 0 ? Self.trueText : Self.falseText), kind: .literal)
            case (4, .fixed64):
                var json = JSONWriter(capacity: 24)
                scalar(field, to: &json)
                json.bytes.withUnsafeBytes { fields.append(name: key, value: $0, kind: .literal) }
            case (5, .lengthDelimited), (6, .lengthDelimited):
                var json = JSONWriter()
                try writeJSON(value, to: &json, depth: 0)
                json.bytes.withUnsafeBytes { fields.append(name: key, value: $0) }
            case (7, .lengthDelimited):
                OTLPMapping.base64(field.bytes).withUnsafeBytes { fields.append(name: key, value: $0) }
            default:
                continue
            }
        }
    }

    private static var trueText: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: ("true" as StaticString).utf8Start, count: 4) }
    private static var falseText: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: ("false" as StaticString).utf8Start, count: 5) }

    /// An integer attribute's decimal digits, written on the stack (the commonest attribute after strings).
    private static func appendInteger(_ value: Int64, named key: UnsafeRawBufferPointer, to fields: inout FieldsBuilder) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var magnitude = value.magnitude
            var start = 20
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            fields.beginField(name: key, kind: .literal)
            if value < 0 { fields.appendValueByte(UInt8(ascii: "-")) }
            fields.appendValueBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(digits)[start...]))
        }
    }

    private static func scalar(_ field: ProtobufField, to json: inout JSONWriter) {
        switch field.number {
        case 2: json.boolean(field.integer != 0)
        case 3: json.integer(Int64(bitPattern: field.integer))
        default: json.number(Double(bitPattern: field.integer))
        }
    }

    static let maxDepth = 32

    /// An AnyValue as JSON: maps as objects, arrays as arrays, bytes as base64, empty as null.
    private static func writeJSON(_ value: ProtobufReader, to json: inout JSONWriter, depth: Int) throws(ProtobufError) {
        guard depth < maxDepth else { throw ProtobufError(reason: "values nested deeper than \(maxDepth)", offset: 0) }
        var reader = value
        var written = false
        while let field = try reader.next() {
            written = true
            switch (field.number, field.wireType) {
            case (1, .lengthDelimited): json.string(field.bytes)
            case (2, .varint), (3, .varint), (4, .fixed64): scalar(field, to: &json)
            case (7, .lengthDelimited): OTLPMapping.base64(field.bytes).withUnsafeBytes { json.string($0) }
            case (5, .lengthDelimited):  // ArrayValue { repeated AnyValue values = 1 }
                json.raw("[")
                var first = true
                try field.message.forEach(1) { (element) throws(ProtobufError) in
                    if !first { json.raw(",") }
                    first = false
                    try writeJSON(element.message, to: &json, depth: depth + 1)
                }
                json.raw("]")
            case (6, .lengthDelimited):  // KeyValueList { repeated KeyValue values = 1 }
                json.raw("{")
                var first = true
                try field.message.forEach(1) { (pair) throws(ProtobufError) in
                    if !first { json.raw(",") }
                    first = false
                    let (key, inner) = try keyValue(pair.message)
                    json.string(key)
                    json.raw(":")
                    try writeJSON(inner, to: &json, depth: depth + 1)
                }
                json.raw("}")
            default:
                written = false
                continue
            }
            break  // a oneof: the last one wins in protobuf, but writers send one
        }
        if !written { json.raw("null") }
    }
}
