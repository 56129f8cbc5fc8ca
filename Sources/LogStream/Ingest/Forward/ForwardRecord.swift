// What a Forward event's record says, read in one pass over its map: the text (`log`, else `message`, else
// `msg`), level, service, host, Docker's stream (`source`) and its partial-line members; everything else
// becomes fields (scalars as they are, maps and arrays as JSON). A bare string record is its text.

struct ForwardRecord {
    var text: UnsafeRawBufferPointer?
    var level: LogLevel?
    /// The `service` member.
    var service: UnsafeRawBufferPointer?
    /// `container_name` (its leading `/` dropped), else `app`: weaker than a service the text names.
    var containerService: UnsafeRawBufferPointer?
    var host: UnsafeRawBufferPointer?
    /// Docker's `source: "stderr"`: ERROR when nothing else names a level.
    var isStandardError = false
    var partial: Partial?
    /// The other members, as fields.
    var fields = FieldsBuilder()

    /// Docker's pieces of one long line (`partial_message: "true"`, an id, an ordinal, whether it is the last).
    struct Partial {
        var id: UnsafeRawBufferPointer
        var isLast: Bool
    }

    /// The text members by priority, the first present wins; the others stay fields.
    private static let textNames: [StaticString] = ["log", "message", "msg"]

    /// Reads `record` (a map or a string); the views point into it.
    mutating func read(_ record: UnsafeRawBufferPointer) throws(MessagePackError) {
        self = ForwardRecord(fields: fields)
        fields.removeAll()
        var reader = MessagePackReader(record)
        let head = try reader.next()
        if let bytes = head.bytes {
            text = bytes
            return
        }
        guard case .map(let count) = head else { return }
        var texts: [UnsafeRawBufferPointer?] = [nil, nil, nil]
        var serviceByPriority: [UnsafeRawBufferPointer?] = [nil, nil, nil]
        var partialID: UnsafeRawBufferPointer?
        var (isPartial, isLast) = (false, false)
        var scratch: [UInt8] = []
        for _ in 0..<count {
            let key = try reader.next()
            let valueStart = reader.offset
            let value = try reader.next()
            guard let name = key.bytes else {
                reader = MessagePackReader(record, offset: valueStart)
                try reader.skip()
                continue
            }
            let text = value.bytes
            if let text, let index = Self.textNames.firstIndex(where: { ASCII.equals(name, $0) }) {
                texts[index] = text
                continue
            }
            switch name.count {
            case 3 where ASCII.equals(name, "app"), 7 where ASCII.equals(name, "service"), 14 where ASCII.equals(name, "container_name"):
                if let text, !text.isEmpty {
                    let priority = name.count == 7 ? 0 : name.count == 14 ? 1 : 2
                    serviceByPriority[priority] = priority == 1 && text[0] == UInt8(ascii: "/") ? UnsafeRawBufferPointer(rebasing: text.dropFirst()) : text
                    if priority != 0 { break }  // container_name and app stay fields too
                    continue
                }
            case 5 where ASCII.equals(name, "level"), 8 where ASCII.equals(name, "severity"):
                if let text, let named = LogLevel(word: text) {
                    level = named
                    continue
                }
            case 4 where ASCII.equals(name, "host"), 8 where ASCII.equals(name, "hostname"):
                if let text, !text.isEmpty, host == nil {
                    host = text
                    continue
                }
            case 6 where ASCII.equals(name, "source"):
                isStandardError = text.map { ASCII.equals($0, "stderr") } ?? false
            case 15 where ASCII.equals(name, "partial_message"):
                isPartial = text.map { ASCII.equals($0, "true") } ?? (value == .boolean(true))
                continue
            case 10 where ASCII.equals(name, "partial_id"):
                partialID = text
                continue
            case 12 where ASCII.equals(name, "partial_last"):
                isLast = text.map { ASCII.equals($0, "true") } ?? (value == .boolean(true))
                continue
            case 15 where ASCII.equals(name, "partial_ordinal"):
                continue
            default:
                break
            }
            try appendField(name: name, value: value, valueStart: valueStart, reader: &reader, record: record, scratch: &scratch)
        }
        let chosen = texts.firstIndex { $0 != nil }
        text = chosen.flatMap { texts[$0] }
        for (index, other) in texts.enumerated() where index != chosen {
            if let other { fields.append(name: Self.textNames[index], value: other) }
        }
        service = serviceByPriority[0]
        containerService = serviceByPriority[1] ?? serviceByPriority[2]
        if isPartial, let partialID { partial = Partial(id: partialID, isLast: isLast) }
    }

    /// A member that is none of the above, as a field; a container's value is passed over as JSON.
    private mutating func appendField(name: UnsafeRawBufferPointer, value: MessagePackValue, valueStart: Int,
                                      reader: inout MessagePackReader, record: UnsafeRawBufferPointer,
                                      scratch: inout [UInt8]) throws(MessagePackError) {
        scratch.removeAll(keepingCapacity: true)
        if let kind = MessagePackJSON.scalarText(value, into: &scratch) {
            scratch.withUnsafeBytes { fields.append(name: name, value: $0, kind: kind) }
            return
        }
        reader = MessagePackReader(record, offset: valueStart)
        var writer = JSONWriter()
        try MessagePackJSON.write(&reader, into: &writer)
        writer.bytes.withUnsafeBytes { fields.append(name: name, value: $0) }
    }
}
