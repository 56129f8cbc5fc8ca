// The registry's figures as text: GET /metrics in Prometheus' exposition format (names prefixed
// `logstream_`), GET /api/stats as the JSON object the dashboard polls. Label values come from log lines
// (service names): they are escaped (backslash, quote, newline).

extension MetricRegistry {
    func prometheusText() -> [UInt8] {
        var text = ""
        for metric in metrics {
            text += "# HELP logstream_\(metric.name) \(metric.help)\n# TYPE logstream_\(metric.name) \(metric.kind.rawValue)\n"
            switch metric.read() {
            case .integer(let value): text += "logstream_\(metric.name) \(value)\n"
            case .number(let value): text += "logstream_\(metric.name) \(value)\n"
            case .labeled(let label, let samples):
                for sample in samples { text += "logstream_\(metric.name){\(label)=\"\(Self.labelValue(sample.value))\"} \(sample.count)\n" }
            }
        }
        return Array(text.utf8)
    }

    /// `{"received":…,"levels":{"INFO":…},…}`: the figures that have a stats key; numbers to one decimal.
    func statsJSON() -> [UInt8] {
        var json = JSONWriter(capacity: 1024)
        json.raw("{")
        for (index, metric) in metrics.filter({ $0.statsKey != nil }).enumerated() {
            if index > 0 { json.raw(",") }
            json.string(metric.statsKey!)
            json.raw(":")
            switch metric.read() {
            case .integer(let value): json.integer(value)
            case .number(let value): json.number((value * 10).rounded() / 10)
            case .labeled(_, let samples): json.counts(samples.map { ($0.value, $0.count) })
            }
        }
        json.raw("}")
        return json.bytes
    }

    /// A label value as Prometheus reads it: `\`, `"` and newlines escaped.
    static func labelValue(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
