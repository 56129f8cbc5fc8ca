import Testing
@testable import LogStream

@Suite("GELF chunks reassembled")
struct GELFChunkAssemblerTests {
    func chunk(id: UInt64, _ sequence: Int, of count: Int, _ payload: String) -> [UInt8] {
        [0x1E, 0x0F] + MP.bigEndian(id, 8) + [UInt8(sequence), UInt8(count)] + Array(payload.utf8)
    }

    func add(_ assembler: inout GELFChunkAssembler, _ datagram: [UInt8], now: Int64 = 0) -> GELFChunkAssembler.Outcome {
        datagram.withUnsafeBytes { assembler.add($0, now: now) }
    }

    @Test func chunksInAnyOrderInterleavedWithOtherMessagesMakeTheirMessages() {
        var assembler = GELFChunkAssembler(maxPendingBytes: 1 << 20)
        #expect(add(&assembler, chunk(id: 1, 2, of: 3, "c")) == .held)
        #expect(add(&assembler, chunk(id: 2, 1, of: 2, "y")) == .held)
        #expect(add(&assembler, chunk(id: 1, 0, of: 3, "a")) == .held)
        #expect(assembler.pendingCount == 2 && assembler.pendingBytes > 0)
        #expect(add(&assembler, chunk(id: 2, 0, of: 2, "x")) == .complete(Array("xy".utf8)))
        #expect(add(&assembler, chunk(id: 1, 1, of: 3, "b")) == .complete(Array("abc".utf8)))
        #expect(assembler.pendingCount == 0 && assembler.pendingBytes == 0)
    }

    @Test func aOneChunkMessageAndAnEmptyLastChunkAreWhole() {
        var assembler = GELFChunkAssembler(maxPendingBytes: 1 << 20)
        #expect(add(&assembler, chunk(id: 9, 0, of: 1, "solo")) == .complete(Array("solo".utf8)))
        #expect(add(&assembler, chunk(id: 8, 0, of: 2, "all")) == .held)
        #expect(add(&assembler, chunk(id: 8, 1, of: 2, "")) == .complete(Array("all".utf8)))
    }

    @Test func duplicatesAndBadHeadersAreCountedAndChangeNothing() {
        var assembler = GELFChunkAssembler(maxPendingBytes: 1 << 20)
        #expect(add(&assembler, chunk(id: 1, 0, of: 2, "a")) == .held)
        #expect(add(&assembler, chunk(id: 1, 0, of: 2, "A")) == .ignored)
        #expect(assembler.duplicateChunkCount == 1)
        #expect(add(&assembler, chunk(id: 1, 1, of: 3, "b")) == .ignored, "a count that changed")
        #expect(add(&assembler, chunk(id: 3, 2, of: 2, "x")) == .ignored, "a sequence number past the count")
        #expect(add(&assembler, chunk(id: 4, 0, of: 129, "x")) == .ignored, "more than 128 chunks")
        #expect(add(&assembler, chunk(id: 4, 0, of: 0, "x")) == .ignored)
        #expect(add(&assembler, [0x1E, 0x0F, 1, 2, 3]) == .ignored, "a header cut short")
        #expect(assembler.invalidChunkCount == 5)
        #expect(add(&assembler, chunk(id: 1, 1, of: 2, "b")) == .complete(Array("ab".utf8)), "the first chunk kept")
    }

    @Test func incompleteMessagesExpireAfterFiveSeconds() {
        var assembler = GELFChunkAssembler(maxPendingBytes: 1 << 20)
        #expect(add(&assembler, chunk(id: 1, 0, of: 2, "a"), now: 1000) == .held)
        #expect(add(&assembler, chunk(id: 2, 0, of: 2, "b"), now: 4000) == .held)
        assembler.expire(now: 5999)
        #expect(assembler.pendingCount == 2)
        assembler.expire(now: 6000)
        #expect(assembler.pendingCount == 1 && assembler.expiredCount == 1)
        #expect(add(&assembler, chunk(id: 1, 1, of: 2, "late"), now: 6000) == .held, "a late chunk starts over")
        #expect(add(&assembler, chunk(id: 2, 1, of: 2, "c"), now: 8999) == .complete(Array("bc".utf8)))
        assembler.expire(now: 20_000)
        #expect(assembler.pendingCount == 0 && assembler.pendingBytes == 0 && assembler.expiredCount == 2)
    }

    @Test func heldBytesStayUnderTheBoundByDroppingTheOldest() {
        let bound = 64 << 10
        var assembler = GELFChunkAssembler(maxPendingBytes: bound)
        let piece = String(repeating: "z", count: 1000)
        for id in 0..<1000 {
            _ = add(&assembler, chunk(id: UInt64(id), 0, of: 128, piece), now: Int64(id))
            #expect(assembler.pendingBytes <= bound)
        }
        #expect(assembler.droppedForMemoryCount > 900)
        #expect(add(&assembler, chunk(id: 999, 1, of: 128, piece), now: 1000) == .held, "the newest survive")
        #expect(add(&assembler, chunk(id: 0, 1, of: 128, piece), now: 1000) == .held, "the oldest was dropped: it starts over")
        // A flood of tiny chunks is bounded too: each costs its bookkeeping, not just its payload.
        for id in 2000..<100_000 { _ = add(&assembler, chunk(id: UInt64(id), 0, of: 2, ""), now: 1000) }
        #expect(assembler.pendingBytes <= bound && assembler.pendingCount < bound / GELFChunkAssembler.messageOverheadBytes)
    }

    @Test func aChunkLargerThanTheBoundIsRefused() {
        var assembler = GELFChunkAssembler(maxPendingBytes: 100)
        #expect(add(&assembler, chunk(id: 1, 0, of: 2, String(repeating: "x", count: 101))) == .ignored)
        #expect(assembler.invalidChunkCount == 1 && assembler.pendingCount == 0)
    }
}
