import CSearch
import Testing
@testable import LogStream

@Suite("Text scans: the SIMD search and finding records by their bytes")
struct TextScanTests {
    /// Every offset where `needle` occurs in `haystack`, ASCII case ignored, one byte at a time.
    static func naiveOffsets(_ haystack: [UInt8], _ needle: [UInt8]) -> [Int] {
        guard needle.count <= haystack.count else { return [] }
        return (0...(haystack.count - needle.count)).filter { start in
            needle.indices.allSatisfy { ASCII.lowercased(haystack[start + $0]) == needle[$0] }
        }
    }

    static func simdOffsets(_ haystack: [UInt8], _ needle: [UInt8], capacity: Int = 100_000) -> [Int] {
        var offsets = [Int](repeating: 0, count: capacity)
        let count = haystack.withUnsafeBufferPointer { text in
            needle.withUnsafeBufferPointer { needle in
                offsets.withUnsafeMutableBufferPointer { out in
                    csearch_find_all_folded(text.baseAddress, text.count, needle.baseAddress, needle.count, out.baseAddress, out.count)
                }
            }
        }
        return Array(offsets[..<count])
    }

    @Test("the SIMD search finds exactly what a byte-by-byte search finds, in any case, at any length")
    func simdAgreesWithNaive() {
        var generator = SystemRandomNumberGenerator()
        // A small alphabet makes partial matches and overlaps common; '@' and '`' differ from 'A'/'a' by the case bit.
        let alphabet = Array("aAbB@`[{ 1".utf8)
        for round in 0..<400 {
            let length = Int.random(in: 0...300, using: &generator)
            let haystack = (0..<length).map { _ in alphabet.randomElement(using: &generator)! }
            let needleLength = 1 + round % 40
            var needle = (0..<needleLength).map { _ in alphabet.randomElement(using: &generator)! }.map(ASCII.lowercased)
            if round % 3 == 0, length >= needleLength {  // plant one, in mixed case
                let at = Int.random(in: 0...(length - needleLength), using: &generator)
                needle = haystack[at..<(at + needleLength)].map(ASCII.lowercased)
            }
            #expect(Self.simdOffsets(haystack, needle) == Self.naiveOffsets(haystack, needle), "round \(round)")
        }
    }

    @Test("the search stops at its capacity and finds a needle in the last bytes")
    func capacityAndTail() {
        let haystack = Array(String(repeating: "ab", count: 100).utf8) + Array("XYZ".utf8)
        #expect(Self.simdOffsets(haystack, Array("ab".utf8), capacity: 5) == [0, 2, 4, 6, 8])
        #expect(Self.simdOffsets(haystack, Array("xyz".utf8)) == [200])
        #expect(Self.simdOffsets(Array("short".utf8), Array("longer needle".utf8)).isEmpty)
    }

    /// A ring of `count` lines, every seventh holding "NeEdLe" somewhere, some with the needle split across two
    /// records, in an arena small enough to wrap many times.
    static func ring(count: Int, arenaBytes: Int = 4096) -> LogRing {
        let ring = LogRing(capacity: 64, arenaBytes: arenaBytes)
        for index in 0..<count {
            var line = "line \(index) " + String(repeating: "x", count: index % 23)
            if index % 7 == 0 { line += " a NeEdLe here" }
            if index % 11 == 0 { line += " ends with nee" }  // the next line starts with "dle"
            if index % 11 == 1 { line = "dle " + line }
            withBytes(line) { line in
                withBytes("host-\(index % 3)") { host in
                    _ = ring.append(NewRecord(line: line, host: host, level: .info, ingestProtocol: .tcp,
                                              isTruncated: false, receivedAtMilliseconds: Int64(index)))
                }
            }
        }
        return ring
    }

    @Test("the ring's text scan names every record holding the needle, newest first, across wraps")
    func ringScanFindsEveryHolder() {
        for count in [1, 7, 50, 64, 500, 3000] {
            let ring = Self.ring(count: count)
            let ids = ring.storedIDs
            var found: [UInt64] = []
            ring.forEachRecord(containing: Array("needle".utf8), in: ids) { found.append($0); return true }
            let holders = ids.reversed().filter { id in
                ring.read(id) { ASCII.contains($0.line, lowercasedNeedle: Array("needle".utf8)) } == true
            }
            #expect(found == found.sorted(by: >), "newest first")
            #expect(Set(holders).isSubset(of: Set(found)), "\(count) records")
            #expect(Set(found).count == found.count, "each record once")
        }
    }

    @Test("a search through the text scan lists exactly what a record-by-record walk lists")
    func scanAndWalkAgree() throws {
        let ring = Self.ring(count: 2000, arenaBytes: 8192)
        for q in ["needle", "needle line", "NEEDLE -here", "/ne+dle/", "/n[e]edle h/i", "line 19", "xxxxxxxxxxxxxxxxxxxx"] {
            let filter = RecordFilter(expression: try QueryParser.parse(q))
            #expect(filter.requiredText != nil, "\(q) should use the scan")
            var scanned: [UInt64] = []
            RecordWindow().walkNewestFirst(in: ring, matching: filter) { scanned.append($0.id); return true }
            let walked = ring.storedIDs.reversed().filter { id in ring.read(id) { filter.matches($0) } == true }
            #expect(scanned == walked, "\(q)")
        }
    }

    @Test("a scan honours limits, windows and since, and says whether it was complete")
    func scanWindows() throws {
        let ring = Self.ring(count: 300, arenaBytes: 1 << 16)
        let filter = RecordFilter(query: "needle")
        let all = ring.storedIDs.reversed().filter { id in ring.read(id) { filter.matches($0) } == true }
        var firstThree: [UInt64] = []
        let complete = RecordWindow().walkNewestFirst(in: ring, matching: filter) { firstThree.append($0.id); return firstThree.count < 3 }
        #expect(firstThree == Array(all.prefix(3)) && !complete)
        let newest = ring.storedIDs.upperBound - 1
        var windowed: [UInt64] = []
        let window = RecordWindow(beforeID: newest - 10, since: ring.read(newest - 40) { $0.receivedAtMilliseconds })
        #expect(window.walkNewestFirst(in: ring, matching: filter) { windowed.append($0.id); return true })
        #expect(windowed == all.filter { $0 < newest - 10 && $0 >= newest - 40 })
    }
}
