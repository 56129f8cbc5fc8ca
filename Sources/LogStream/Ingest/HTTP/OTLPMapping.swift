// Where OpenTelemetry's log data model (opentelemetry.io/docs/specs/otel/logs/data-model) goes in a record,
// for the protobuf and the JSON encoding alike: the resource's `service.name` and `host.name` name the
// record's service and host, severity numbers map in bands of four, trace context and other attributes become
// fields, the event time (else the observed time) is the source time.

struct OTLPRecordState {
    var service: [UInt8] = []
    var host: [UInt8] = []
    var text: [UInt8] = []
    var level: LogLevel?
    var severityText: [UInt8] = []
    var timeNanoseconds: UInt64 = 0
    var observedNanoseconds: UInt64 = 0
    var fields = FieldsBuilder()

    mutating func reset(resourceService: [UInt8], resourceHost: [UInt8], resourceFields: FieldsBuilder) {
        service = resourceService
        host = resourceHost
        text.removeAll(keepingCapacity: true)
        level = nil
        severityText.removeAll(keepingCapacity: true)
        timeNanoseconds = 0
        observedNanoseconds = 0
        fields.replaceAll(with: resourceFields)  // reusing the storage: no allocation per record
    }

    func append(to batch: inout IngestBatch) {
        let level = level ?? severityText.withUnsafeBytes { LogLevel(word: $0) } ?? .info
        let nanoseconds = timeNanoseconds != 0 ? timeNanoseconds : observedNanoseconds
        let time = nanoseconds == 0 ? nil : Int64(clamping: nanoseconds / 1_000_000)
        batch.append(text: text, service: service, host: host, level: level, format: .otlp, sourceTimeMilliseconds: time, fields: fields)
    }
}

enum OTLPMapping {
    /// SeverityNumber 1-4 TRACE, 5-8 DEBUG, 9-12 INFO, 13-16 WARN, 17-20 ERROR, 21-24 FATAL; 0 (unspecified)
    /// and values out of range say nothing.
    static func level(severityNumber: Int64) -> LogLevel? {
        guard (1...24).contains(severityNumber) else { return nil }
        return LogLevel(rawValue: UInt8((severityNumber - 1) / 4))
    }

    /// `SEVERITY_NUMBER_WARN2` and friends, as the JSON mapping may write the enum.
    static func level(severityName: UnsafeRawBufferPointer) -> LogLevel? {
        let prefix = "SEVERITY_NUMBER_".utf8
        guard severityName.starts(with: prefix) else { return nil }
        var word = Array(severityName.dropFirst(prefix.count))
        while let last = word.last, last &- 0x30 < 10 { word.removeLast() }
        return word.withUnsafeBytes { LogLevel(word: $0) }
    }

    static func isServiceName(_ key: UnsafeRawBufferPointer) -> Bool { key.elementsEqual("service.name".utf8) }
    static func isHostName(_ key: UnsafeRawBufferPointer) -> Bool { key.elementsEqual("host.name".utf8) }

    static let hexDigits = Array("0123456789abcdef".utf8)

    /// A trace or span id as the lower-case hex W3C trace context uses.
    static func appendHexField(_ name: StaticString, _ id: UnsafeRawBufferPointer, to fields: inout FieldsBuilder) {
        guard !id.isEmpty, id.contains(where: { $0 != 0 }) else { return }
        fields.beginField(name: name)
        for byte in id {
            fields.appendValueByte(hexDigits[Int(byte >> 4)])
            fields.appendValueByte(hexDigits[Int(byte & 15)])
        }
    }

    static let base64Digits = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Bytes values as the OTLP JSON mapping writes them.
    static func base64(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let chunk = (UInt32(bytes[index]) << 16) | (index + 1 < bytes.count ? UInt32(bytes[index + 1]) << 8 : 0)
                | (index + 2 < bytes.count ? UInt32(bytes[index + 2]) : 0)
            let available = min(3, bytes.count - index)
            for position in 0..<4 {
                output.append(position <= available ? base64Digits[Int(chunk >> (18 - 6 * UInt32(position)) & 63)] : UInt8(ascii: "="))
            }
            index += 3
        }
        return output
    }
}
