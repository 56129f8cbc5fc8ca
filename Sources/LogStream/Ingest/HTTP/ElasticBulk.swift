// Elasticsearch's bulk API (elastic.co/docs/api/doc/elasticsearch/operation/operation-bulk), what Filebeat,
// Logstash, Vector and Fluent Bit send: NDJSON of action lines, each `index` or `create` followed by its
// document. Documents map the ECS way (`message`, `log.level`, `service.name`, `host.name`, `@timestamp`);
// other scalars become fields under their dotted names. Each action gets an item in the answer, in order,
// since clients read each item's status: other actions (`update`, `delete`) get an error item and the rest
// are stored, as Elasticsearch does. A malformed action line refuses the whole request, as it does too.

public struct ElasticBulk: Sendable {
    /// What the answer says about one action.
    public struct Item: Sendable {
        public var action: String
        public var index: String
        public var id: String?
        /// nil: stored, as the batch's record number `record`.
        public var error: (status: Int, type: String, reason: String)?
        public var record: Int
    }

    public struct RequestError: Error, CustomStringConvertible {
        public var description: String
    }

    public private(set) var items: [Item] = []

    /// Decodes a bulk body; `defaultIndex` is the index in the path (`/<index>/_bulk`).
    public static func decode(_ body: UnsafeRawBufferPointer, defaultIndex: String?, into batch: inout IngestBatch) throws(RequestError) -> ElasticBulk {
        var bulk = ElasticBulk()
        var decoded = IngestBatch(maxLineBytes: batch.maxLineBytes)
        var lines: [Range<Int>] = []
        var start = 0
        while start < body.count {
            let end = body[start...].firstIndex(of: 0x0A) ?? body.count
            let line = start..<(end > start && body[end - 1] == 0x0D ? end - 1 : end)
            if !line.isEmpty, !body[line].allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { lines.append(line) }
            start = end + 1
        }
        var position = 0
        var fields = FieldsBuilder()
        while position < lines.count {
            let actionLine = UnsafeRawBufferPointer(rebasing: body[lines[position]])
            let actionNumber = position + 1
            position += 1
            let document: JSONDocument
            do { document = try JSONDocument(parsing: actionLine) } catch {
                throw RequestError(description: "line \(actionNumber): malformed action: \(error)")
            }
            var actionName: String?
            var metadata: JSONValue?
            document.root.forEachMember { name, value in
                if actionName == nil { actionName = String(decoding: name.stringBytes ?? [], as: UTF8.self); metadata = value }
            }
            guard document.root.kind == .object, let action = actionName, let metadata, metadata.kind == .object else {
                throw RequestError(description: "line \(actionNumber): an action line is {\"<action>\":{...}}")
            }
            let hasDocument = action != "delete"
            guard !hasDocument || position < lines.count else {
                throw RequestError(description: "line \(actionNumber): the \(action) action has no document line after it")
            }
            let index = metadata["_index"]?.stringBytes.map { String(decoding: $0, as: UTF8.self) } ?? defaultIndex
            guard let index, !index.isEmpty else {
                throw RequestError(description: "line \(actionNumber): no _index in the action and none in the path")
            }
            let id = metadata["_id"]?.stringBytes.map { String(decoding: $0, as: UTF8.self) }
            var item = Item(action: action, index: index, id: id, error: nil, record: decoded.count)
            defer { bulk.items.append(item) }
            let documentLine = hasDocument ? UnsafeRawBufferPointer(rebasing: body[lines[position]]) : nil
            if hasDocument { position += 1 }
            guard action == "index" || action == "create" else {
                item.error = (400, "illegal_argument_exception", "LogStream takes index and create actions; \(action) is not supported")
                continue
            }
            do {
                let source = try JSONDocument(parsing: documentLine!)
                guard source.root.kind == .object else { throw JSONError(reason: "a document is an object", offset: 0) }
                fields.removeAll()
                appendDocument(source.root, index: index, fields: &fields, into: &decoded)
            } catch {
                item.error = (400, "document_parsing_exception", "line \(actionNumber + 1): \(error)")
            }
        }
        batch = decoded
        return bulk
    }

    /// One document as a record.
    static func appendDocument(_ document: JSONValue, index: String, fields: inout FieldsBuilder, into batch: inout IngestBatch) {
        var mapped = MappedDocument()
        mapped.visit(document, path: [], fields: &fields)
        Array(index.utf8).withUnsafeBytes { fields.append(name: "index", value: $0) }
        var text = mapped.message ?? Array(document.text)
        // The message is read as any line is, for what the document does not say itself.
        let parsed = text.withUnsafeMutableBytes { raw in RecordParser.parse(UnsafeRawBufferPointer(raw), receivedAt: 0, fields: &fields) }
        if let parsed, mapped.message != nil {
            if mapped.service == nil, let range = parsed.service { mapped.service = Array(text[range]) }
            text = Array(text[parsed.content])
        }
        batch.append(text: text, service: mapped.service ?? [], host: mapped.host ?? [], level: mapped.level ?? parsed?.level ?? .info,
                     format: .elasticsearch, sourceTimeMilliseconds: mapped.time ?? (mapped.message != nil ? parsed?.sourceTimeMilliseconds : nil),
                     fields: fields)
    }
}

/// The ECS members found while flattening a document.
private struct MappedDocument {
    var message: [UInt8]?
    var level: LogLevel?
    var service: [UInt8]?
    var host: [UInt8]?
    var time: Int64?

    static let maxDepth = 16

    mutating func visit(_ object: JSONValue, path: [UInt8], fields: inout FieldsBuilder) {
        object.forEachMember { name, value in
            guard let key = name.stringBytes else { return }
            let dotted = path.isEmpty ? key : path + [UInt8(ascii: ".")] + key
            if value.kind == .object {
                if path.count < 200 && dotted.count < 255 { visit(value, path: dotted, fields: &fields) }
                return
            }
            if take(dotted, value) { return }
            dotted.withUnsafeBytes { name in
                switch value.kind {
                case .string:
                    fields.beginField(name: name)
                    fields.appendJSONStringValue(value.raw)
                case .number, .boolean:
                    fields.append(name: name, value: value.raw, kind: .literal)
                case .array:
                    fields.append(name: name, value: value.raw)
                case .null, .object:
                    break
                }
            }
        }
    }

    /// Whether `value` is one of the record's own members (then it is not a field).
    private mutating func take(_ name: [UInt8], _ value: JSONValue) -> Bool {
        func named(_ text: String) -> Bool { name.elementsEqual(text.utf8) }
        if named("message"), message == nil {
            message = value.stringBytes ?? Array(value.text)
        } else if named("log.level") || named("level"), let word = value.stringBytes, let found = word.withUnsafeBytes({ LogLevel(word: $0) }) {
            level = level ?? found
        } else if named("service.name"), service == nil, let text = value.stringBytes {
            service = text
        } else if named("host.name") || named("host.hostname"), host == nil, let text = value.stringBytes {
            host = text
        } else if named("@timestamp"), time == nil {
            time = value.kind == .number ? value.int64 : value.stringBytes.flatMap { $0.withUnsafeBytes { RecordParser.time($0) } }
            return time != nil
        } else {
            return false
        }
        return true
    }
}
