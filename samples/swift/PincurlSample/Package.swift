// swift-tools-version:6.0
// A pinned GET with the Swift binding: prints the pin that matched, or the failure detail.
//
//   swift run pincurl-swift-sample URL POLICY.json [CA.pem]
//
// Built like an app would use the binding: a path dependency on bindings/swift (whose
// package identity is "swift", the name of its directory). The C headers and library
// come from the build (samples/swift/run-sample.sh shows the flags).
import PackageDescription

let package = Package(
    name: "PincurlSample",
    platforms: [.macOS(.v12), .iOS(.v15)],
    dependencies: [
        .package(path: "../../../bindings/swift"),
    ],
    targets: [
        .executableTarget(
            name: "pincurl-swift-sample",
            dependencies: [.product(name: "Pincurl", package: "swift")],
            path: "Sources/pincurl-swift-sample"),
    ]
)
