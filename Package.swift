// swift-tools-version: 6.0
import PackageDescription

// Layout and import rules: docs/architecture.md.
let package = Package(
    name: "nepho",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "nepho", targets: ["nepho"]),
        .executable(name: "nephod", targets: ["nephod"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // Layers, lowest first (docs/architecture.md draws the graph and the rule for each arrow).
        // Foundation.
        .systemLibrary(
            name: "CYAML", pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"])]),
        .target(name: "NephoSupport", dependencies: ["CYAML"]),
        // Model: cloudlets, scenarios, parameters, providers' scenario rules, the registry index.
        .target(name: "NephoCore", dependencies: ["NephoSupport"]),
        // Clients of the cloud: libcurl, HTTP, credentials, SigV4, CloudFormation, S3.
        .systemLibrary(
            name: "CCurl",
            providers: [.apt(["libcurl4-openssl-dev"])]),
        .target(name: "NephoHTTP", dependencies: ["CCurl"]),
        .target(
            name: "NephoAWS",
            dependencies: [
                "NephoHTTP", "NephoSupport", .product(name: "Crypto", package: "swift-crypto"),
            ]),
        // State: the SQLite database.
        .systemLibrary(
            name: "CSQLite", pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]),
        .target(name: "NephoStore", dependencies: ["CSQLite", "NephoSupport"]),
        // Wire: types only, no I/O.
        .target(name: "NephoProtocol"),
        // Engine: the API in-process, the providers' drivers, the lifecycle, the monitors.
        .target(
            name: "NephoEngine",
            dependencies: [
                "NephoCore", "NephoSupport", "NephoProtocol", "NephoHTTP", "NephoAWS", "NephoStore",
            ]),
        // Transport: the client over the socket, the daemon serving any engine.
        .target(name: "NephoClient", dependencies: ["NephoProtocol", "NephoSupport"]),
        .target(
            name: "NephoDaemon",
            dependencies: ["NephoProtocol", "NephoSupport", .product(name: "Logging", package: "swift-log")]),
        // Programs.
        .target(
            name: "NephoCLI",
            dependencies: [
                "NephoProtocol", "NephoEngine", "NephoCore", "NephoSupport", "NephoAWS", "NephoClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(name: "nepho", dependencies: ["NephoCLI"]),
        .target(
            name: "NephodProgram", dependencies: ["NephoDaemon", "NephoEngine", "NephoStore", "NephoClient"]),
        .executableTarget(name: "nephod", dependencies: ["NephodProgram"]),
        // Benchmarks' own clients (docs/benchmarks.md).
        .executableTarget(
            name: "nepho-bench-rpc", dependencies: ["NephoClient", "NephoProtocol"],
            path: "bench/daemon-rpc/Sources"),
        .executableTarget(name: "nepho-bench-aws", dependencies: ["NephoAWS"]),
        .executableTarget(
            name: "nepho-bench-eta", dependencies: ["NephoCore", "NephoSupport"], path: "bench/eta/Sources"),
        // Test support: the CloudFormation test bench, and nephod with a test-only third
        // provider (`local`, docs/providers.md).
        .target(name: "NephoTestBench", dependencies: ["NephoAWS", "NephoHTTP", "NephoSupport"]),
        .executableTarget(
            name: "nephod-local",
            dependencies: [
                "NephodProgram", "NephoEngine", "NephoCore", "NephoStore", "NephoSupport", "NephoProtocol",
            ],
            path: "Tests/LocalProvider"),
        .testTarget(
            name: "NephoHTTPTests",
            dependencies: [
                "NephoHTTP", "NephoSupport", "NephoTestBench",
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        .testTarget(
            name: "NephoAWSTests", dependencies: ["NephoAWS", "NephoHTTP", "NephoTestBench", "NephoSupport"]),
        .testTarget(name: "NephoSupportTests", dependencies: ["NephoSupport", "NephoTestBench"]),
        .testTarget(name: "NephoCoreTests", dependencies: ["NephoCore", "NephoSupport"]),
        .testTarget(
            name: "NephoEngineTests",
            dependencies: [
                "NephoEngine", "NephoProtocol", "NephoSupport", "NephoCore", "NephoHTTP", "NephoTestBench",
                "NephoStore",
            ]),
        .testTarget(
            name: "NephoCLITests",
            dependencies: ["NephoCLI", "NephoSupport", "NephoTestBench", "NephoAWS", "NephoEngine"]),
        .testTarget(name: "NephoProtocolTests", dependencies: ["NephoProtocol"]),
        .testTarget(name: "NephoStoreTests", dependencies: ["NephoStore", "NephoSupport"]),
        .testTarget(
            name: "NephoDaemonTests",
            dependencies: [
                "NephoDaemon", "NephoClient", "NephoStore", "NephoProtocol", "NephoSupport", "NephoEngine",
                .product(name: "Logging", package: "swift-log"),
            ]),
    ],
    swiftLanguageModes: [.v6]
)
