import Foundation
import Glibc
import Testing
@testable import LogStream

@Suite("System layer: the call wrapper, files, eventfds, datagrams")
struct SystemLayerTests {
    @Test("a call interrupted by a signal is retried; its errno becomes a SystemError naming the call")
    func retriesAndErrors() throws {
        var attempts = 0
        let result = try systemCall("pretend", { () -> Int32 in
            attempts += 1
            if attempts < 3 { errno = EINTR; return -1 }
            return 7
        }())
        #expect(result == 7 && attempts == 3)
        #expect(throws: SystemError("pretend", errno: .noSuchFile)) { try systemCall("pretend", { () -> Int32 in errno = ENOENT; return -1 }()) }
        let error = SystemError("bind", errno: .addressInUse)
        #expect(error.description == "bind: Address already in use")
        #expect(Errno.addressInUse ~= error && !(Errno.noSuchFile ~= error))
    }

    @Test("a non-blocking call that would block answers nil, not an error")
    func wouldBlock() throws {
        #expect(try nonBlockingCall("read", { () -> Int in errno = EAGAIN; return -1 }()) == nil)
        #expect(try nonBlockingCall("read", { () -> Int in 3 }()) == 3)
    }

    @Test("a file is written and read at offsets, synced, cut, renamed and removed; directories list their entries")
    func files() throws {
        let directory = NSTemporaryDirectory() + "logstream-file-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileSystem.makeDirectory(directory)
        try FileSystem.makeDirectory(directory)  // already there: fine
        let path = directory + "/segment"
        do {
            let file = try File(path, for: .creatingNew)
            try Array("hello, world".utf8).withUnsafeBytes { try file.write($0, at: 0) }
            try Array("HELLO".utf8).withUnsafeBytes { try file.write($0, at: 0) }
            try file.synchronizeData()
            #expect(try file.size() == 12)
            var buffer = [UInt8](repeating: 0, count: 20)
            let count = try buffer.withUnsafeMutableBytes { raw in try file.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[..<5]), at: 7) }
            #expect(count == 5 && String(decoding: buffer[..<5], as: UTF8.self) == "world")
            try file.truncate(to: 5)
            #expect(try file.size() == 5)
        }
        #expect(throws: SystemError.self) { _ = try File(path, for: .creatingNew) }
        do { _ = try File(path, for: .creatingNew) } catch { #expect(error.errno == .fileExists) }
        try FileSystem.rename(path, to: directory + "/renamed")
        try FileSystem.synchronizeDirectory(directory)
        #expect(try FileSystem.entries(of: directory) == ["renamed"])
        #expect(FileSystem.kind(of: directory + "/renamed") == .regularFile && FileSystem.kind(of: directory) == .directory)
        #expect(FileSystem.kind(of: path) == nil)
        do { _ = try File(path, for: .reading) } catch { #expect(error.errno == .noSuchFile && error.operation == "open \(path)") }
        try FileSystem.removeFile(directory + "/renamed")
        #expect(try FileSystem.entries(of: directory).isEmpty)
        rmdir(directory)
    }

    @Test("an eventfd counts the signals given before it is taken, and a non-blocking one reads 0 when empty")
    func eventCounter() throws {
        let counter = try EventCounter(nonBlocking: true)
        defer { counter.close() }
        #expect(counter.take() == 0)
        counter.signal()
        counter.signal()
        #expect(counter.take() == 2)
        #expect(counter.take() == 0)
    }

    @Test("a batch of datagrams is received in one call, each with its payload and sender")
    func datagrams() throws {
        let (receiver, _) = try Socket.bindUDP(on: SocketAddress(host: "127.0.0.1", port: 0)!, receiveBufferBytes: 1 << 20)
        defer { receiver.close() }
        let port = try #require(Socket.localAddress(of: receiver)).port
        let sender = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { Glibc.close(sender) }
        let destination = SocketAddress(host: "127.0.0.1", port: port)!
        for text in ["one", "two", "three"] {
            _ = Array(text.utf8).withUnsafeBytes { bytes in destination.withSockaddr { sendto(sender, bytes.baseAddress, bytes.count, 0, $0, $1) } }
        }
        let batch = DatagramBatch(capacity: 8)
        var payloads: [String] = []
        for _ in 0..<100 where payloads.count < 3 {
            if try batch.receive(from: receiver) {
                for index in 0..<batch.count {
                    payloads.append(String(decoding: batch.payload(at: index), as: UTF8.self))
                    #expect(batch.sender(at: index).hostText == "127.0.0.1" && !batch.isTruncated(at: index))
                    #expect(batch.sender(at: index) == batch.sender(at: 0))
                }
            } else {
                usleep(1000)
            }
        }
        #expect(payloads == ["one", "two", "three"])
        #expect(try batch.receive(from: receiver) == false)
    }
}
