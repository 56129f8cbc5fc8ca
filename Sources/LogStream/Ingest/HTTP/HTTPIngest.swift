// The shippers' endpoints on an HTTP router: lines (`/api/ingest`), OTLP logs (`/v1/logs`), Loki push
// (`/loki/api/v1/push`) and Elasticsearch (`/es`, or the root of a port of its own). Each request goes the same
// way: its content type checked (415), refused while the stores are full (503 and Retry-After), inflated under
// a bound (413 for a bomb), decoded into a batch (400 with where it went wrong, nothing stored), stored in one
// reactor turn, and only then answered 2xx. A body of more than `inlineBodyBytes` is inflated and decoded on
// the ingest worker, so the reactor goes on serving meanwhile.

public final class HTTPIngest {
    public enum Endpoint: Int, CaseIterable, Sendable {
        case lines, otlp, loki, elasticsearch

        public var name: String {
            switch self {
            case .lines: "lines"
            case .otlp: "otlp"
            case .loki: "loki"
            case .elasticsearch: "elasticsearch"
            }
        }
    }

    public enum Failure: String, CaseIterable, Sendable {
        case badRequest = "bad_request", tooLarge = "too_large", unsupportedMediaType = "unsupported_media_type"
        case unavailable
    }

    let destination: RecordDestination
    let worker: WorkerThread
    let maxBodyBytes: Int
    let maxLineBytes: Int
    /// Multi-line joining of `/api/ingest` bodies (--multiline).
    public var joinsLines = false
    let now: () -> Int64
    let elastic: ElasticAPI
    /// Runs an action in the reactor's next turn.
    let nextTurn: (@escaping () -> Void) -> Void
    /// Records stored per reactor turn: a 16 MB body's 100,000 records are stored over a dozen turns, so the
    /// live tail and other clients are served between them.
    static let recordsPerTurn = 8192
    /// Bodies up to this size are decoded on the reactor: a worker round trip costs more than their decoding.
    static let inlineBodyBytes = 64 << 10
    /// How far a compressed body may inflate, as a multiple of the body bound.
    static let inflationFactor = 8

    /// Bytes of bodies handed to the worker and not yet stored; past `maxBytesInFlight`, requests are 503: the
    /// decoded batches of many large bodies at once are bounded (each may inflate 8 times over).
    private var bytesInFlight = 0
    var maxBytesInFlight: Int { 8 * maxBodyBytes }

    public private(set) var requests = [UInt64](repeating: 0, count: Endpoint.allCases.count)
    public private(set) var records = [UInt64](repeating: 0, count: Endpoint.allCases.count)
    public private(set) var failures = [UInt64](repeating: 0, count: Failure.allCases.count)

    init(destination: RecordDestination, worker: WorkerThread, maxBodyBytes: Int, maxLineBytes: Int, elasticsearchVersion: String,
         now: @escaping () -> Int64, nextTurn: @escaping (@escaping () -> Void) -> Void) {
        self.nextTurn = nextTurn
        self.destination = destination
        self.worker = worker
        self.maxBodyBytes = maxBodyBytes
        self.maxLineBytes = maxLineBytes
        self.now = now
        elastic = ElasticAPI(version: elasticsearchVersion)
    }

    /// Which endpoints a listener serves: all of them on the main HTTP port, one on a port of its own.
    public enum Mount {
        case all
        case otlp, loki
        /// The Elasticsearch API at the root.
        case elasticsearch
    }

    func register(into router: Router, _ mount: Mount) {
        let post: Set<String> = ["POST"]
        if case .all = mount {
            router.add(post, "/api/ingest", maxBodyBytes: maxBodyBytes) { [unowned self] in ingest(.lines, $0, $1) }
        }
        if mount.serves(.otlp) {
            router.add(post, "/v1/logs", maxBodyBytes: maxBodyBytes) { [unowned self] in ingest(.otlp, $0, $1) }
        }
        if mount.serves(.loki) {
            router.add(post, "/loki/api/v1/push", maxBodyBytes: maxBodyBytes) { [unowned self] in ingest(.loki, $0, $1) }
        }
        if mount.serves(.elasticsearch) {
            let base = if case .elasticsearch = mount { "" } else { "/es" }
            if !base.isEmpty { router.add(nil, base, maxBodyBytes: maxBodyBytes) { [unowned self] in elasticsearch(base, $0, $1) } }
            router.add(nil, base + "/*", maxBodyBytes: maxBodyBytes) { [unowned self] in elasticsearch(base, $0, $1) }
        }
    }

    private func elasticsearch(_ base: String, _ request: HTTPRequest, _ body: [UInt8]) -> HTTPAnswer {
        let path = String(request.path.dropFirst(base.count))
        switch elastic.route(method: request.method, path: path) {
        case .answer(let response):
            return .now(elastic.decorate(response, for: request))
        case .bulk(let index):
            let answer = ingest(.elasticsearch, request, body, index: index)
            guard case .deferred(let start) = answer else {
                guard case .now(let response) = answer else { return answer }
                return .now(elastic.decorate(response, for: request))
            }
            return .deferred { [elastic] respond in start { respond(elastic.decorate($0, for: request)) } }
        }
    }

    /// A decoded body: its records, and for a bulk request what to say about each action.
    struct Decoded: Sendable {
        var batch: IngestBatch
        var bulk: ElasticBulk?
    }

    struct Refusal: Error, Sendable {
        var status: Int
        var failure: Failure
        var message: String
    }

    private func ingest(_ endpoint: Endpoint, _ request: HTTPRequest, _ body: [UInt8], index: String? = nil) -> HTTPAnswer {
        requests[endpoint.rawValue] += 1
        let format: BodyFormat
        let encoding: Inflate.Wrapping?
        do {
            format = try BodyFormat(endpoint, contentType: request.header("content-type"))
            encoding = try Self.contentEncoding(request.header("content-encoding"))
        } catch {
            return .now(refuse(error))
        }
        guard destination.hasRoom, bytesInFlight + body.count <= maxBytesInFlight || bytesInFlight == 0 else {
            let reason = destination.hasRoom ? "too many large bodies are being decoded" : "the history is catching up with the disk"
            var response = refuse(Refusal(status: 503, failure: .unavailable, message: "\(reason); retry"))
            response.extraHeaders.append(("Retry-After", "1"))
            return .now(response)
        }
        let limits = Limits(body: maxBodyBytes * Self.inflationFactor, line: maxLineBytes, joinsLines: joinsLines)
        let started = now()
        let decode: @Sendable () -> Result<Decoded, Refusal> = {
            Result { () throws(Refusal) in
                try Self.decode(body, format: format, encoding: encoding, index: index, limits: limits, receivedAt: started)
            }
        }
        if body.count <= Self.inlineBodyBytes && encoding == nil {
            let result = decode()
            if case .success(let decoded) = result, decoded.batch.count > Self.recordsPerTurn {
                return .deferred { [self] respond in
                    finish(endpoint, format, result, started: started, peer: (request.peerAddress, request.peerIsVerified), respond: respond)
                }
            }
            var response: HTTPResponse!
            finish(endpoint, format, result, started: started, peer: (request.peerAddress, request.peerIsVerified)) { response = $0 }
            return .now(response)
        }
        bytesInFlight += body.count
        return .deferred { [self] respond in
            worker.submit(decode) { [self] result in
                finish(endpoint, format, result, started: started, peer: (request.peerAddress, request.peerIsVerified)) { [self] response in
                    bytesInFlight -= body.count
                    respond(response)
                }
            }
        }
    }

    /// Stores what was decoded (reactor thread), `recordsPerTurn` at a time, and then says so in the
    /// endpoint's terms. `respond` is called at once when the batch fits in one turn.
    private func finish(_ endpoint: Endpoint, _ format: BodyFormat, _ result: Result<Decoded, Refusal>, started: Int64,
                        peer: (address: String, isVerified: Bool), respond: @escaping (HTTPResponse) -> Void) {
        let decoded: Decoded
        switch result {
        case .failure(let refusal): return respond(refuse(refusal))
        case .success(let value): decoded = value
        }
        var firstIDs: [UInt64] = []
        func storeSlice(from start: Int) {
            let end = min(decoded.batch.count, start + Self.recordsPerTurn)
            var address = peer.address
            if let last = address.withUTF8({ decoded.batch.store(into: destination, protocol: .http, peer: UnsafeRawBufferPointer($0),
                                                                 peerIsVerified: peer.isVerified, receivedAtMilliseconds: now(),
                                                                 range: start..<end) }) {
                firstIDs.append(last - UInt64(end - start) + 1)
            }
            guard end == decoded.batch.count else {
                nextTurn { storeSlice(from: end) }
                return
            }
            records[endpoint.rawValue] += UInt64(decoded.batch.count)
            respond(answer(format, decoded, started: started) { record in firstIDs[record / Self.recordsPerTurn] + UInt64(record % Self.recordsPerTurn) })
        }
        storeSlice(from: 0)
    }

    /// The 2xx for a stored batch; `id` gives the id record number N was stored under.
    private func answer(_ format: BodyFormat, _ decoded: Decoded, started: Int64, id: (Int) -> UInt64) -> HTTPResponse {
        switch format {
        case .lines:
            var json = JSONWriter()
            json.raw("{\"accepted\":")
            json.integer(decoded.batch.count)
            json.raw(",\"truncated\":")
            json.integer(decoded.batch.truncatedCount)
            json.raw("}")
            return .json(json.bytes)
        case .otlpProtobuf:
            return HTTPResponse(status: 200, contentType: "application/x-protobuf", body: [])  // ExportLogsServiceResponse {}
        case .otlpJSON:
            return .json(Array("{}".utf8))
        case .lokiProtobuf, .lokiJSON:
            return HTTPResponse(status: 204, contentType: "text/plain", body: [])
        case .bulk:
            return .json(elastic.bulkResponse(decoded.bulk!, id: id, tookMilliseconds: now() - started))
        }
    }

    private func refuse(_ refusal: Refusal) -> HTTPResponse {
        failures[Failure.allCases.firstIndex(of: refusal.failure)!] += 1
        return .error(refusal.status, refusal.message)
    }

    enum BodyFormat: Sendable {
        case lines, otlpProtobuf, otlpJSON, lokiProtobuf, lokiJSON, bulk

        init(_ endpoint: Endpoint, contentType: String?) throws(Refusal) {
            let mediaType = contentType.map { String($0.split(separator: ";").first ?? "").trimmingCharacters(in: " ").lowercased() }
            func unsupported(_ accepted: String) -> Refusal {
                Refusal(status: 415, failure: .unsupportedMediaType, message: "Content-Type \(contentType ?? "(none)") is not accepted here; send \(accepted)")
            }
            switch endpoint {
            case .lines:
                guard mediaType == nil || ["application/x-ndjson", "application/jsonl", "application/json", "text/plain",
                                           "application/x-www-form-urlencoded", "application/octet-stream"].contains(mediaType!) else {
                    throw unsupported("application/x-ndjson or text/plain")
                }
                self = .lines
            case .otlp:
                switch mediaType {
                case "application/x-protobuf", "application/protobuf": self = .otlpProtobuf
                case "application/json": self = .otlpJSON
                default: throw unsupported("application/x-protobuf or application/json")
                }
            case .loki:
                switch mediaType {
                case nil, "application/x-protobuf", "application/protobuf": self = .lokiProtobuf
                case "application/json": self = .lokiJSON
                default: throw unsupported("application/x-protobuf (snappy) or application/json")
                }
            case .elasticsearch:
                guard mediaType == nil || ["application/x-ndjson", "application/json", "application/vnd.elasticsearch+x-ndjson",
                                           "application/vnd.elasticsearch+json", "text/plain"].contains(mediaType!) else {
                    throw unsupported("application/x-ndjson")
                }
                self = .bulk
            }
        }
    }

    static func contentEncoding(_ header: String?) throws(Refusal) -> Inflate.Wrapping? {
        switch header?.trimmingCharacters(in: " ").lowercased() {
        case nil, "", "identity": nil
        case "gzip", "x-gzip": .gzip
        case "deflate": .deflate
        case let other?: throw Refusal(status: 415, failure: .unsupportedMediaType, message: "Content-Encoding \(other) is not supported; use gzip or deflate")
        }
    }

    /// Inflates and decodes a body (any thread).
    static func decode(_ body: [UInt8], format: BodyFormat, encoding: Inflate.Wrapping?, index: String?,
                       limits: Limits, receivedAt: Int64) throws(Refusal) -> Decoded {
        var plain = body
        if let encoding {
            let inflated = body.withUnsafeBytes { raw in Result { () throws(InflateError) in try Inflate.decompress(raw, encoding, limit: limits.body) } }
            switch inflated {
            case .success(let bytes): plain = bytes
            case .failure(let error):
                if case .tooLarge = error { throw Refusal(status: 413, failure: .tooLarge, message: error.description) }
                throw Refusal(status: 400, failure: .badRequest, message: error.description)
            }
        }
        var batch = IngestBatch(maxLineBytes: limits.line)
        let outcome = plain.withUnsafeBytes { raw in
            Result { () throws(Refusal) -> ElasticBulk? in
                try decodePlain(raw, format: format, index: index, limits: limits, receivedAt: receivedAt, into: &batch)
            }
        }
        let bulk = try outcome.get()
        return Decoded(batch: batch, bulk: bulk)
    }

    /// Bounds on one body's decoding: the inflated bytes, a record's text; and whether trace lines are joined.
    struct Limits: Sendable {
        var body: Int
        var line: Int
        var joinsLines: Bool
    }

    private static func decodePlain(_ body: UnsafeRawBufferPointer, format: BodyFormat, index: String?, limits: Limits,
                                    receivedAt: Int64, into batch: inout IngestBatch) throws(Refusal) -> ElasticBulk? {
        func bad(_ message: String) -> Refusal { Refusal(status: 400, failure: .badRequest, message: message) }
        let limit = limits.body
        switch format {
        case .lines:
            LineBody.decode(body, receivedAt: receivedAt, joinsLines: limits.joinsLines, into: &batch)
        case .otlpProtobuf:
            do { try OTLPProtobuf.decode(body, into: &batch) } catch { throw bad("invalid ExportLogsServiceRequest: \(error)") }
        case .otlpJSON:
            do { try OTLPJSON.decode(body, into: &batch) } catch { throw bad("invalid OTLP JSON: \(error)") }
        case .lokiProtobuf, .lokiJSON:
            do {
                if case .lokiJSON = format { try LokiJSON.decode(body, into: &batch) } else { try LokiProtobuf.decode(body, snappy: true, limit: limit, into: &batch) }
            } catch {
                if case .tooLarge(let message) = error { throw Refusal(status: 413, failure: .tooLarge, message: message) }
                throw bad(error.description)
            }
        case .bulk:
            do { return try ElasticBulk.decode(body, defaultIndex: index, into: &batch) } catch { throw bad(error.description) }
        }
        return nil
    }
}

extension HTTPIngest.Mount {
    func serves(_ endpoint: HTTPIngest.Endpoint) -> Bool {
        switch (self, endpoint) {
        case (.all, _), (.otlp, .otlp), (.loki, .loki), (.elasticsearch, .elasticsearch): true
        default: false
        }
    }
}

/// `/api/ingest`: lines, each parsed exactly as a TCP line is (NDJSON, logfmt, syslog or plain text); with
/// multi-line joining on, a trace's lines join their record within the body.
enum LineBody {
    static func decode(_ body: UnsafeRawBufferPointer, receivedAt: Int64, joinsLines: Bool = false, into batch: inout IngestBatch) {
        var fields = FieldsBuilder()
        var recentMinute = RecentMinute()
        guard joinsLines else {
            LineFramer.forEachLine(in: body, maxLineBytes: batch.maxLineBytes) { line in
                append(line, receivedAt: receivedAt, fields: &fields, recentMinute: &recentMinute, into: &batch)
            }
            return
        }
        var joiner = MultilineJoiner<Void>(maxBytes: batch.maxLineBytes)
        func emit(_ text: UnsafeRawBufferPointer, _ isTruncated: Bool, _: Void) {
            append(FramedLine(bytes: text, isTruncated: isTruncated), receivedAt: receivedAt, fields: &fields, recentMinute: &recentMinute, into: &batch)
        }
        LineFramer.forEachLine(in: body, maxLineBytes: batch.maxLineBytes) { line in
            joiner.feed(line.bytes, isTruncated: line.isTruncated, context: {}, now: 0, emit: emit)
        }
        joiner.flush(emit: emit)
    }

    private static func append(_ line: FramedLine, receivedAt: Int64, fields: inout FieldsBuilder, recentMinute: inout RecentMinute,
                               into batch: inout IngestBatch) {
        fields.removeAll()
        guard let parsed = RecordParser.parse(line.bytes, receivedAt: receivedAt, fields: &fields, recentMinute: &recentMinute) else { return }
        let empty = UnsafeRawBufferPointer(start: nil, count: 0)
        batch.append(text: UnsafeRawBufferPointer(rebasing: line.bytes[parsed.content]),
                     service: parsed.service.map { UnsafeRawBufferPointer(rebasing: line.bytes[$0]) } ?? empty,
                     host: parsed.hostname.map { UnsafeRawBufferPointer(rebasing: line.bytes[$0]) } ?? empty,
                     level: parsed.level, format: parsed.format, sourceTimeMilliseconds: parsed.sourceTimeMilliseconds,
                     fields: fields, isTruncated: line.isTruncated)
    }
}
