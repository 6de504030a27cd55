// swift-tools-version:6.0
// A pinned GET with the Swift binding: prints the pin that matched, or the failure detail.
//
//   swift run pincurl-swift-sample URL POLICY.json [CA.pem]
//
// Built like an app would use the binding: a path dependency on the package
// bindings/swift/Pincurl (identity "pincurl"). The C headers and library are found through
// pkg-config (pincurl.pc; samples/swift/run-sample.sh points PKG_CONFIG_PATH at the build).
import PackageDescription

let package = Package(
    name: "PincurlSample",
    platforms: [.macOS(.v12), .iOS(.v15)],
    dependencies: [
        .package(path: "../../../bindings/swift/Pincurl"),
    ],
    targets: [
        .executableTarget(
            name: "pincurl-swift-sample",
            dependencies: [.product(name: "Pincurl", package: "Pincurl")],
            path: "Sources/pincurl-swift-sample"),
    ]
)
