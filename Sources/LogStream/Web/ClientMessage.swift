// Messages a dashboard sends over the WebSocket. The original protocol has one: update_filters.
import FoundationEssentials

struct ClientMessage: Decodable {
    var type: String
    var filters: Filters?

    struct Filters: Decodable {
        var query: String?
        var level: String?
        var service: String?
        /// The query language (`level:>=warn service:pay* "timed out"`).
        var q: String?
        /// From `"field.<name>": "value"` members, or a `"fields": {"name": "value"}` object.
        var fields: [String: String] = [:]

        init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            // Clients send null or "" for "no filter"; anything that is not a string is treated the same way.
            func text(_ name: String) -> String? { try? container.decodeIfPresent(String.self, forKey: Key(name)) }
            query = text("query")
            level = text("level")
            service = text("service")
            q = text("q")
            if let object = try? container.decodeIfPresent([String: String].self, forKey: Key("fields")) {
                fields = object.filter { !$0.value.isEmpty }
            }
            for key in container.allKeys where key.stringValue.hasPrefix("field.") {
                if let value = text(key.stringValue), !value.isEmpty { fields[String(key.stringValue.dropFirst(6))] = value }
            }
        }

        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(_ name: String) { stringValue = name }
            init?(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
    }

    static func decode(_ bytes: [UInt8]) -> ClientMessage? {
        try? JSONDecoder().decode(ClientMessage.self, from: Data(bytes))
    }
}
