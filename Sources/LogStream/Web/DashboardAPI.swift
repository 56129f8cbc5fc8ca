// The dashboard's routes: the original LogStream's API, searches, histograms and facets, stats and health, and
// the dashboard's files; and who may use them (the token, a login page for browsers).

final class DashboardAPI {
    /// Where searches read (the ring now; disk history and ClickHouse join it through the same protocol).
    let source: any RecordSource
    /// The figures of /api/stats and /metrics.
    let metrics: MetricRegistry
    let staticFiles: StaticFiles
    let access: AccessPolicy
    /// Where searches run.
    let queries: WorkerThread
    /// Every node's history (`source=cluster`), and the worker its searches run on; nil without ClickHouse.
    var cluster: (history: any ClusterHistory, worker: WorkerThread)?
    /// Requests refused for want of the token.
    private(set) var unauthorizedCount = 0

    static let defaultLimit = 100
    static let maxLimit = 10_000

    init(source: any RecordSource, metrics: MetricRegistry, staticFiles: StaticFiles, queries: WorkerThread,
         access: AccessPolicy = AccessPolicy(token: nil, allowedOrigins: [])) {
        self.queries = queries
        self.source = source
        self.metrics = metrics
        self.staticFiles = staticFiles
        self.access = access
    }

    /// Whether `request` may be served; if not, counts it and gives the answer to send: a browser asking for a
    /// page is sent to the login page, anything else gets 401.
    func refusal(for request: HTTPRequest) -> HTTPResponse? {
        guard !access.isAuthorized(request) else { return nil }
        unauthorizedCount += 1
        if request.path == "/" || request.path.hasSuffix(".html") {
            var response = HTTPResponse(status: 303, contentType: "text/plain", body: Array("log in at /login\n".utf8))
            response.extraHeaders.append(("Location", "/login"))
            return response
        }
        var response = HTTPResponse.error(401, "authentication required: Authorization: Bearer <token>, or log in at /login")
        response.extraHeaders.append(("WWW-Authenticate", "Bearer realm=\"logstream\""))
        return response
    }

    /// The dashboard's routes. Searches run on the query worker, so the reactor never waits on a scan.
    func register(into router: Router) {
        let read: Set<String> = ["GET"]
        router.add(read, "/api/logs") { [unowned self] request, _ in logs(request.query) }
        router.add(read, "/api/histogram") { [unowned self] request, _ in histogram(request.query) }
        router.add(read, "/api/facets") { [unowned self] request, _ in facets(request.query) }
        router.add(read, "/api/stats") { [unowned self] _, _ in .now(.json(metrics.statsJSON())) }
        router.add(read, "/metrics") { [unowned self] _, _ in
            .now(HTTPResponse(status: 200, contentType: "text/plain; version=0.0.4", body: metrics.prometheusText()))
        }
        router.add(["GET", "DELETE"], "/api/session") { [unowned self] request, _ in .now(session(request)) }
        router.add(read, "/login") { [unowned self] _, _ in .now(staticFile("login.html")) }
        router.add(read, "/healthz") { _, _ in .now(HTTPResponse(status: 200, contentType: "text/plain", body: Array("ok\n".utf8))) }
        router.add(read, "/") { [unowned self] _, _ in .now(staticFile("index.html")) }
        router.add(read, "/static/*") { [unowned self] request, _ in .now(staticFile(String(request.path.dropFirst("/static/".count)))) }
    }

    /// `GET /api/session` with the bearer token: a session cookie for the dashboard (204). `DELETE`: log out.
    private func session(_ request: HTTPRequest) -> HTTPResponse {
        var response = HTTPResponse(status: 204, contentType: "text/plain", body: [])
        switch request.method {
        case "GET" where !access.requiresToken, "HEAD" where !access.requiresToken:
            return response
        case "GET", "HEAD":
            guard access.hasBearerToken(request), let cookie = access.sessionCookie else {
                unauthorizedCount += 1
                return .error(401, "wrong token")
            }
            response.extraHeaders.append(("Set-Cookie", cookie))
        case "DELETE":
            response.extraHeaders.append(("Set-Cookie", "\(AccessPolicy.cookieName)=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"))
        default:
            preconditionFailure("the router passes GET, HEAD and DELETE only")
        }
        return response
    }

    private func staticFile(_ name: String) -> HTTPResponse {
        guard let file = staticFiles.file(named: name) else {
            return .error(404, staticFiles.isEmpty ? "dashboard files not found: start with --static-dir" : "no such file")
        }
        var response = HTTPResponse(status: 200, contentType: file.contentType, body: file.body)
        response.extraHeaders = [
            ("Content-Security-Policy", "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"),
            ("Referrer-Policy", "no-referrer"),
        ]
        return response
    }

    /// `GET /api/logs?query=&level=&service=&limit=`: newest first, as the original; plus `q=` (the query
    /// language), `field.<name>=`, and the window: `before=`, `after=` (ids), `since=`, `until=` (times).
    private func logs(_ query: [String: String]) -> HTTPAnswer {
        if let answer = clusterAnswer(query, clusterLogs) { return answer }
        let (limit, selection): (Int, Selection)
        do {
            limit = min(try Self.integer(query, "limit", fallback: Self.defaultLimit, allowed: 0...Int.max,
                                         "limit must be a non-negative integer"), Self.maxLimit)
            selection = try Self.selection(query)
        } catch { return .now(error.response) }
        return .later(queries) { [source] in
            var json = JSONWriter(capacity: 256 * min(limit, 1000))
            let listed = LogEntryJSON.appendNewest(from: source, matching: selection.filter, limit: limit, window: selection.window, to: &json)
            // The body stays the original's plain array; how many matched in all goes in headers, exact when the
            // scan reached the end of what is stored (a listing cut by its limit does not count further).
            var response = HTTPResponse.json(json.bytes)
            response.extraHeaders = [("X-Total-Matched", String(listed.count)), ("X-Total-Matched-Exact", listed.isComplete ? "true" : "false")]
            return response
        }
    }

    /// `GET /api/histogram?q=&since=&until=&before=&after=&buckets=`: records per level per time bucket, oldest
    /// bucket first. Without `since`/`until`, the span of what is stored (at least the last minute).
    private func histogram(_ query: [String: String]) -> HTTPAnswer {
        if let answer = clusterAnswer(query, clusterHistogram) { return answer }
        let (selection, buckets): (Selection, Int)
        do {
            selection = try Self.selection(query)
            buckets = try Self.integer(query, "buckets", fallback: 60, allowed: 1...LevelHistogram.maxBuckets,
                                       "buckets must be between 1 and \(LevelHistogram.maxBuckets)")
        } catch { return .now(error.response) }
        return .later(queries) { [source] in
            let stored = source.storedIDs
            let now = Clock.wallMilliseconds
            let newest = stored.isEmpty ? now : source.read(stored.upperBound - 1) { $0.receivedAtMilliseconds } ?? now
            let oldest = stored.isEmpty ? newest : source.read(stored.lowerBound) { $0.receivedAtMilliseconds } ?? newest
            let (since, until) = Self.histogramSpan(since: selection.window.since, until: selection.window.until, held: oldest...max(oldest, newest), now: now)
            guard since <= until else { return .error(400, "since is after until") }
            let histogram = LevelHistogram(source: source, filter: selection.filter, window: selection.window, since: since, until: until, buckets: buckets)
            var json = JSONWriter(capacity: 64 * buckets + 256)
            histogram.append(to: &json, until: until)
            return .json(json.bytes)
        }
    }

    /// `GET /api/facets?field=service|level|host|protocol|format|field.<name>&q=&since=&until=&limit=`: the most
    /// common values among matching records.
    private func facets(_ query: [String: String]) -> HTTPAnswer {
        if let answer = clusterAnswer(query, clusterFacets) { return answer }
        let (selection, limit): (Selection, Int)
        do { selection = try Self.selection(query) } catch { return .now(error.response) }
        guard let name = query["field"], let attribute = Facets.Attribute(name) else {
            return .now(.error(400, "field must be service, level, host, protocol, format or field.<name>"))
        }
        do { limit = try Self.integer(query, "limit", fallback: 10, allowed: 1...100, "limit must be between 1 and 100") } catch {
            return .now(error.response)
        }
        return .later(queries) { [source] in
            let facets = Facets(source: source, filter: selection.filter, window: selection.window, attribute: attribute, limit: limit)
            var json = JSONWriter(capacity: 64 * limit + 128)
            facets.append(to: &json, field: name)
            return .json(json.bytes)
        }
    }

    /// What a histogram covers: the window asked for, else the span of what is held, and at least the last
    /// minute, so that a chart of a fresh server still shows time passing.
    static func histogramSpan(since: Int64?, until: Int64?, held: ClosedRange<Int64>?, now: Int64) -> (since: Int64, until: Int64) {
        let end = until ?? max(held?.upperBound ?? now, now)
        return (since ?? min(held?.lowerBound ?? end, end - 60_000), end)
    }

    /// A 400 to send instead of an answer.
    struct BadRequest: Error {
        var response: HTTPResponse
    }

    /// An integer parameter: `fallback` when absent or empty, else it must lie in `allowed` (a 400 saying `message`).
    static func integer(_ query: [String: String], _ name: String, fallback: Int, allowed: ClosedRange<Int>,
                                _ message: String) throws(BadRequest) -> Int {
        guard let text = query[name], !text.isEmpty else { return fallback }
        guard let value = Int(text), allowed.contains(value) else { throw BadRequest(response: .error(400, message)) }
        return value
    }

    /// Which records a request is about.
    struct Selection: Sendable {
        var filter: RecordFilter
        var window: RecordWindow
    }

    /// The filter (original parameters, `field.<name>=`, `q=`) and the window a request asks for.
    static func selection(_ query: [String: String], window: Bool = true) throws(BadRequest) -> Selection {
        var fields: [String: String] = [:]
        for (key, value) in query where key.hasPrefix("field.") && key.count > "field.".count {
            fields[String(key.dropFirst("field.".count))] = value
        }
        let expression: Query?
        do { expression = try QueryParser.parse(query["q"] ?? "") } catch { throw BadRequest(response: .error(400, "q: \(error)")) }
        var parsedWindow = RecordWindow()
        if window {
            do { parsedWindow = try RecordWindow(parameters: query, now: Clock.wallMilliseconds) } catch {
                throw BadRequest(response: .error(400, error.message))
            }
        }
        let filter = RecordFilter(query: query["query"], level: query["level"], service: query["service"], fields: fields,
                                  expression: expression)
        return Selection(filter: filter, window: parsedWindow)
    }
}
