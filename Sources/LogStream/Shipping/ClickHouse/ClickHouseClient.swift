// ClickHouse's HTTP interface as the shipper and the cluster search use it: a statement in, its answer or a
// classified error out. The SQL goes in the URL for inserts (the rows are the body) and in the body
// otherwise; settings go in the URL, where 18.16 honours them. Errors are told apart by what the caller does
// next: wait and retry (unreachable, overloaded), tell the operator (credentials, schema), or look for the
// rows ClickHouse cannot take (a rejected batch).

final class ClickHouseClient {
    let configuration: ClickHouseConfiguration
    private let http: HTTPClient

    init(_ configuration: ClickHouseConfiguration, maxResponseBytes: Int = 16 << 20) {
        self.configuration = configuration
        // An https server with no trust set (only tests build configurations so) is checked against the system's CAs.
        let trust = configuration.usesTLS ? configuration.trust ?? (try? TLSClientContext(trusting: nil)) : nil
        http = HTTPClient(host: configuration.host, port: configuration.port, timeoutMilliseconds: configuration.timeoutMilliseconds,
                          maxResponseBytes: maxResponseBytes, tls: trust)
    }

    struct Failure: Error, CustomStringConvertible {
        enum Kind: String, CaseIterable, Sendable {
            /// Refused, reset, timed out: the server is down, frozen or unreachable.
            case unreachable
            /// https: ClickHouse's certificate is not trusted (--clickhouse-ca) or names another host.
            case tls
            /// Wrong user or password.
            case authentication
            /// The table or database is missing, or its columns are not ours.
            case schema
            /// The server is overloaded or shutting down (too many parts, memory, a shard down): retry later.
            case unavailable
            /// The statement or the rows were refused.
            case rejected
        }

        var kind: Kind
        /// ClickHouse's error code (`Code: N`), when it sent one.
        var code: Int?
        var message: String

        var description: String { message }
    }

    /// Runs `sql` and returns its output.
    func execute(_ sql: String, settings: [(String, String)] = []) throws(Failure) -> [UInt8] {
        try send(Self.target(settings: settings), body: ArraySlice(sql.utf8))
    }

    /// Inserts `rows` (the body) with `statement` (an INSERT … FORMAT …).
    func insert(_ statement: String, rows: ArraySlice<UInt8>) throws(Failure) {
        _ = try send(Self.target(settings: [("query", statement)]), body: rows)
    }

    /// Closes the kept-alive connection: after a timeout, what comes on it next belongs to the request given up.
    func disconnect() { http.disconnect() }

    private func send(_ target: String, body: ArraySlice<UInt8>) throws(Failure) -> [UInt8] {
        var headers: [(String, String)] = []
        if let user = configuration.user { headers.append(("X-ClickHouse-User", user)) }
        if let password = configuration.password { headers.append(("X-ClickHouse-Key", password)) }
        let response: HTTPClient.Response
        do { response = try http.send("POST", target, headers: headers, body: body) } catch {
            http.disconnect()
            let kind: Failure.Kind = if case .tls = error { .tls } else { .unreachable }
            throw Failure(kind: kind, code: nil, message: "ClickHouse at \(configuration.host):\(configuration.port): \(error)")
        }
        guard response.status == 200 else { throw Self.failure(status: response.status, body: response.bodyText) }
        return response.body
    }

    /// Settings every request carries: the status must tell the outcome (without `wait_end_of_query`, an
    /// error in the middle of a result comes after a 200), and 64-bit numbers come unquoted in JSON.
    static func target(settings: [(String, String)]) -> String {
        let all = [("wait_end_of_query", "1"), ("output_format_json_quote_64bit_integers", "0")] + settings
        return "/?" + all.map { "\($0)=\(percentEncoded($1))" }.joined(separator: "&")
    }

    /// The error an answer other than 200 means.
    static func failure(status: Int, body: String) -> Failure {
        let code = errorCode(body)
        let message = body.split(separator: "\n").first.map(String.init) ?? "HTTP \(status)"
        let kind: Failure.Kind
        switch (status, code) {
        case (401, _), (_, 192), (_, 193), (_, 194), (_, 516): kind = .authentication
        case (_, 60), (_, 81), (_, 16), (_, 10), (_, 47): kind = .schema  // unknown table, database, column, identifier
        case (503, _), (_, 159), (_, 164), (_, 202), (_, 209), (_, 210), (_, 241), (_, 242), (_, 243), (_, 252), (_, 279):
            kind = .unavailable  // timeouts, read-only, too many queries or parts, memory, disk, shards unreachable
        default: kind = .rejected
        }
        return Failure(kind: kind, code: code, message: "HTTP \(status): \(message.prefix(2000))")
    }

    /// `Code: N` at the start of the body (18.16 writes `Code: N,`, current releases `Code: N.`).
    static func errorCode(_ body: String) -> Int? {
        guard body.hasPrefix("Code: ") else { return nil }
        return Int(body.dropFirst(6).prefix { $0.isNumber })
    }

    private static func percentEncoded(_ text: String) -> String {
        var encoded = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                encoded += "%" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 15, radix: 16, uppercase: true)
            }
        }
        return encoded
    }
}
