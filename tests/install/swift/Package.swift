// swift-tools-version:6.0
// A package outside the pincurl repository that uses the Swift binding against an
// installed pincurl: plain `swift build`, the C library found through pkg-config.
// tests/install/test_install_bindings.sh copies it to a temporary directory and writes
// the path of the binding's package into PINCURL_PACKAGE_PATH below.
import PackageDescription

let package = Package(
    name: "Consumer",
    dependencies: [
        .package(path: "PINCURL_PACKAGE_PATH"),
    ],
    targets: [
        .executableTarget(name: "consumer",
                          dependencies: [.product(name: "Pincurl", package: "Pincurl")],
                          path: "Sources/consumer"),
    ]
)
