import Testing
@testable import LogStream

@Suite("JSON documents")
struct JSONDocumentTests {
    func withDocument<T>(_ text: String, _ body: (JSONValue) -> T) throws(JSONError) -> T {
        let bytes = Array(text.utf8)
        let outcome = bytes.withUnsafeBytes { raw in Result { () throws(JSONError) in body(try JSONDocument(parsing: raw).root) } }
        return try outcome.get()
    }

    @Test func membersAndElementsAreWalkedInOrder() throws {
        let text = #"{"a": 1, "b": {"c": [true, null, "x\"y", -2.5e3]}, "d": "\u00e9", "a": 2}"#
        let summary = try withDocument(text) { root -> [String] in
            var seen: [String] = []
            root.forEachMember { name, value in seen.append(String(decoding: name.raw, as: UTF8.self) + "=\(value.kind)") }
            root["b"]?["c"]?.forEachElement { seen.append("\($0.kind):" + String(decoding: $0.text, as: UTF8.self)) }
            seen.append(String(decoding: root["d"]!.stringBytes!, as: UTF8.self))
            seen.append("\(root["a"]!.int64!)")  // the first of repeated names
            return seen
        }
        #expect(summary == ["a=number", "b=object", "d=string", "a=number", "boolean:true", "null:null", #"string:"x\"y""#,
                            "number:-2.5e3", "é", "1"])
    }

    @Test func numbersInStringsAreIntegers() throws {
        #expect(try withDocument(#"{"n":"1764352805123000000"}"#) { $0["n"]!.int64 } == 1_764_352_805_123_000_000)
        #expect(try withDocument(#"[12.0]"#) { root -> Int64? in
            var value: Int64?
            root.forEachElement { value = $0.int64 }
            return value
        } == 12)
    }

    @Test func malformedDocumentsSayWhere() {
        #expect(throws: JSONError(reason: "expected ':'", offset: 5)) { try withDocument(#"{"a" 1}"#) { _ in 0 } }
        #expect(throws: JSONError(reason: "expected ',' or ']'", offset: 3)) { try withDocument("[1 2]") { _ in 0 } }
        #expect(throws: JSONError(reason: "unexpected bytes after the document", offset: 3)) { try withDocument("{} x") { _ in 0 } }
        #expect(throws: JSONError.self) { try withDocument("") { _ in 0 } }
        #expect(throws: JSONError.self) { try withDocument(#"{"a":tru}"#) { _ in 0 } }
        #expect(throws: JSONError.self) { try withDocument(String(repeating: "[", count: 100) + String(repeating: "]", count: 100)) { _ in 0 } }
    }
}
