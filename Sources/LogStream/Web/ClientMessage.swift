// Messages a dashboard sends over the WebSocket. The original protocol has one: update_filters. Our own
// dashboard adds three optional members to it, which old clients never send:
//   "batch": true    live records come as {"type":"batch","data":[...]} a few times a second, oldest first,
//                    instead of one new_log message each; the history says "complete" and "next_id";
//   "after": <id>    the history holds only records newer than this id (a resumed or reconnected tail);
//   "limit": <n>     how many records the history holds (default 50, at most 10,000).
import FoundationEssentials

struct ClientMessage: Decodable {
    var type: String
    var filters: Filters?
    var batch = false
    var after: UInt64?
    var limit: Int?

    init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: Filters.Key.self)
        type = try container.decode(String.self, forKey: Filters.Key("type"))
        filters = try container.decodeIfPresent(Filters.self, forKey: Filters.Key("filters"))
        // The additions are read leniently, like the filters: a value of the wrong type counts as absent.
        batch = (try? container.decodeIfPresent(Bool.self, forKey: Filters.Key("batch"))) == true
        after = try? container.decodeIfPresent(UInt64.self, forKey: Filters.Key("after"))
        limit = try? container.decodeIfPresent(Int.self, forKey: Filters.Key("limit"))
    }

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
