// A stored record as the JSON object the original LogStream's clients read, plus `id` and `truncated`.

enum LogEntryJSON {
    static let maxResponseBytes = 32 << 20

    /// With `node`, the entry also names the node that took it in and the `cursor` that pages past it
    /// (`<ms>:<id>:<node>`), as a cluster search answers.
    static func append(_ record: LogRecord, node: UnsafeRawBufferPointer? = nil, to json: inout JSONWriter) {
        json.raw("{\"id\":")
        json.integer(record.id)
        json.raw(",\"timestamp\":\"")
        Timestamp.appendISO8601(milliseconds: record.receivedAtMilliseconds, to: &json.bytes)
        json.raw("\",\"level\":\"")
        json.bytes.append(contentsOf: record.level.name.utf8)
        json.raw("\",\"service\":")
        if record.service.isEmpty { json.raw("\"unknown\"") } else { json.string(record.service) }
        json.raw(",\"protocol\":\"")
        json.bytes.append(contentsOf: record.ingestProtocol.name.utf8)
        json.raw("\",\"host\":")
        json.string(record.host)
        json.raw(",\"raw\":")
        json.string(record.line)
        json.raw(",\"truncated\":")
        json.boolean(record.isTruncated)
        json.raw(",\"format\":\"")
        json.bytes.append(contentsOf: record.format.name.utf8)
        json.raw("\",\"source_time\":")
        if let sourceTime = record.sourceTimeMilliseconds {
            json.raw("\"")
            Timestamp.appendISO8601(milliseconds: sourceTime, to: &json.bytes)
            json.raw("\"")
        } else {
            json.raw("null")
        }
        json.raw(",\"fields\":{")
        for (index, field) in record.fields.enumerated() {
            if index > 0 { json.raw(",") }
            json.string(field.name)
            json.raw(":")
            // Literals were validated as JSON when parsed; text is escaped like any log text.
            if field.kind == .literal { json.bytes.append(contentsOf: field.value) } else { json.string(field.value) }
        }
        json.raw("}")
        if let node {
            json.raw(",\"node\":")
            json.string(node)
            json.raw(",\"cursor\":")
            let cursor = Array("\(record.receivedAtMilliseconds):\(record.id):".utf8) + node
            cursor.withUnsafeBytes { json.string($0) }
        }
        json.raw("}")
    }

    /// The newest records matching `filter` inside `window`, newest first, as a JSON array. Returns how many
    /// were written and whether that is all of them (the scan reached the end of the window, not the limit).
    @discardableResult
    static func appendNewest(from source: any RecordSource, matching filter: RecordFilter, limit: Int, window: RecordWindow = RecordWindow(),
                             to json: inout JSONWriter) -> (count: Int, isComplete: Bool) {
        json.raw("[")
        defer { json.raw("]") }
        guard limit > 0 else { return (0, window.ids(in: source).isEmpty) }
        var count = 0
        var mark = json.bytes.count
        let isComplete = window.walkNewestFirst(in: source, matching: filter, { record in
            // Encoded in place; if the record turns out to have been evicted meanwhile, its bytes are taken back.
            mark = json.bytes.count
            if count > 0 { json.raw(",") }
            append(record, to: &json)
            count += 1
            // 10,000 lines of 64 KiB would be a 640 MB answer: stop adding entries once the body is this large.
            return count < limit && json.bytes.count < maxResponseBytes
        }, discardTorn: {
            json.bytes.removeSubrange(mark...)
            count -= 1
        })
        return (count, isComplete)
    }
}
