// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "LogStream",
    products: [
        .executable(name: "logstream", targets: ["logstream-server"]),
        .executable(name: "logstream-gen", targets: ["logstream-gen"]),
        // For bench/, a package of its own so the benchmark framework is not built by every test run.
        .library(name: "LogStream", targets: ["LogStream"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // Only its Heap (the reactor's timers): about 5 s of a clean build.
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
    ],
    targets: [
        // Syscalls and structures Swift's Glibc module imports badly or not at all (epoll, accept4, recvmmsg, signalfd).
        .target(name: "CEpoll"),
        // Case-insensitive substring search with SSE2/AVX2 (Swift's SIMD types have no movemask).
        .target(name: "CSearch"),
        // SHA-1 for the WebSocket handshake, from the system's libcrypto (seconds to build, unlike swift-crypto).
        .systemLibrary(name: "CCrypto", providers: [.apt(["libssl-dev"])]),
        // TLS for the listeners (libssl, non-blocking over the reactor's sockets): Debian's OpenSSL 3, already
        // installed for libcrypto; swift-nio-ssl would bring SwiftNIO and minutes of BoringSSL build.
        .systemLibrary(name: "CTLS", providers: [.apt(["libssl-dev"])]),
        // Block compression for the disk history (zstd, as VictoriaLogs uses) and CRC-32 (zlib's, table-driven).
        .systemLibrary(name: "CZstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        .target(
            name: "LogStream",
            dependencies: [
                "CEpoll", "CCrypto", "CTLS", "CSearch", "CZstd", "CZlib",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "HeapModule", package: "swift-collections"),
            ],
            // Dynamic exclusivity checks cost about a fifth of ingest time (perf); the reactor is single-threaded
            // and the ring's cross-thread state is atomics, so release builds leave them to the compiler.
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
        ),
        .executableTarget(name: "logstream-server", dependencies: ["LogStream"]),
        .executableTarget(
            name: "logstream-gen",
            dependencies: ["CEpoll", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(name: "LogStreamTests", dependencies: ["LogStream"]),
    ]
)
