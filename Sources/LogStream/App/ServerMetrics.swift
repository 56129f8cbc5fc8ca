// Every figure the server reports, registered in one place: what /metrics and /api/stats show, in this order.
// Names in Prometheus' style (counters end in `_total`); the stats keys are the dashboard's.

extension Server {
    func registerMetrics(api: DashboardAPI, udpReceiveBufferBytes: Int) {
        let (stats, ring, metrics) = (destination.stats, ring, metrics)
        metrics.counter("received_total", "Records received.", stats: "received") { Int(stats.received) }
        metrics.gauge("stored_records", "Records held in memory.", stats: "stored") { ring.storedCount }
        metrics.gauge("capacity_records", "Records the ring can hold.", stats: "capacity") { ring.capacity }
        metrics.counter("evicted_total", "Records evicted from memory to make room.", stats: "evicted") { Int(ring.evictedCount) }
        metrics.counter("truncated_total", "Lines cut at the maximum line length.", stats: "truncated") { Int(stats.truncated) }
        metrics.gauge("stored_bytes", "Bytes of log text held in memory.", stats: "bytes") { ring.storedBytes }
        metrics.gauge("capacity_bytes", "Bytes of log text the ring can hold.", stats: "capacity_bytes") { ring.arenaBytes }
        metrics.gauge("receive_rate", "Records received per second over the last 5 s.", stats: "rate", number: { stats.rate })
        metrics.counters("records_total", "Records received, by level.", label: "level", stats: "levels") {
            LogLevel.allCases.map { ($0.name, stats.byLevel[Int($0.rawValue)]) }
        }
        metrics.counters("protocol_records_total", "Records received, by protocol.", label: "protocol", stats: "protocols") {
            IngestProtocol.allCases.map { ($0.name, stats.byProtocol[Int($0.rawValue)]) }
        }
        metrics.counters("service_records_total", "Records received, by service (the first 1,024 names).", label: "service",
                         stats: "services") { stats.byService.all.map { ($0.name, $0.count) } }

        let (tcp, udp, http, liveTail) = (tcp, udp, http, liveTail)
        metrics.gauge("tcp_connections", "TCP senders connected.", stats: "tcp_connections") { tcp.connectionCount }
        metrics.gauge("http_connections", "HTTP connections open (WebSocket sessions not counted).", stats: "http_connections") {
            http.connectionCount
        }
        metrics.gauge("websocket_clients", "Live-tail WebSocket clients.", stats: "websocket_clients") { liveTail.sessionCount }
        metrics.gauge("udp_receive_buffer_bytes", "The UDP socket's receive buffer, as the kernel granted it.",
                      stats: "udp_receive_buffer_bytes") { udpReceiveBufferBytes }
        metrics.counter("udp_kernel_drops_total", "UDP datagrams the kernel dropped for a full receive buffer.",
                        stats: "udp_kernel_drops") { Int(udp.kernelDrops) }
        metrics.counter("udp_receive_errors_total", "UDP receive calls that failed.") { udp.receiveErrors }
        metrics.counter("connections_shed_total", "Connections accepted and closed at once: no descriptor was left.",
                        stats: "connections_shed") { FileDescriptorReserve.shared.shedCount }
        metrics.counter("tcp_connections_refused_total", "TCP senders refused beyond --max-connections.",
                        stats: "tcp_connections_refused") { tcp.refusedCount }
        metrics.counter("tcp_idle_closed_total", "TCP senders closed after --idle-timeout of silence.", stats: "tcp_idle_closed") {
            tcp.idleClosedCount
        }
        metrics.counter("tcp_paused_total", "Times a TCP sender was not read because storage had no room.") { tcp.pausedCount }
        metrics.counter("http_connections_refused_total", "HTTP connections refused beyond --max-http-connections.",
                        stats: "http_connections_refused") { http.refusedCount }
        metrics.counter("http_header_timeouts_total", "HTTP requests that did not arrive within --header-timeout (408).",
                        stats: "http_header_timeouts") { http.slowRequestCount }
        metrics.counter("http_unauthorized_total", "HTTP requests refused for want of the token.", stats: "http_unauthorized") {
            api.unauthorizedCount
        }
        metrics.counter("websocket_origin_refused_total", "WebSocket handshakes refused for their Origin.",
                        stats: "websocket_origin_refused") { liveTail.originRefusedCount }
        metrics.counter("websocket_messages_dropped_total", "Live messages dropped for clients too far behind.",
                        stats: "websocket_messages_dropped") { liveTail.droppedMessageCount }
        metrics.counter("websocket_ping_timeouts_total", "WebSocket clients closed for not answering a ping.",
                        stats: "websocket_ping_timeouts") { liveTail.unansweredCount }
        metrics.counter("websocket_slow_closed_total", "WebSocket clients closed for staying too far behind.",
                        stats: "websocket_slow_closed") { liveTail.behindClosedCount }
        // Both from one reading (mallinfo2 walks malloc's free lists): the second is rendered right after the first.
        var heap = ProcessResources.heapFigures
        metrics.gauge("heap_allocated_bytes", "Bytes the process has allocated from malloc.") {
            heap = ProcessResources.heapFigures
            return heap.allocated
        }
        metrics.gauge("heap_free_bytes", "Bytes malloc holds free in its arenas (resident or not).") { heap.free }
    }
}
