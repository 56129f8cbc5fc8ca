// `source=cluster` on /api/logs, /api/histogram and /api/facets: the same questions asked of every node's
// history in ClickHouse, answered in the same JSON as local ones (each entry also names its `node`, and a
// `cursor` to page on with `before=`). They run on the `cluster` worker, never behind a local search. A query
// ClickHouse refuses is a 400 with its message; ClickHouse unreachable, a 503; too slow, a 504.

extension DashboardAPI {
    /// The answer when `source` asks for the cluster (or is bad); nil for a local search.
    func clusterAnswer(_ query: [String: String], _ answer: ([String: String], any ClusterHistory, WorkerThread) -> HTTPAnswer) -> HTTPAnswer? {
        switch query["source"] ?? "local" {
        case "local", "": return nil
        case "cluster":
            guard let cluster else { return .now(.error(400, "source=cluster needs the server started with --clickhouse-url")) }
            return answer(query, cluster.history, cluster.worker)
        default: return .now(.error(400, "source must be local or cluster"))
        }
    }

    func clusterLogs(_ query: [String: String], _ history: any ClusterHistory, _ worker: WorkerThread) -> HTTPAnswer {
        let (limit, selection, window): (Int, Selection, ClusterWindow)
        do {
            limit = min(try Self.integer(query, "limit", fallback: Self.defaultLimit, allowed: 0...Int.max,
                                         "limit must be a non-negative integer"), Self.maxLimit)
            (selection, window) = try Self.clusterSelection(query)
        } catch { return .now(error.response) }
        return .later(worker) {
            var json = JSONWriter(capacity: 256 * min(limit, 1000))
            json.raw("[")
            var count = 0
            do throws(ClusterError) {
                if limit > 0 {
                    try history.newest(matching: selection.filter, in: window, limit: limit) { record, node in
                        if count > 0 { json.raw(",") }
                        LogEntryJSON.append(record, node: node, to: &json)
                        count += 1
                    }
                }
            } catch {
                return .error(error.status, error.message)
            }
            json.raw("]")
            var response = HTTPResponse.json(json.bytes)
            response.extraHeaders = [("X-Total-Matched", String(count)), ("X-Total-Matched-Exact", count < limit ? "true" : "false")]
            return response
        }
    }

    func clusterHistogram(_ query: [String: String], _ history: any ClusterHistory, _ worker: WorkerThread) -> HTTPAnswer {
        let (selection, window, buckets): (Selection, ClusterWindow, Int)
        do {
            (selection, window) = try Self.clusterSelection(query)
            buckets = try Self.integer(query, "buckets", fallback: 60, allowed: 1...LevelHistogram.maxBuckets,
                                       "buckets must be between 1 and \(LevelHistogram.maxBuckets)")
        } catch { return .now(error.response) }
        return .later(worker) {
            do throws(ClusterError) {
                let held = window.since == nil || window.until == nil ? try history.timeSpan() : nil
                let (since, until) = Self.histogramSpan(since: window.since, until: window.until, held: held, now: Clock.wallMilliseconds)
                guard since <= until else { return .error(400, "since is after until") }
                let histogram = try history.histogram(matching: selection.filter, in: window, since: since, until: until, buckets: buckets)
                var json = JSONWriter(capacity: 64 * buckets + 256)
                histogram.append(to: &json, until: until)
                return .json(json.bytes)
            } catch {
                return .error(error.status, error.message)
            }
        }
    }

    func clusterFacets(_ query: [String: String], _ history: any ClusterHistory, _ worker: WorkerThread) -> HTTPAnswer {
        let (selection, window, limit): (Selection, ClusterWindow, Int)
        do {
            (selection, window) = try Self.clusterSelection(query)
            limit = try Self.integer(query, "limit", fallback: 10, allowed: 1...100, "limit must be between 1 and 100")
        } catch { return .now(error.response) }
        guard let name = query["field"], let attribute = Facets.Attribute(name) else {
            return .now(.error(400, "field must be service, level, host, protocol, format or field.<name>"))
        }
        return .later(worker) {
            do throws(ClusterError) {
                let facets = try history.facets(matching: selection.filter, in: window, attribute: attribute, limit: limit)
                var json = JSONWriter(capacity: 64 * limit + 128)
                facets.append(to: &json, field: name)
                return .json(json.bytes)
            } catch {
                return .error(error.status, error.message)
            }
        }
    }

    /// The filter, and the cluster's window: `since`/`until` as locally; `before=` a cursor (`<ms>:<id>:<node>`,
    /// an entry's `cursor`), or with `node=` plain ids in `before=`/`after=` (a line and its neighbours).
    static func clusterSelection(_ query: [String: String]) throws(BadRequest) -> (Selection, ClusterWindow) {
        let selection = try Self.selection(query, window: false)
        var local = query
        (local["before"], local["after"]) = (nil, nil)
        let times: RecordWindow
        do { times = try RecordWindow(parameters: local, now: Clock.wallMilliseconds) } catch {
            throw BadRequest(response: .error(400, error.message))
        }
        var window = ClusterWindow(since: times.since, until: times.until)
        if let node = query["node"], !node.isEmpty { window.node = node }
        for (name, text) in [("before", query["before"]), ("after", query["after"])] {
            guard let text, !text.isEmpty else { continue }
            if name == "before", let cursor = ClusterCursor(text) {
                window.before = cursor
            } else if let id = UInt64(text), window.node != nil {
                if name == "before" { window.beforeID = id } else { window.afterID = id }
            } else {
                throw BadRequest(response: .error(400, "\(name) must be an entry's cursor (<ms>:<id>:<node>), or a record id with node="))
            }
        }
        return (selection, window)
    }
}
