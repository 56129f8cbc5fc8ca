// swift-tools-version:6.1
// Micro-benchmarks of LogStream's hot path with ordo-one/benchmark. A package of its own, beside the server's,
// so that the benchmark framework is built only by those who run it: `cd bench && swift package benchmark`.
import PackageDescription

let package = Package(
    name: "LogStreamBenchmarks",
    dependencies: [
        .package(name: "LogStream", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        .executableTarget(
            name: "Parsers",
            dependencies: [
                .product(name: "LogStream", package: "LogStream"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/Parsers",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "livetail-latency",
            dependencies: [.product(name: "Histogram", package: "hdrhistogram-swift")],
            path: "Tools/LiveTailLatency"
        ),
        .executableTarget(
            name: "sink-profile",
            dependencies: [.product(name: "LogStream", package: "LogStream")],
            path: "Tools/SinkProfile"
        ),
        .executableTarget(
            name: "block-profile",
            dependencies: [.product(name: "LogStream", package: "LogStream")],
            path: "Tools/BlockProfile"
        ),
    ]
)
