// Just enough of Elasticsearch's REST API for its shippers and clients to start with their defaults and then
// bulk-index. What they call before indexing (their sources and docs, checked for each):
// - every client: `GET /` for `version.number`, and `X-Elastic-Product: Elasticsearch` on answers (the official
//   clients refuse a server without it);
// - Filebeat: `GET /_license`, `GET /_xpack` (is ILM there), `GET /_ilm/policy/<name>` and
//   `HEAD /_index_template/<name>` (200: exists, nothing to install), then `_bulk` `create` into a data stream;
// - Logstash: `GET /`, `GET /_license`, `GET`/`PUT /_index_template/<name>`, `GET /_ilm/policy/<name>`,
//   `HEAD /<alias>` (the rollover alias exists), then `_bulk`;
// - Vector: `GET /` (API version), `GET /_cluster/health` (its health check), then `_bulk`;
// - Fluent Bit: only `_bulk`.
// Templates, policies, pipelines and data streams are said to exist, and writing one is acknowledged: LogStream
// keeps no mappings, so there is nothing to install.

final class ElasticAPI: Sendable {
    let version: String

    init(version: String) {
        self.version = version
    }

    enum Route {
        case answer(HTTPResponse)
        /// A bulk request; its index from the path, if any.
        case bulk(index: String?)
    }

    /// What to do for `method` at `path` (relative to the API's base: "" or "/..." ).
    func route(method: String, path: String) -> Route {
        let parts = path.split(separator: "/").map(String.init)
        let isRead = method == "GET" || method == "HEAD"
        let isWrite = method == "PUT" || method == "POST"
        switch (parts.first ?? "", parts.count) {
        case ("", 0):
            return isRead ? .answer(json(info)) : .answer(methodNotAllowed("GET, HEAD"))
        case ("_bulk", 1):
            return isWrite ? .bulk(index: nil) : .answer(methodNotAllowed("POST, PUT"))
        case (_, 2) where parts[1] == "_bulk" && !parts[0].hasPrefix("_"):
            return isWrite ? .bulk(index: parts[0]) : .answer(methodNotAllowed("POST, PUT"))
        case ("_license", _) where isRead:
            return .answer(json(license))
        case ("_xpack", _) where isRead:
            return .answer(json(xpack))
        case ("_cluster", _) where parts.count >= 2 && parts[1] == "health" && isRead:
            return .answer(json(#"{"cluster_name":"logstream","status":"green","timed_out":false,"number_of_nodes":1,"number_of_data_nodes":1,"active_primary_shards":1,"active_shards":1,"relocating_shards":0,"initializing_shards":0,"unassigned_shards":0,"delayed_unassigned_shards":0,"number_of_pending_tasks":0,"number_of_in_flight_fetch":0,"task_max_waiting_in_queue_millis":0,"active_shards_percent_as_number":100.0}"#))
        case ("_nodes", _) where isRead:
            return .answer(json(#"{"_nodes":{"total":1,"successful":1,"failed":0},"cluster_name":"logstream","nodes":{"logstream":{"name":"logstream","version":"\#(version)","roles":["data","ingest","master"],"http":{"publish_address":"127.0.0.1:9200"}}}}"#))
        case ("_index_template", 2), ("_template", 2), ("_component_template", 2), ("_data_stream", 2), ("_ingest", 3), ("_ilm", 3):
            return .answer(definition(method: method, kind: parts[0], name: parts[parts.count - 1]))
        case (let index, 1) where !index.hasPrefix("_"):
            switch method {
            case "HEAD": return .answer(json("{}"))  // an index or rollover alias exists: writes to it are taken
            case "PUT": return .answer(json(#"{"acknowledged":true,"shards_acknowledged":true,"index":"\#(escaped(index))"}"#))
            default: return .answer(error(404, "index_not_found_exception", "LogStream keeps no indices to \(method == "GET" ? "describe" : "change"); send documents to _bulk"))
            }
        default:
            return .answer(error(404, "unsupported_operation", "LogStream serves _bulk and the calls shippers make at start, not \(method) \(path.isEmpty ? "/" : path)"))
        }
    }

    /// Every answer of the API says it is Elasticsearch, in the media type the client asked for.
    func decorate(_ response: HTTPResponse, for request: HTTPRequest) -> HTTPResponse {
        var response = response
        response.extraHeaders.append(("X-Elastic-Product", "Elasticsearch"))
        if response.contentType == "application/json", let accept = request.header("accept")?.lowercased(),
           accept.contains("application/vnd.elasticsearch+json") {
            let compatible = accept.split(separator: ";").dropFirst().first { $0.contains("compatible-with") }
            response.contentType = "application/vnd.elasticsearch+json" + (compatible.map { ";" + $0.filter { $0 != " " } } ?? "")
        }
        return response
    }

    /// The bulk answer: one item per action, in order, with the id it was stored under (its LogStream id unless
    /// the action named one).
    func bulkResponse(_ bulk: ElasticBulk, id: (Int) -> UInt64, tookMilliseconds: Int64) -> [UInt8] {
        var json = JSONWriter(capacity: 64 + bulk.items.count * 160)
        json.raw("{\"took\":")
        json.integer(max(0, tookMilliseconds))
        json.raw(",\"errors\":")
        json.boolean(bulk.items.contains { $0.error != nil })
        json.raw(",\"items\":[")
        for (position, item) in bulk.items.enumerated() {
            if position > 0 { json.raw(",") }
            json.raw("{")
            json.string(item.action)
            json.raw(":{\"_index\":")
            json.string(item.index)
            json.raw(",\"_id\":")
            let stored = item.error == nil ? id(item.record) : 0
            if let given = item.id { json.string(given) } else if item.error == nil { json.string(String(stored)) } else { json.raw("null") }
            if let error = item.error {
                json.raw(",\"status\":")
                json.integer(error.status)
                json.raw(",\"error\":{\"type\":")
                json.string(error.type)
                json.raw(",\"reason\":")
                json.string(error.reason)
                json.raw("}}}")
            } else {
                json.raw(",\"_version\":1,\"result\":\"created\",\"_shards\":{\"total\":1,\"successful\":1,\"failed\":0},\"_seq_no\":")
                json.integer(stored)
                json.raw(",\"_primary_term\":1,\"status\":201}}")
            }
        }
        json.raw("]}")
        return json.bytes
    }

    private var info: String {
        #"{"name":"logstream","cluster_name":"logstream","cluster_uuid":"bG9nc3RyZWFtLWNsdXN0ZXI","version":{"number":"\#(version)","build_flavor":"default","build_type":"tar","build_hash":"logstream","build_date":"2026-01-01T00:00:00.000Z","build_snapshot":false,"lucene_version":"9.12.0","minimum_wire_compatibility_version":"7.17.0","minimum_index_compatibility_version":"7.0.0"},"tagline":"You Know, for Search"}"#
    }

    private let license = #"{"license":{"status":"active","uid":"logstream","type":"basic","issue_date":"2026-01-01T00:00:00.000Z","issue_date_in_millis":1767225600000,"max_nodes":1000,"max_resource_units":null,"issued_to":"logstream","issuer":"elasticsearch","start_date_in_millis":-1}}"#

    private let xpack = #"{"build":{"hash":"logstream","date":"2026-01-01T00:00:00.000Z"},"license":{"uid":"logstream","type":"basic","mode":"basic","status":"active"},"features":{"ilm":{"available":true,"enabled":true},"security":{"available":true,"enabled":false}},"tagline":"You know, for X"}"#

    /// A template, policy, pipeline or data stream: it exists (reads), or the write is acknowledged.
    private func definition(method: String, kind: String, name: String) -> HTTPResponse {
        let name = escaped(name)
        switch method {
        case "GET", "HEAD":
            switch kind {
            case "_index_template":
                return json(#"{"index_templates":[{"name":"\#(name)","index_template":{"index_patterns":["\#(name)*"],"composed_of":[],"data_stream":{}}}]}"#)
            case "_ilm":
                return json(#"{"\#(name)":{"version":1,"modified_date":"2026-01-01T00:00:00.000Z","policy":{"phases":{"hot":{"min_age":"0ms","actions":{}}}}}}"#)
            case "_data_stream":
                return json(#"{"data_streams":[{"name":"\#(name)","timestamp_field":{"name":"@timestamp"},"indices":[],"generation":1,"status":"GREEN","template":"\#(name)"}]}"#)
            default:
                return json(#"{"\#(name)":{}}"#)
            }
        case "PUT", "POST", "DELETE":
            return json(#"{"acknowledged":true}"#)
        default:
            return methodNotAllowed("GET, HEAD, PUT, POST, DELETE")
        }
    }

    private func json(_ text: String) -> HTTPResponse { .json(Array(text.utf8)) }

    private func escaped(_ text: String) -> String {
        var writer = JSONWriter()
        writer.string(text)
        return String(decoding: writer.bytes.dropFirst().dropLast(), as: UTF8.self)
    }

    /// An error in Elasticsearch's shape, which its clients parse.
    func error(_ status: Int, _ type: String, _ reason: String) -> HTTPResponse {
        var json = JSONWriter()
        json.raw("{\"error\":{\"root_cause\":[{\"type\":")
        json.string(type)
        json.raw(",\"reason\":")
        json.string(reason)
        json.raw("}],\"type\":")
        json.string(type)
        json.raw(",\"reason\":")
        json.string(reason)
        json.raw("},\"status\":")
        json.integer(status)
        json.raw("}")
        return .json(json.bytes, status: status)
    }

    private func methodNotAllowed(_ allowed: String) -> HTTPResponse {
        var response = error(405, "method_not_allowed", "allowed: \(allowed)")
        response.extraHeaders.append(("Allow", allowed))
        return response
    }
}
