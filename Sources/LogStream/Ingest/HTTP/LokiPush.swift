// Loki's push API (grafana.com/docs/loki/latest/reference/loki-http-api/#ingest-logs), what Promtail, Alloy and
// Loki's client libraries send: streams of entries under a label set. Protobuf (`logproto.PushRequest`, snappy
// block-compressed: pkg/push/push.proto) and JSON (`{"streams":[{"stream":{...},"values":[[ns, line, {meta}]]}]}`).
// A stream's labels name the service (`service_name`, else `service`, `app`, `job`), host and level; a line
// without a level label is read as any line is, for its level and, when it is JSON or logfmt, its fields.

/// What one stream's labels say, applied to each of its entries.
struct LokiStream {
    var service: [UInt8] = []
    /// Labels that may name the service, by priority; the first names it, the others stay fields.
    private var serviceCandidates: [(priority: Int, name: [UInt8], value: [UInt8])] = []
    var host: [UInt8] = []
    var level: LogLevel?
    var fields = FieldsBuilder()

    static let serviceLabels = ["service_name", "service", "app", "job"].map { Array($0.utf8) }
    static let levelLabels = ["level", "detected_level", "severity"].map { Array($0.utf8) }
    static let hostLabels = ["host", "hostname"].map { Array($0.utf8) }

    mutating func label(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        if let priority = Self.serviceLabels.firstIndex(where: { name.elementsEqual($0) }) {
            serviceCandidates.append((priority, Array(name), Array(value)))
        } else if Self.levelLabels.contains(where: { name.elementsEqual($0) }), let named = LogLevel(word: value) {
            level = level ?? named
        } else if Self.hostLabels.contains(where: { name.elementsEqual($0) }), host.isEmpty {
            host = Array(value)
        } else {
            fields.append(name: name, value: value)
        }
    }

    /// After the last label: the service is the first candidate's, the other candidates are fields.
    mutating func finishLabels() {
        let chosen = serviceCandidates.indices.min { serviceCandidates[$0].priority < serviceCandidates[$1].priority }
        for (position, candidate) in serviceCandidates.enumerated() {
            if position == chosen {
                service = candidate.value
            } else {
                candidate.name.withUnsafeBytes { name in candidate.value.withUnsafeBytes { fields.append(name: name, value: $0) } }
            }
        }
        serviceCandidates = []
    }

    /// One entry: its line, its time, and its structured metadata already in `entryFields`.
    func append(line: UnsafeRawBufferPointer, nanoseconds: Int64?, entryFields: inout FieldsBuilder, entryLevel: LogLevel?,
                to batch: inout IngestBatch) {
        let parsed = RecordParser.parse(line, receivedAt: (nanoseconds ?? 0) / 1_000_000, fields: &entryFields)
        let content = parsed.map { UnsafeRawBufferPointer(rebasing: line[$0.content]) } ?? line
        let level = self.level ?? entryLevel ?? parsed?.level ?? .info
        var service = UnsafeRawBufferPointer(start: nil, count: 0)
        if let range = parsed?.service, self.service.isEmpty { service = UnsafeRawBufferPointer(rebasing: line[range]) }
        let time = nanoseconds.map { $0 / 1_000_000 } ?? parsed?.sourceTimeMilliseconds
        self.service.withUnsafeBytes { labelService in
            host.withUnsafeBytes { host in
                batch.append(text: content, service: labelService.isEmpty ? service : labelService, host: host, level: level,
                             format: .loki, sourceTimeMilliseconds: time, fields: entryFields)
            }
        }
    }

    /// Structured metadata joins the stream's fields; a level in it counts like a level label.
    static func metadata(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, fields: inout FieldsBuilder, level: inout LogLevel?) {
        if levelLabels.contains(where: { name.elementsEqual($0) }), let named = LogLevel(word: value) {
            level = level ?? named
        } else {
            fields.append(name: name, value: value)
        }
    }
}

public enum LokiProtobuf {
    /// A snappy-compressed PushRequest (`compressed: false` for a body already decompressed, as with
    /// `Content-Encoding: gzip`). At most `limit` bytes after decompression.
    public static func decode(_ body: UnsafeRawBufferPointer, snappy: Bool, limit: Int, into batch: inout IngestBatch) throws(LokiError) {
        guard snappy else { return try decodeMessage(body, into: &batch) }
        let plain: [UInt8]
        do { plain = try Snappy.decompress(body, limit: limit) } catch { throw error.status == 413 ? .tooLarge(error.description) : .malformed(error.description) }
        let outcome = plain.withUnsafeBytes { raw in Result { () throws(LokiError) in try decodeMessage(raw, into: &batch) } }
        try outcome.get()
    }

    private static func decodeMessage(_ message: UnsafeRawBufferPointer, into batch: inout IngestBatch) throws(LokiError) {
        var decoded = IngestBatch(maxLineBytes: batch.maxLineBytes)
        do {
            try ProtobufReader(message).forEach(1) { (stream) throws(ProtobufError) in  // streams
                var labels = LokiStream()
                var labelText = UnsafeRawBufferPointer(start: nil, count: 0)
                try stream.message.forEach(1) { labelText = $0.bytes }
                if let problem = LokiLabels.parse(labelText, { labels.label(name: $0, value: $1) }) {
                    throw ProtobufError(reason: problem, offset: stream.offset)
                }
                labels.finishLabels()
                try stream.message.forEach(2) { (entry) throws(ProtobufError) in  // entries
                    var line = UnsafeRawBufferPointer(start: nil, count: 0)
                    var nanoseconds: Int64?
                    var fields = labels.fields
                    var level: LogLevel?
                    var reader = entry.message
                    while let field = try reader.next() {
                        switch (field.number, field.wireType) {
                        case (1, .lengthDelimited):  // google.protobuf.Timestamp { int64 seconds = 1; int32 nanos = 2 }
                            var seconds: Int64 = 0, nanos: Int64 = 0
                            var timestamp = field.message
                            while let part = try timestamp.next() {
                                guard part.wireType == .varint else { continue }
                                if part.number == 1 { seconds = Int64(bitPattern: part.integer) } else if part.number == 2 { nanos = Int64(Int32(truncatingIfNeeded: part.integer)) }
                            }
                            nanoseconds = seconds.multipliedReportingOverflow(by: 1_000_000_000).overflow ? nil : seconds * 1_000_000_000 + nanos
                        case (2, .lengthDelimited):
                            line = field.bytes
                        case (3, .lengthDelimited):  // structuredMetadata: LabelPairAdapter { name = 1; value = 2 }
                            var name = UnsafeRawBufferPointer(start: nil, count: 0), value = name
                            try field.message.forEach(1) { name = $0.bytes }
                            try field.message.forEach(2) { value = $0.bytes }
                            if !name.isEmpty { LokiStream.metadata(name: name, value: value, fields: &fields, level: &level) }
                        default:
                            continue
                        }
                    }
                    labels.append(line: line, nanoseconds: nanoseconds, entryFields: &fields, entryLevel: level, to: &decoded)
                }
            }
        } catch {
            throw .malformed("invalid PushRequest: \(error)")
        }
        batch = decoded
    }
}

public enum LokiJSON {
    public static func decode(_ body: UnsafeRawBufferPointer, into batch: inout IngestBatch) throws(LokiError) {
        let document: JSONDocument
        do { document = try JSONDocument(parsing: body) } catch { throw .malformed("invalid JSON: \(error)") }
        guard let streams = document.root["streams"], streams.kind == .array else { throw .malformed("a push is {\"streams\":[...]}") }
        var decoded = IngestBatch(maxLineBytes: batch.maxLineBytes)
        var problem: LokiError?
        streams.forEachElement { stream in
            guard problem == nil else { return }
            var labels = LokiStream()
            stream["stream"]?.forEachMember { name, value in
                guard let name = name.stringBytes, let value = value.stringBytes ?? (value.kind == .string ? nil : Array(value.raw)) else { return }
                name.withUnsafeBytes { name in value.withUnsafeBytes { labels.label(name: name, value: $0) } }
            }
            labels.finishLabels()
            guard let values = stream["values"], values.kind == .array else {
                problem = .malformed("a stream without \"values\"")
                return
            }
            values.forEachElement { entry in
                guard problem == nil else { return }
                var parts: [JSONValue] = []
                entry.forEachElement { parts.append($0) }
                guard entry.kind == .array, parts.count >= 2, parts[0].kind == .string, parts[1].kind == .string else {
                    problem = .malformed("an entry is [\"<unix nanoseconds>\", \"<line>\", {metadata}?]")
                    return
                }
                guard let nanoseconds = Int64(String(decoding: parts[0].raw, as: UTF8.self)) else {
                    problem = .malformed("an entry's time is a string of Unix nanoseconds")
                    return
                }
                var fields = labels.fields
                var level: LogLevel?
                if parts.count > 2 {
                    parts[2].forEachMember { name, value in
                        guard let name = name.stringBytes, let value = value.stringBytes else { return }
                        name.withUnsafeBytes { name in value.withUnsafeBytes { LokiStream.metadata(name: name, value: $0, fields: &fields, level: &level) } }
                    }
                }
                let line = parts[1].stringBytes ?? []
                line.withUnsafeBytes { labels.append(line: $0, nanoseconds: nanoseconds, entryFields: &fields, entryLevel: level, to: &decoded) }
            }
        }
        if let problem { throw problem }
        batch = decoded
    }
}

public enum LokiError: Error, Equatable, CustomStringConvertible {
    case malformed(String)
    case tooLarge(String)

    public var description: String {
        switch self {
        case .malformed(let reason), .tooLarge(let reason): reason
        }
    }
}

/// A Prometheus label set as Loki writes a stream's labels: `{job="api", env="prod"}`, values with `\"`, `\\`
/// and `\n` escapes.
enum LokiLabels {
    /// Calls `label` with each name and (unescaped) value; returns what is wrong with the text, or nil.
    static func parse(_ text: UnsafeRawBufferPointer, _ label: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Void) -> String? {
        guard !text.isEmpty else { return nil }  // no labels at all
        var index = 0
        func skipSpaces() { while index < text.count, text[index] == 0x20 || text[index] == 0x09 { index += 1 } }
        skipSpaces()
        guard index < text.count, text[index] == UInt8(ascii: "{") else { return "stream labels must be {name=\"value\", ...}" }
        index += 1
        var value: [UInt8] = []
        while true {
            skipSpaces()
            guard index < text.count else { return "stream labels end without '}'" }
            if text[index] == UInt8(ascii: "}") { break }
            let nameStart = index
            while index < text.count, isNameByte(text[index], first: index == nameStart) { index += 1 }
            guard index > nameStart else { return "invalid label name in stream labels" }
            let name = UnsafeRawBufferPointer(rebasing: text[nameStart..<index])
            skipSpaces()
            guard index < text.count, text[index] == UInt8(ascii: "=") else { return "expected '=' in stream labels" }
            index += 1
            skipSpaces()
            guard index < text.count, text[index] == UInt8(ascii: "\"") else { return "label values must be quoted" }
            index += 1
            value.removeAll(keepingCapacity: true)
            while true {
                guard index < text.count else { return "unterminated label value" }
                let byte = text[index]
                index += 1
                if byte == UInt8(ascii: "\"") { break }
                if byte == UInt8(ascii: "\\"), index < text.count {
                    let escaped = text[index]
                    index += 1
                    value.append(escaped == UInt8(ascii: "n") ? 0x0A : escaped)
                } else {
                    value.append(byte)
                }
            }
            value.withUnsafeBytes { label(name, $0) }
            skipSpaces()
            if index < text.count, text[index] == UInt8(ascii: ",") { index += 1 }
        }
        return nil
    }

    private static func isNameByte(_ byte: UInt8, first: Bool) -> Bool {
        (byte | 0x20) &- 0x61 < 26 || byte == UInt8(ascii: "_") || (!first && (byte &- 0x30 < 10 || byte == UInt8(ascii: ".")))
    }
}

extension SnappyError {
    var status: Int { if case .tooLarge = self { 413 } else { 400 } }
}
