import Testing
@testable import LogStream

@Suite("Fluent Forward messages, records and handshake")
struct ForwardMessageTests {
    struct Event: Equatable {
        var time: Int64?
        var record: [UInt8]
    }

    func parse(_ message: MP) throws(ForwardError) -> (ForwardMessage, tag: String, chunk: String?, events: [Event]) {
        let bytes = message.bytes
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(ForwardError) -> (ForwardMessage, String, String?, [Event]) in
                let parsed = try ForwardMessage.parse(raw)
                var cursor = parsed.events()
                var events: [Event] = []
                // Packed entries are read from the entries' own bytes, as the connection does after inflating.
                while let event = try cursor.next(in: raw) {
                    events.append(Event(time: event.timeMilliseconds, record: Array(raw[event.record])))
                }
                #expect(cursor.isFinished)
                return (parsed, String(decoding: raw[parsed.tag], as: UTF8.self), parsed.chunk.map { String(decoding: raw[$0], as: UTF8.self) }, events)
            }
        }
        return try result.get()
    }

    let record = MP.map([("log", "hello")])
    let time = MP.eventTime(seconds: 1_764_352_805, nanoseconds: 500_000_000)

    @Test func messageModeIsOneEvent() throws {
        let (message, tag, chunk, events) = try parse(.array(["docker.api", time, record, .map([("chunk", "c1")])]))
        #expect(message.mode == .message && tag == "docker.api" && chunk == "c1")
        #expect(events == [Event(time: 1_764_352_805_500, record: record.bytes)])
        let bare = try parse(.array(["t", 1_764_352_805, "a bare string record"]))
        #expect(bare.events == [Event(time: 1_764_352_805_000, record: MP.str("a bare string record").bytes)] && bare.chunk == nil)
    }

    @Test func forwardModeHoldsItsEntries() throws {
        let entries: [MP] = (0..<20).map { .array([.int(Int64($0)), .map([("n", .int(Int64($0)))])]) }
        let (message, _, _, events) = try parse(.array(["fb", .array(entries), .map([("size", 20), ("chunk", "x")])]))
        #expect(message.mode == .forward && message.entryCount == 20 && events.count == 20)
        #expect(events.map(\.time) == (0..<20).map { Int64($0) * 1000 } && events[3].record == MP.map([("n", 3)]).bytes)
    }

    @Test func packedForwardHoldsEntriesInAStringOrBinary() throws {
        let packed = (0..<3).flatMap { MP.array([time, .map([("log", .str("line \($0)"))])]).bytes }
        for container in [MP.binary(packed), .string(packed)] {
            let (message, _, _, events) = try parse(.array(["p", container]))
            #expect(message.mode == .packedForward && message.entries.count == packed.count)
            #expect(events.map(\.record) == (0..<3).map { MP.map([("log", .str("line \($0)"))]).bytes })
        }
        let compressed = try MP.array(["p", .binary([0x1F, 0x8B]), .map([("compressed", "gzip")])]).bytes.withUnsafeBytes {
            try ForwardMessage.parse($0)
        }
        #expect(compressed.mode == .compressedPackedForward && compressed.entries.count == 2, "its entries are inflated before reading")
    }

    @Test func fluentBit2sTimeWithMetadataIsRead() throws {
        let entry = MP.array([.array([time, .map([("otlp", .map([]))])]), record])
        let (_, _, _, events) = try parse(.array(["fb2", .array([entry])]))
        #expect(events == [Event(time: 1_764_352_805_500, record: record.bytes)])
    }

    @Test(arguments: [
        MP.array(["only a tag"]),
        .array([1, 2, 3]),
        .array(["t", .boolean(true), .map([])]),
        .array(["t", 1]),
        .array(["t", 1, 2]),
        .array(["t", .array([]), "option not a map"]),
        .raw(MP.array(["t", .array([])]).bytes + [0x01]),
        .raw([0x93, 0xA1, 0x74, 0x91]),
        .map([("not", "an array")]),
    ])
    func malformedShapesAreRefused(message: MP) {
        #expect(throws: ForwardError.self) { try parse(message) }
    }

    @Test func aBadEntryIsAnErrorWhenItIsReached() throws {
        #expect(throws: ForwardError.self) { try parse(.array(["t", .array([.array([1, record]), "not an entry"])])) }
        #expect(throws: ForwardError.self) { try parse(.array(["t", .binary([0x92, 0x01])])) }
    }

    // MARK: - Records

    /// Reads `record` and hands the result to `check` while the bytes its views point into are alive.
    func read(_ record: MP, _ check: (ForwardRecord) -> Void) throws {
        var reader = ForwardRecord()
        try record.bytes.withUnsafeBytes { raw in
            try reader.read(raw)
            check(reader)
        }
    }

    func fields(_ record: ForwardRecord) -> [String: String] {
        record.fields.bytes.withUnsafeBytes { blob in
            Dictionary(RecordFields(blob: blob).map { ($0.name.text, $0.value.text) }, uniquingKeysWith: { first, _ in first })
        }
    }

    @Test func dockersRecordGivesTextContainerStreamAndFields() throws {
        try read(.map([("container_id", "abc"), ("container_name", "/api"), ("source", "stderr"),
                       ("log", "boom"), ("attempt", 3), ("labels", .map([("team", "core")]))])) { docker in
            #expect(docker.text?.text == "boom" && docker.containerService?.text == "api" && docker.service == nil)
            #expect(docker.isStandardError && docker.level == nil && docker.partial == nil)
            #expect(fields(docker) == ["container_id": "abc", "container_name": "/api", "source": "stderr", "attempt": "3",
                                       "labels": #"{"team":"core"}"#])
        }
    }

    @Test func textLevelServiceAndHostMembersWinByTheirOrder() throws {
        try read(.map([("msg", "third"), ("message", "second"), ("level", "warning"), ("service", "billing"),
                       ("app", "weaker"), ("hostname", "node-1"), ("host", "node-2")])) { record in
            #expect(record.text?.text == "second" && record.level == .warn && record.service?.text == "billing")
            #expect(record.containerService?.text == "weaker" && record.host?.text == "node-1")
            #expect(fields(record) == ["msg": "third", "app": "weaker", "host": "node-2"])
        }
        try read("a bare string") { #expect($0.text?.text == "a bare string") }
        try read(.map([("n", 1)])) { #expect($0.text == nil && fields($0) == ["n": "1"]) }
    }

    @Test func dockersPartialLinesAreMarked() throws {
        try read(.map([("log", "first half"), ("partial_message", "true"), ("partial_id", "p1"),
                       ("partial_ordinal", "1"), ("partial_last", "false")])) { piece in
            #expect(piece.partial?.id.text == "p1" && piece.partial?.isLast == false && fields(piece).isEmpty)
        }
        try read(.map([("log", "second"), ("partial_message", .boolean(true)), ("partial_id", "p1"), ("partial_last", .boolean(true))])) {
            #expect($0.partial?.isLast == true)
        }
    }

    @Test func aBrokenRecordIsAnError() {
        #expect(throws: MessagePackError.self) { try read(.raw([0x82, 0xA1, 0x61])) { _ in } }
    }

    // MARK: - Handshake

    func ping(hostname: String, salt: String, key: String, nonce: [UInt8]) -> [UInt8] {
        let digest = ForwardHandshake.hexDigest([Array(salt.utf8), Array(hostname.utf8), nonce, Array(key.utf8)])
        return MP.array(["PING", .str(hostname), .str(salt), .string(digest), "", ""]).bytes
    }

    @Test func theSharedKeyHandshakeProvesBothSides() throws {
        let nonce: [UInt8] = Array(0..<16)
        let handshake = ForwardHandshake(sharedKey: "s3cret", serverHostname: "logstream", nonce: nonce)
        #expect(handshake.helo == MP.array(["HELO", .map([("nonce", .binary(nonce)), ("auth", ""), ("keepalive", .boolean(true))])]).bytes)
        let answer = ping(hostname: "client", salt: "salty", key: "s3cret", nonce: nonce).withUnsafeBytes { handshake.answer(ping: $0) }
        let serverDigest = ForwardHandshake.hexDigest([Array("salty".utf8), Array("logstream".utf8), nonce, Array("s3cret".utf8)])
        #expect(answer == .accepted(pong: MP.array(["PONG", .boolean(true), "", "logstream", .string(serverDigest)]).bytes))
        #expect(serverDigest.count == 128)
    }

    @Test func aWrongKeyOrAnotherMessageIsRefused() {
        let nonce: [UInt8] = [7, 7, 7]
        let handshake = ForwardHandshake(sharedKey: "right", serverHostname: "logstream", nonce: nonce)
        let wrong = ping(hostname: "c", salt: "s", key: "wrong", nonce: nonce).withUnsafeBytes { handshake.answer(ping: $0) }
        #expect(wrong == .refused(pong: MP.array(["PONG", .boolean(false), "shared key mismatch", "", ""]).bytes, reason: "shared key mismatch"))
        let events = MP.array(["tag", 1, .map([])]).bytes.withUnsafeBytes { handshake.answer(ping: $0) }
        guard case .refused(_, let reason) = events else { Issue.record("accepted events as a PING"); return }
        #expect(reason == "the first message is not a PING")
    }

    @Test func theDigestIsSHA512InLowerCaseHex() {
        // SHA-512("abc"), FIPS 180-2's example.
        let digest = String(decoding: ForwardHandshake.hexDigest([Array("a".utf8), Array("bc".utf8)]), as: UTF8.self)
        #expect(digest == "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f")
    }
}
