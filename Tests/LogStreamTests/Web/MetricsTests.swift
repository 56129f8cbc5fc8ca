import Testing
@testable import LogStream

@Suite("Metrics: one registry, two renderings")
struct MetricsTests {
    func registry() -> MetricRegistry {
        let registry = MetricRegistry()
        var received = 41
        registry.counter("received_total", "Records received.", stats: "received") { received += 1; return received }
        registry.gauge("receive_rate", "Per second.", stats: "rate", number: { 2.34 })
        registry.counters("service_records_total", "By service.", label: "service", stats: "services") {
            [("pay", 3), ("evil\"\n\\", 1)]
        }
        registry.gauge("heap_free_bytes", "Free.") { 7 }
        return registry
    }

    @Test("Prometheus text: help, type and samples for each figure, label values escaped")
    func prometheus() {
        let text = String(decoding: registry().prometheusText(), as: UTF8.self)
        #expect(text == """
            # HELP logstream_received_total Records received.
            # TYPE logstream_received_total counter
            logstream_received_total 42
            # HELP logstream_receive_rate Per second.
            # TYPE logstream_receive_rate gauge
            logstream_receive_rate 2.34
            # HELP logstream_service_records_total By service.
            # TYPE logstream_service_records_total counter
            logstream_service_records_total{service="pay"} 3
            logstream_service_records_total{service="evil\\"\\n\\\\"} 1
            # HELP logstream_heap_free_bytes Free.
            # TYPE logstream_heap_free_bytes gauge
            logstream_heap_free_bytes 7

            """)
    }

    @Test("the stats JSON holds the figures that have a stats key, numbers to one decimal, names escaped")
    func statsJSON() {
        let json = String(decoding: registry().statsJSON(), as: UTF8.self)
        #expect(json == #"{"received":42,"rate":2.3,"services":{"pay":3,"evil\"\n\\":1}}"#)
    }

    @Test("metrics label values escape what Prometheus reads as syntax")
    func labelValues() {
        #expect(MetricRegistry.labelValue("a\"b\\c\nd") == "a\\\"b\\\\c\\nd")
    }
}
