// The Forward protocol's shared-key handshake: the server opens with HELO and a nonce, the client answers
// PING with its hostname, a salt and SHA-512(salt + hostname + nonce + key) in hex, and the server answers
// PONG with its own digest over its hostname, so each side proves it knows the key. User authentication
// (HELO's `auth` salt) is not asked for: `auth` is empty, and PING's username and password are ignored.
import CCrypto

public struct ForwardHandshake {
    public let sharedKey: [UInt8]
    public let serverHostname: [UInt8]
    public let nonce: [UInt8]

    public init(sharedKey: String, serverHostname: String, nonce: [UInt8]) {
        self.sharedKey = Array(sharedKey.utf8)
        self.serverHostname = Array(serverHostname.utf8)
        self.nonce = nonce
    }

    /// `["HELO", {"nonce": ..., "auth": "", "keepalive": true}]`
    public var helo: [UInt8] {
        var writer = MessagePackWriter()
        writer.array(count: 2)
        writer.string("HELO")
        writer.map(count: 3)
        writer.string("nonce")
        writer.binary(nonce)
        writer.string("auth")
        writer.string("")
        writer.string("keepalive")
        writer.boolean(true)
        return writer.bytes
    }

    public enum Outcome: Equatable {
        /// The PONG to send; the connection may send events from now on.
        case accepted(pong: [UInt8])
        /// The PONG to send before closing, and why.
        case refused(pong: [UInt8], reason: String)
    }

    /// Checks a PING (one whole MessagePack value).
    public func answer(ping message: UnsafeRawBufferPointer) -> Outcome {
        var reader = MessagePackReader(message)
        guard case .array(let count)? = try? reader.next(), count == 6, case .string(let kind)? = try? reader.next(),
              ASCII.equals(kind, "PING"),
              let hostname = (try? reader.next())?.bytes, let salt = (try? reader.next())?.bytes,
              let digest = (try? reader.next())?.bytes else {
            return refusal("the first message is not a PING")
        }
        let expected = Self.hexDigest([Array(salt), Array(hostname), nonce, sharedKey])
        guard digest.elementsEqual(expected) else { return refusal("shared key mismatch") }
        var writer = MessagePackWriter()
        writer.array(count: 5)
        writer.string("PONG")
        writer.boolean(true)
        writer.string("")
        serverHostname.withUnsafeBytes { writer.string($0) }
        Self.hexDigest([Array(salt), serverHostname, nonce, sharedKey]).withUnsafeBytes { writer.string($0) }
        return .accepted(pong: writer.bytes)
    }

    private func refusal(_ reason: String) -> Outcome {
        var writer = MessagePackWriter()
        writer.array(count: 5)
        writer.string("PONG")
        writer.boolean(false)
        writer.string(reason)
        writer.string("")
        writer.string("")
        return .refused(pong: writer.bytes, reason: reason)
    }

    /// SHA-512 of the parts joined, as lower-case hex.
    public static func hexDigest(_ parts: [[UInt8]]) -> [UInt8] {
        let input = parts.flatMap { $0 }
        var digest = [UInt8](repeating: 0, count: Int(SHA512_DIGEST_LENGTH))
        _ = SHA512(input, input.count, &digest)
        let hex = Array("0123456789abcdef".utf8)
        return digest.flatMap { [hex[Int($0 >> 4)], hex[Int($0 & 15)]] }
    }
}
