// The aggregations as JSON (GET /api/histogram, GET /api/facets).

extension LevelHistogram {
    /// `{"since","until","bucket_ms","levels":[...],"counts":[[...], ...]}`.
    func append(to json: inout JSONWriter, until: Int64) {
        json.raw("{\"since\":\"")
        Timestamp.appendISO8601(milliseconds: since, to: &json.bytes)
        json.raw("\",\"until\":\"")
        Timestamp.appendISO8601(milliseconds: until, to: &json.bytes)
        json.raw("\",\"bucket_ms\":")
        json.integer(bucketMilliseconds)
        json.raw(",\"levels\":[\"TRACE\",\"DEBUG\",\"INFO\",\"WARN\",\"ERROR\",\"FATAL\"],\"counts\":[")
        for (index, row) in counts.enumerated() {
            if index > 0 { json.raw(",") }
            json.raw("[")
            for (level, count) in row.enumerated() {
                if level > 0 { json.raw(",") }
                json.integer(count)
            }
            json.raw("]")
        }
        json.raw("]}")
    }
}

extension Facets {
    /// `{"field","total","others","values":[{"value","count"}, ...]}`.
    func append(to json: inout JSONWriter, field: String) {
        json.raw("{\"field\":")
        json.string(field)
        json.raw(",\"total\":")
        json.integer(total)
        json.raw(",\"others\":")
        json.integer(others)
        json.raw(",\"values\":[")
        for (index, entry) in top.enumerated() {
            if index > 0 { json.raw(",") }
            json.raw("{\"value\":")
            json.string(entry.value)
            json.raw(",\"count\":")
            json.integer(entry.count)
            json.raw("}")
        }
        json.raw("]}")
    }
}
