// The route table: who answers which method and path, and how large a body each route takes (none unless it
// says so, so an unknown body gets 413). The dashboard API and the ingestion endpoints (OTLP, Loki,
// Elasticsearch, lines) register into it. A check that runs before every route (the access policy) can refuse a
// request first.

/// A route's answer.
enum HTTPAnswer {
    case now(HTTPResponse)
    /// Work that may take long, run on `worker`; its response is sent when it comes back to the reactor.
    case later(WorkerThread, @Sendable () -> HTTPResponse)
    /// The handler answers when it is ready, through `respond`, called once on the reactor thread (a body
    /// decoded on a worker, then stored on the reactor).
    case deferred((_ respond: @escaping (HTTPResponse) -> Void) -> Void)
    /// The connection switches protocol: `response` (a 101) is sent, then `takeOver` gets the socket.
    case upgrade(response: [UInt8], takeOver: (UpgradedConnection) -> Void)
}

/// A connection handed over to another protocol, with the bytes already queued for it and those received
/// past its last request.
struct UpgradedConnection {
    var transport: Transport
    var output: OutboundQueue
    var leftover: [UInt8]
}

final class Router {
    typealias Handler = (HTTPRequest, _ body: [UInt8]) -> HTTPAnswer

    private struct Route {
        /// nil: any method (the handler checks).
        var methods: Set<String>?
        var path: String
        var isPrefix: Bool
        var maxBodyBytes: Int
        var handler: Handler
    }

    private var routes: [Route] = []
    /// Runs before any route: an answer to send instead (401, a redirect to a login page), or nil to go on.
    var admission: (HTTPRequest) -> HTTPResponse? = { _ in nil }

    init() {}

    /// Answers `methods` at `path` (GET implies HEAD; nil: any method), or at every path under it when it ends
    /// in `*`. A body is accepted up to `maxBodyBytes`.
    func add(_ methods: Set<String>?, _ path: String, maxBodyBytes: Int = 0, _ handler: @escaping Handler) {
        let isPrefix = path.hasSuffix("*")
        let methods = methods.map { $0.contains("GET") ? $0.union(["HEAD"]) : $0 }
        routes.append(Route(methods: methods, path: isPrefix ? String(path.dropLast()) : path, isPrefix: isPrefix,
                            maxBodyBytes: maxBodyBytes, handler: handler))
    }

    /// The largest body the request's route accepts: 0 for routes without bodies, unknown paths and methods.
    func bodyLimit(for request: HTTPRequest) -> Int {
        guard case .route(let route) = resolve(request) else { return 0 }
        return route.maxBodyBytes
    }

    /// Admission, then the route's answer; 404 for an unknown path, 405 (with `Allow`) for a known path's
    /// other methods.
    func answer(_ request: HTTPRequest, body: [UInt8]) -> HTTPAnswer {
        if let refusal = admission(request) { return .now(refusal) }
        switch resolve(request) {
        case .route(let route):
            return route.handler(request, body)
        case .methodNotAllowed(let allowed):
            var response = HTTPResponse.error(405, "method not allowed")
            response.extraHeaders.append(("Allow", allowed))
            return .now(response)
        case .notFound:
            return .now(.error(404, "no such path: \(request.path)"))
        }
    }

    private enum Resolution {
        case route(Route)
        case methodNotAllowed(String)
        case notFound
    }

    private func resolve(_ request: HTTPRequest) -> Resolution {
        let matching = routes.filter { $0.isPrefix ? request.path.hasPrefix($0.path) : request.path == $0.path }
        guard !matching.isEmpty else { return .notFound }
        if let route = matching.first(where: { $0.methods?.contains(request.method) ?? true }) { return .route(route) }
        let order = ["GET", "HEAD", "POST", "PUT", "DELETE"]
        let allowed = Set(matching.flatMap { $0.methods ?? [] })
        return .methodNotAllowed(allowed.sorted { (order.firstIndex(of: $0) ?? 99, $0) < (order.firstIndex(of: $1) ?? 99, $1) }.joined(separator: ", "))
    }
}
