// Every figure the server reports, registered in one place: what /metrics and /api/stats show, in this order.
// Names in Prometheus' style (counters end in `_total`); the stats keys are the dashboard's.

extension Server {
    func registerMetrics(api: DashboardAPI, udpReceiveBufferBytes: Int) {
        let (stats, ring, metrics) = (destination.stats, ring, metrics)
        metrics.counter("received_total", "Records received.", stats: "received") { Int(stats.received) }
        metrics.gauge("stored_records", "Records held in memory.", stats: "stored") { ring.storedCount }
        metrics.gauge("memory_oldest_id", "Id of the oldest record held in memory (the next id when none).", stats: "memory_oldest_id") {
            Int(ring.storedIDs.lowerBound)
        }
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
        let httpIngest = httpIngest
        metrics.counters("http_ingest_requests_total", "HTTP ingestion requests, by endpoint.", label: "endpoint", stats: "http_ingest_requests") {
            HTTPIngest.Endpoint.allCases.map { ($0.name, httpIngest.requests[$0.rawValue]) }
        }
        metrics.counters("http_ingest_records_total", "Records stored from HTTP ingestion, by endpoint.", label: "endpoint",
                         stats: "http_ingest_records") { HTTPIngest.Endpoint.allCases.map { ($0.name, httpIngest.records[$0.rawValue]) } }
        metrics.counters("http_ingest_refused_total", "HTTP ingestion requests refused, by cause (nothing of them stored).", label: "cause",
                         stats: "http_ingest_refused") {
            HTTPIngest.Failure.allCases.enumerated().map { ($1.rawValue, httpIngest.failures[$0]) }
        }
        if let disk { registerDiskMetrics(disk) }
        registerContainerMetrics()
        registerShippingMetrics()
        if let tls { tls.register(into: metrics) }
        if let tlsSyslog {
            metrics.gauge("tls_syslog_connections", "Syslog senders connected over TLS.", stats: "tls_syslog_connections") { tlsSyslog.connectionCount }
        }
        // Both from one reading (mallinfo2 walks malloc's free lists): the second is rendered right after the first.
        var heap = ProcessResources.heapFigures
        metrics.gauge("heap_allocated_bytes", "Bytes the process has allocated from malloc.") {
            heap = ProcessResources.heapFigures
            return heap.allocated
        }
        metrics.gauge("heap_free_bytes", "Bytes malloc holds free in its arenas (resident or not).") { heap.free }
    }

    /// The disk history's figures (with --no-persist there are none).
    /// GELF and Forward: zero while their ports are off, so dashboards need no special case.
    private func registerContainerMetrics() {
        let (gelf, forward, tlsForward, metrics) = (gelf, forward, tlsForward, metrics)
        func count(_ read: @escaping (GELFIngest) -> UInt64) -> () -> Int { { gelf.map { Int(read($0.ingest)) } ?? 0 } }
        metrics.counter("gelf_messages_total", "GELF messages decoded and stored.", stats: "gelf_messages", count { $0.messages })
        metrics.counter("gelf_malformed_total", "GELF messages dropped: not JSON, bad compression, no short_message, too large.",
                        stats: "gelf_malformed", count { $0.malformed })
        metrics.counter("gelf_chunks_expired_total", "Chunked GELF messages dropped incomplete after 5 s.", stats: "gelf_chunks_expired",
                        count { $0.assembler.expiredCount })
        metrics.counter("gelf_chunks_dropped_for_memory_total", "Incomplete chunked GELF messages dropped at --gelf-max-pending-bytes.",
                        stats: "gelf_chunks_dropped_for_memory", count { $0.assembler.droppedForMemoryCount })
        metrics.counter("gelf_chunks_invalid_total", "GELF chunks refused (count over 128, bad sequence number, count changed).",
                        stats: "gelf_chunks_invalid", count { $0.assembler.invalidChunkCount })
        metrics.counter("gelf_chunks_duplicate_total", "GELF chunks received twice (ignored).", stats: "gelf_chunks_duplicate",
                        count { $0.assembler.duplicateChunkCount })
        metrics.counter("gelf_udp_kernel_drops_total", "GELF datagrams the kernel dropped for a full receive buffer.",
                        stats: "gelf_udp_kernel_drops") { gelf.map { Int($0.udp.kernelDrops) } ?? 0 }
        metrics.gauge("gelf_pending_chunk_bytes", "Bytes held for incomplete chunked GELF messages.", stats: "gelf_pending_chunk_bytes") {
            gelf?.ingest.assembler.pendingBytes ?? 0
        }
        metrics.gauge("forward_connections", "Fluent Forward senders connected.", stats: "forward_connections") {
            forward?.listener.connectionCount ?? 0
        }
        // Counted over both listeners, plain and TLS.
        let forwardListeners = [forward?.listener, tlsForward].compactMap { $0 }
        if let tlsForward {
            metrics.gauge("tls_forward_connections", "Fluent Forward senders connected over TLS.", stats: "tls_forward_connections") {
                tlsForward.connectionCount
            }
        }
        func forwardCount(_ read: @escaping (ForwardListener) -> UInt64) -> () -> Int {
            { forwardListeners.reduce(0) { $0 + Int(read($1)) } }
        }
        metrics.counter("forward_messages_total", "Forward messages (each one or more events) received.", stats: "forward_messages",
                        forwardCount { $0.messages })
        metrics.counter("forward_acks_total", "Forward chunks acknowledged, once their records were durable.", stats: "forward_acks",
                        forwardCount { $0.acksSent })
        metrics.counter("forward_malformed_closed_total", "Forward connections closed for a malformed or oversized message.",
                        stats: "forward_malformed_closed", forwardCount { $0.malformedClosed })
        metrics.counter("forward_handshake_failures_total", "Forward senders refused in the shared-key handshake.",
                        stats: "forward_handshake_failures", forwardCount { $0.handshakeFailures })
        metrics.counter("forward_heartbeats_total", "Forward UDP heartbeats answered.", stats: "forward_heartbeats") {
            forward.map { Int($0.heartbeat.answered) } ?? 0
        }
    }

    /// Shipping to ClickHouse: zero while it is off, with `clickhouse_enabled` saying which.
    private func registerShippingMetrics() {
        let (shipper, metrics) = (clickhouse, metrics)
        metrics.gauge("clickhouse_enabled", "1 when records are shipped to ClickHouse (--clickhouse-url).", stats: "clickhouse_enabled") {
            shipper == nil ? 0 : 1
        }
        metrics.counter("clickhouse_shipped_records_total", "Records ClickHouse has taken (a retried batch counts again).",
                        stats: "clickhouse_shipped_records") { shipper?.recordsShipped ?? 0 }
        metrics.counter("clickhouse_shipped_batches_total", "Batches ClickHouse has taken.", stats: "clickhouse_shipped_batches") {
            shipper?.batchesShipped ?? 0
        }
        metrics.counter("clickhouse_shipped_bytes_total", "RowBinary bytes of the batches ClickHouse has taken.") { shipper?.bytesShipped ?? 0 }
        metrics.gauge("clickhouse_shipped_up_to", "Records with ids below this are in ClickHouse (or were rejected or lost, and counted).",
                      stats: "clickhouse_shipped_up_to") { Int(shipper?.shippedUpTo ?? 0) }
        metrics.gauge("clickhouse_lag_records", "Records taken in and not yet shipped to ClickHouse.", stats: "clickhouse_lag_records") {
            shipper?.lagRecords ?? 0
        }
        metrics.gauge("clickhouse_lag_seconds", "Seconds since the oldest record not yet in ClickHouse was taken in.",
                      stats: "clickhouse_lag_seconds", number: { shipper?.lagSeconds ?? 0 })
        metrics.counters("clickhouse_failures_total", "Shipping turns that failed, by cause (each is retried).", label: "cause",
                         stats: "clickhouse_failures") {
            ClickHouseClient.Failure.Kind.allCases.map { (value: $0.rawValue, count: UInt64(shipper?.failures[$0] ?? 0)) }
        }
        metrics.counter("clickhouse_rows_rejected_total", "Records ClickHouse refused row by row, left out of ClickHouse (and logged).",
                        stats: "clickhouse_rows_rejected") { shipper?.rowsRejected ?? 0 }
        metrics.counter("clickhouse_lost_records_total", "Records that left the local history before they were shipped (and logged).",
                        stats: "clickhouse_lost_records") { shipper?.recordsLost ?? 0 }
        metrics.counter("clickhouse_partitions_dropped_total", "Day partitions dropped in ClickHouse by --clickhouse-retention (every shard counted).",
                        stats: "clickhouse_partitions_dropped") { shipper?.partitionsDropped ?? 0 }
        metrics.gauge("clickhouse_failing", "1 while shipping is held up by a failure (it is retried).", stats: "clickhouse_failing") {
            shipper?.lastFailure == nil ? 0 : 1
        }
    }

    private func registerDiskMetrics(_ disk: DiskHistory) {
        let metrics = metrics
        // The catalog's totals, read once per rendering of /metrics or /api/stats (the first figure reads them).
        var totals = disk.catalog.totals
        metrics.gauge("disk_bytes", "Bytes of history on disk.", stats: "disk_bytes") {
            totals = disk.catalog.totals
            return totals.bytes
        }
        metrics.gauge("disk_files", "Segment files of history on disk.", stats: "disk_files") { totals.files }
        metrics.gauge("disk_records", "Records held on disk.", stats: "disk_records") { totals.records }
        metrics.gauge("disk_oldest_id", "Id of the oldest record on disk (0: none).", stats: "disk_oldest_id") { Int(totals.oldestID ?? 0) }
        metrics.gauge("disk_oldest_time_ms", "Receive time of the oldest record on disk, ms since the epoch (0: none).",
                      stats: "disk_oldest_time_ms") { Int(totals.oldestReceivedAt ?? 0) }
        metrics.gauge("disk_retention_bytes", "The byte bound of the history (--retention-bytes).", stats: "disk_retention_bytes") {
            disk.configuration.retention.maxBytes
        }
        metrics.counter("disk_records_persisted_total", "Records written to disk since start.", stats: "disk_records_persisted") {
            Int(disk.progress.recordsPersisted)
        }
        metrics.counter("disk_records_not_persisted_total", "Records that never reached the disk (a write failed, or evicted first).",
                        stats: "disk_records_not_persisted") { Int(disk.progress.recordsNotPersisted) }
        metrics.gauge("disk_durable_id", "Records with ids below this are synced to disk.", stats: "disk_durable_id") {
            Int(disk.progress.durableUpTo)
        }
        metrics.counter("disk_write_errors_total", "Writes, syncs and removals that failed (a full disk, an I/O error).",
                        stats: "disk_write_errors") { Int(disk.progress.writeErrors) }
        metrics.gauge("disk_write_failing", "1 while persisting is stopped by errors (writes are retried).", stats: "disk_write_failing") {
            disk.progress.failing == nil ? 0 : 1
        }
        metrics.counter("disk_syncs_total", "fdatasync calls on segment files.", stats: "disk_syncs") { Int(disk.progress.syncs) }
        metrics.counter("disk_sync_seconds_total", "Seconds spent in fdatasync.", stats: "disk_sync_seconds",
                      number: { Double(disk.progress.syncNanoseconds) / 1e9 })
        metrics.gauge("disk_slowest_sync_seconds", "The slowest fdatasync since start.", stats: "disk_slowest_sync_seconds",
                      number: { Double(disk.progress.slowestSyncNanoseconds) / 1e9 })
        metrics.counter("disk_corrupt_blocks_skipped_total", "Blocks that failed their checks when read, skipped (and logged).",
                        stats: "disk_corrupt_blocks_skipped") { disk.source.corruptBlocksSkipped + disk.corruptStretchesAtStart }
        metrics.gauge("disk_torn_bytes_recovered", "Bytes of a torn tail cut off at start.", stats: "disk_torn_bytes_recovered") {
            disk.tornBytesRecovered
        }
        metrics.counter("disk_retention_removals_total", "Segment files removed by retention.", stats: "disk_retention_removals") {
            Int(disk.progress.retentionRemovals)
        }
        metrics.counter("disk_retention_removed_bytes_total", "Bytes removed by retention.", stats: "disk_retention_removed_bytes") {
            Int(disk.progress.retentionRemovedBytes)
        }
    }
}
