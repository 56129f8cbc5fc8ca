import Testing
@testable import LogStream

@Suite("Intern table")
struct InternTableTests {
    @Test("a name keeps its number; new names get the next; the bytes read back")
    func numbering() {
        let table = InternTable(capacity: 8, maxNameBytes: 16)
        let names = ["auth", "pay", "auth", "", "a-name-of-16-by", "pay"]
        let numbers = names.map { name in withBytes(name) { table.index(of: $0) } }
        #expect(numbers == [0, 1, 0, 2, 3, 1])
        #expect(table.count == 4)
        #expect((0..<table.count).map { table.name(at: $0).text } == ["auth", "pay", "", "a-name-of-16-by"])
    }

    @Test("names that differ in any one byte are different names, at every length up to 20")
    func everyByteCounts() {
        let table = InternTable(capacity: 1000, maxNameBytes: 32)
        for length in 1...20 {
            let base = Array(repeating: UInt8(ascii: "a"), count: length)
            let first = withBytes(base) { table.index(of: $0) }
            for position in 0..<length {
                var other = base
                other[position] = UInt8(ascii: "b")
                #expect(withBytes(other) { table.index(of: $0) } != first, "length \(length), byte \(position)")
            }
            #expect(withBytes(base) { table.index(of: $0) } == first)
            // The comparison itself, apart from the hash that usually settles it first.
            for position in 0..<length {
                var other = base
                other[position] = UInt8(ascii: "b")
                let equal = base.withUnsafeBytes { stored in withBytes(other) { InternTable.equal(stored.baseAddress!, $0) } }
                #expect(!equal, "length \(length), byte \(position)")
            }
            #expect(base.withUnsafeBytes { stored in withBytes(base) { InternTable.equal(stored.baseAddress!, $0) } })
        }
    }

    @Test("names that are too long, or past the capacity, get no number")
    func limits() {
        let table = InternTable(capacity: 3, maxNameBytes: 4)
        #expect(withBytes("12345") { table.index(of: $0) } == nil)
        for name in ["a", "b", "c"] { #expect(withBytes(name) { table.index(of: $0) } != nil) }
        #expect(withBytes("d") { table.index(of: $0) } == nil)
        #expect(withBytes("b") { table.index(of: $0) } == 1)
    }

    @Test("many similar names stay distinct (hash mixing of eight-byte words and tails)")
    func manyNames() {
        let table = InternTable(capacity: 5000, maxNameBytes: 64)
        let names = (0..<5000).map { "service-\($0 % 10)-\($0)" }
        let numbers = names.map { name in withBytes(name) { table.index(of: $0)! } }
        #expect(numbers == Array(0..<5000))
        #expect(names.map { name in withBytes(name) { table.index(of: $0)! } } == numbers)
    }
}
