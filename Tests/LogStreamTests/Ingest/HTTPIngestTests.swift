import Glibc
import Testing
@testable import LogStream

@Suite("The shippers' routes, without sockets")
struct HTTPIngestTests {
    func request(_ method: String, _ path: String, _ headers: [(String, String)], body: [UInt8]) throws -> HTTPRequest {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.count)\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        let bytes = Array((text + "\r\n").utf8)
        return try bytes.withUnsafeBytes { raw in
            guard case .complete(let head) = HTTPRequestParser.parse(raw, maxHeadBytes: 8192) else { throw HTTPParseError.badRequest("test") }
            return try HTTPRequest(head: head, in: raw)
        }
    }

    func setUp(worker: WorkerThread? = nil) throws -> (Router, RecordDestination, RecordingStore, HTTPIngest) {
        let destination = RecordDestination(ring: LogRing(capacity: 1000, arenaBytes: 1 << 20))
        let store = RecordingStore()
        destination.add(store)
        let ingest = HTTPIngest(destination: destination, worker: try worker ?? WorkerThread(name: "test-ingest"), maxBodyBytes: 1 << 20,
                                maxLineBytes: 1024, elasticsearchVersion: "8.1.2", now: { 1_795_946_400_000 }, nextTurn: { $0() })
        let router = Router()
        ingest.register(into: router, .all)
        return (router, destination, store, ingest)
    }

    func answer(_ router: Router, _ request: HTTPRequest, _ body: [UInt8]) -> HTTPResponse? {
        if case .now(let response) = router.answer(request, body: body) { return response }
        return nil
    }

    @Test func whileTheStoresAreFullRequestsAre503WithRetryAfterAndNothingIsKept() throws {
        let (router, destination, store, ingest) = try setUp()
        store.hasRoom = false
        let body = Array("one\ntwo\n".utf8)
        let refused = answer(router, try request("POST", "/api/ingest", [], body: body), body)
        #expect(refused?.status == 503 && refused?.extraHeaders.contains { $0 == ("Retry-After", "1") } == true)
        #expect(destination.ring.storedCount == 0 && ingest.failures[HTTPIngest.Failure.allCases.firstIndex(of: .unavailable)!] == 1)
        store.hasRoom = true
        let accepted = answer(router, try request("POST", "/api/ingest", [], body: body), body)
        #expect(accepted?.status == 200 && String(decoding: accepted!.body, as: UTF8.self) == #"{"accepted":2,"truncated":0}"#)
        #expect(store.stored.map(\.line) == ["one", "two"] && ingest.records[HTTPIngest.Endpoint.lines.rawValue] == 2)
    }

    @Test func contentTypesAndEncodingsAreChecked() throws {
        let (router, _, _, ingest) = try setUp()
        defer { withExtendedLifetime(ingest) {} }  // the routes hold it unowned
        let body = Array("{}".utf8)
        for (path, headers, status) in [("/v1/logs", [("Content-Type", "text/plain")], 415), ("/v1/logs", [], 415),
                                        ("/v1/logs", [("Content-Type", "application/json; charset=utf-8")], 200),
                                        ("/loki/api/v1/push", [("Content-Type", "application/json"), ("Content-Encoding", "zstd")], 415),
                                        ("/api/ingest", [("Content-Type", "image/png")], 415)] as [(String, [(String, String)], Int)] {
            #expect(answer(router, try request("POST", path, headers, body: body), body)?.status == status, "\(path) \(headers)")
        }
    }

    @Test func theElasticsearchAPIAnswersInItsOwnShape() throws {
        let (router, _, _, ingest) = try setUp()
        defer { withExtendedLifetime(ingest) {} }
        let info = answer(router, try request("GET", "/es/", [("Accept", "application/vnd.elasticsearch+json; compatible-with=8")], body: []), [])
        #expect(info?.status == 200 && info?.contentType == "application/vnd.elasticsearch+json;compatible-with=8")
        #expect(info?.extraHeaders.contains { $0 == ("X-Elastic-Product", "Elasticsearch") } == true)
        #expect(String(decoding: info!.body, as: UTF8.self).contains(#""number":"8.1.2""#))
        let body = Array("{\"index\":{\"_index\":\"a\"}}\n{\"message\":\"m\"}\n".utf8)
        let bulk = answer(router, try request("PUT", "/es/_bulk", [("Content-Type", "application/x-ndjson")], body: body), body)
        #expect(bulk?.status == 200 && String(decoding: bulk!.body, as: UTF8.self).contains(#"{"index":{"_index":"a","_id":"1","#))
        #expect(answer(router, try request("GET", "/es/_bulk", [], body: []), [])?.status == 405)
        #expect(answer(router, try request("DELETE", "/es/x/_doc/1", [], body: []), [])?.status == 404)
    }

    @Test func bodiesBeingDecodedAreBoundedTogether() throws {
        let worker = try WorkerThread(name: "test-held")
        let (router, _, _, ingest) = try setUp(worker: worker)
        defer { withExtendedLifetime(ingest) {} }
        nonisolated(unsafe) var release = sem_t()
        sem_init(&release, 0, 0)
        worker.submit({ sem_wait(&release) }, then: { _ in })  // the worker is busy: bodies wait in flight
        let body = [UInt8](repeating: UInt8(ascii: "x"), count: 1 << 20)
        var statuses: [Int?] = []
        for _ in 0..<9 {
            switch router.answer(try request("POST", "/api/ingest", [], body: body), body: body) {
            case .deferred: statuses.append(nil)
            case .now(let response): statuses.append(response.status)
            default: statuses.append(-1)
            }
        }
        sem_post(&release)
        #expect(statuses == Array(repeating: nil, count: 8) + [503])  // 8 MiB in flight is the bound for 1 MiB bodies
    }
}
