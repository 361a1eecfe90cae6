// swift-tools-version: 6.1
//
// overlayd: a gossip agent for community mesh networks.
// Layering (see Docs/architecture.md):
//   CSodium -> OverlayCrypto            libsodium, Ed25519 identities
//   OverlayWire                         the wire schema (protobuf) and its size budget
//   OverlayCore                         pure state machines: no IO, no clock, no global randomness
//   OverlayAPI                          Codable types of the local API (leaf)
//   OverlayNode                         the shell: UDP, timers, API server, persistence, metrics
//   OverlaySim                          deterministic simulator driving the same core
//   overlayd / overlayctl / overlay-sim thin executables
import PackageDescription

let package = Package(
    name: "overlayd",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "overlayd", targets: ["overlayd"]),
        .executable(name: "overlayctl", targets: ["overlayctl"]),
        .library(name: "OverlayCore", targets: ["OverlayCore"]),
        .library(name: "OverlayAPI", targets: ["OverlayAPI"]),
        .library(name: "OverlaySim", targets: ["OverlaySim"]),
        .executable(name: "overlay-sim", targets: ["overlay-sim"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.28.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        // The gateway prober's HTTP GET through each gateway's proxy (OverlayNode only).
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.25.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        .target(name: "OverlayCrypto", dependencies: ["CSodium"]),
        .target(
            name: "OverlayWire",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["overlay.proto"]
        ),
        .target(name: "OverlayCore", dependencies: ["OverlayWire"]),
        .target(name: "OverlayAPI"),
        .target(name: "OverlayClient", dependencies: ["OverlayAPI"]),
        .target(
            name: "OverlayNode",
            dependencies: [
                "OverlayCore", "OverlayCrypto", "OverlayWire", "OverlayAPI",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .executableTarget(
            name: "overlayd",
            dependencies: [
                "OverlayNode",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "overlayctl",
            dependencies: [
                "OverlayNode", "OverlayAPI", "OverlayClient", "OverlayCrypto",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(name: "OverlaySim", dependencies: ["OverlayCore", "OverlayWire"]),
        .executableTarget(
            name: "overlay-sim",
            dependencies: [
                "OverlaySim",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The footprint benchmark suite (Docs/footprint.md): prints figures, asserts no timing.
        .executableTarget(
            name: "overlay-bench",
            dependencies: [
                "OverlayCore", "OverlayCrypto", "OverlayWire", "OverlayNode", "OverlayClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "OverlayCryptoTests", dependencies: ["OverlayCrypto"]),
        .testTarget(name: "OverlayWireTests", dependencies: ["OverlayWire"]),
        .testTarget(name: "OverlayCoreTests", dependencies: ["OverlayCore"], exclude: ["Hops/Fixtures"]),
        .testTarget(name: "OverlayNodeTests", dependencies: ["OverlayNode"]),
        .testTarget(name: "OverlayClientTests", dependencies: ["OverlayClient", "OverlayCore", "OverlayNode"]),
        .testTarget(name: "OverlaySimTests", dependencies: ["OverlaySim", "OverlayCore", "OverlayWire"]),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["OverlayAPI", "OverlayClient", "OverlayCore", "OverlayCrypto", "OverlayNode", "OverlayWire"]
        ),
    ]
)
