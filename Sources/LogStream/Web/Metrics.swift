// GET /metrics: the figures of /api/stats in Prometheus' text exposition format, names prefixed `logstream_`.
// The heap gauges tell a leak (allocated bytes grow) from fragmentation (free bytes grow) when RSS moves.
// Service names come from log lines: as label values they are escaped (backslash, quote, newline).

extension DashboardAPI {
    /// Figures from other parts that are levels (gauges) rather than counts since start (counters).
    private static let gauges: Set<String> = ["tcp_connections", "http_connections", "websocket_clients", "udp_receive_buffer_bytes"]

    func metricsText() -> [UInt8] {
        var text = ""
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: String)]) {
            text += "# HELP logstream_\(name) \(help)\n# TYPE logstream_\(name) \(type)\n"
            for sample in samples { text += "logstream_\(name)\(sample.labels) \(sample.value)\n" }
        }
        func single(_ value: some BinaryInteger) -> [(labels: String, value: String)] { [("", String(value))] }
        metric("received_total", "counter", "Records received.", single(stats.received))
        metric("records_total", "counter", "Records received, by level.",
               LogLevel.allCases.map { ("{level=\"\($0.name)\"}", String(stats.byLevel[Int($0.rawValue)])) })
        metric("protocol_records_total", "counter", "Records received, by protocol.",
               IngestProtocol.allCases.map { ("{protocol=\"\($0.name)\"}", String(stats.byProtocol[Int($0.rawValue)])) })
        metric("service_records_total", "counter", "Records received, by service (the first 1,024 names).",
               stats.byService.all.map { ("{service=\"\(Self.labelValue($0.name))\"}", String($0.count)) })
        metric("truncated_total", "counter", "Lines cut at the maximum line length.", single(stats.truncated))
        metric("evicted_total", "counter", "Records evicted from memory to make room.", single(ring.evictedCount))
        metric("stored_records", "gauge", "Records held in memory.", single(ring.storedCount))
        metric("capacity_records", "gauge", "Records the ring can hold.", single(ring.capacity))
        metric("stored_bytes", "gauge", "Bytes of log text held in memory.", single(ring.storedBytes))
        metric("capacity_bytes", "gauge", "Bytes of log text the ring can hold.", single(ring.arenaBytes))
        metric("receive_rate", "gauge", "Records received per second over the last 5 s.", [("", String(stats.rate))])
        for (name, value) in extraStats() {
            let isGauge = Self.gauges.contains(name)
            metric(isGauge ? name : "\(name)_total", isGauge ? "gauge" : "counter", name.replacingUnderscores, single(value))
        }
        let (allocated, free) = ProcessResources.heapFigures
        metric("heap_allocated_bytes", "gauge", "Bytes the process has allocated from malloc.", single(allocated))
        metric("heap_free_bytes", "gauge", "Bytes malloc holds free in its arenas (resident or not).", single(free))
        return Array(text.utf8)
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

private extension String {
    /// `tcp_idle_closed` → `tcp idle closed.`
    var replacingUnderscores: String { split(separator: "_").joined(separator: " ") + "." }
}
