// A stored record as the JSON object the original LogStream's clients read, plus `id` and `truncated`.

enum LogEntryJSON {
    static let maxResponseBytes = 32 << 20

    static func append(_ record: LogRecord, to json: inout JSONWriter) {
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
        json.raw("}}")
    }

    /// The newest records matching `filter` inside `window`, newest first, as a JSON array. Returns how many
    /// were written and whether that is all of them (the scan reached the end of the window, not the limit).
    @discardableResult
    static func appendNewest(from ring: LogRing, matching filter: RecordFilter, limit: Int, window: RecordWindow = RecordWindow(),
                             to json: inout JSONWriter) -> (count: Int, isComplete: Bool) {
        json.raw("[")
        var count = 0
        var current = min(window.beforeID ?? .max, ring.storedIDs.upperBound)
        let after = window.afterID ?? 0
        let lowest = after < .max ? after + 1 : .max  // hostile input: after=2^64-1 must not overflow
        var isPastWindow = false
        // 10,000 lines of 64 KiB would be a 640 MB answer: stop adding entries once the body is this large.
        while count < limit, current > lowest, !isPastWindow, json.bytes.count < maxResponseBytes {
            current -= 1
            let mark = json.bytes.count
            // Encode in place; if the record was evicted while being read, the bytes written are taken back.
            let matched = ring.read(current) { record in
                if window.isBeforeWindow(record) { isPastWindow = true }
                guard !isPastWindow, !window.isAfterWindow(record), filter.matches(record) else { return false }
                if count > 0 { json.raw(",") }
                append(record, to: &json)
                return true
            }
            guard let matched else {
                json.bytes.removeSubrange(mark...)
                json.raw("]")
                return (count, true)  // the rest is evicted
            }
            if matched { count += 1 }
        }
        json.raw("]")
        return (count, current <= lowest || isPastWindow)
    }
}
