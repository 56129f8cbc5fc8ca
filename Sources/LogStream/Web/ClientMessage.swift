// Messages a dashboard sends over the WebSocket. The original protocol has one: update_filters.
import FoundationEssentials

struct ClientMessage: Decodable {
    var type: String
    var filters: Filters?

    struct Filters: Decodable {
        var query: String?
        var level: String?
        var service: String?

        init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            // Clients send null or "" for "no filter"; anything that is not a string is treated the same way.
            query = try? container.decodeIfPresent(String.self, forKey: .query)
            level = try? container.decodeIfPresent(String.self, forKey: .level)
            service = try? container.decodeIfPresent(String.self, forKey: .service)
        }

        enum CodingKeys: String, CodingKey { case query, level, service }
    }

    static func decode(_ bytes: [UInt8]) -> ClientMessage? {
        try? JSONDecoder().decode(ClientMessage.self, from: Data(bytes))
    }
}
