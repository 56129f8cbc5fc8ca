// swift-tools-version:6.0
// libFuzzer targets for the codecs and parsers that read bytes from the network. Built apart from the main
// package because every module here is compiled with -sanitize=fuzzer (see run.sh), which the server must not be.
// Each target is an executable whose main hands its test function to libFuzzer's driver.
import PackageDescription

let targets = ["FuzzHTTP", "FuzzHTTPStream", "FuzzWebSocket", "FuzzFramer", "FuzzRecord", "FuzzQuery", "FuzzIngest", "FuzzForward", "FuzzGELF", "FuzzClickHouse"]

let package = Package(
    name: "LogStreamFuzz",
    dependencies: [.package(name: "LogStream", path: "..")],
    targets: [.target(name: "CFuzzDriver"), .target(name: "FuzzSupport", dependencies: ["CFuzzDriver"])] + targets.map { name in
        .executableTarget(name: name, dependencies: ["FuzzSupport", .product(name: "LogStream", package: "LogStream")])
    }
)
