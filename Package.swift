// swift-tools-version: 6.0
import PackageDescription

// Layout and import rules: ../shared/DESIGN.md and docs/architecture.md.
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
    ],
    targets: [
        .systemLibrary(
            name: "CYAML", pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"])]),
        .target(name: "NephoSupport", dependencies: ["CYAML"]),
        .target(name: "NephoCore", dependencies: ["NephoSupport"]),
        .target(name: "NephoProtocol"),
        .target(name: "NephoEngine", dependencies: ["NephoCore", "NephoSupport", "NephoProtocol"]),
        .target(
            name: "NephoCLI",
            dependencies: [
                "NephoProtocol", "NephoEngine", "NephoSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(name: "nepho", dependencies: ["NephoCLI"]),
        .executableTarget(
            name: "nephod",
            dependencies: ["NephoProtocol", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "NephoSupportTests", dependencies: ["NephoSupport"]),
        .testTarget(name: "NephoCoreTests", dependencies: ["NephoCore", "NephoSupport"]),
        .testTarget(name: "NephoEngineTests", dependencies: ["NephoEngine", "NephoProtocol", "NephoSupport"]),
        .testTarget(
            name: "NephoCLITests", dependencies: ["NephoCLI", "NephoSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
