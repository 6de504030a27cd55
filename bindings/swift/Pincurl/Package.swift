// swift-tools-version:6.0
// pincurl for Swift: CPincurl is the C API (a module map over the headers, linking
// libpincurl); Pincurl is the Swift API over it. The package is named after its product,
// and its directory too, so that its identity is "pincurl":
//
//     .package(path: "../pincurl/bindings/swift/Pincurl"),
//     .product(name: "Pincurl", package: "Pincurl")
//
// Where CPincurl comes from:
//  - CPincurl.xcframework next to this file (an iOS or macOS app; docs/ios.md says how to
//    build it): a binary target with the headers, module map and static libraries inside.
//  - Otherwise the system-library target in Sources/CPincurl, found through pkg-config
//    (pincurl.pc, installed with the library): plain `swift build` works against an
//    installed pincurl (PKG_CONFIG_PATH=<prefix>/lib/pkgconfig when not in a default place).
import Foundation
import PackageDescription

let xcframework = "CPincurl.xcframework"
let haveXCFramework = FileManager.default.fileExists(
    atPath: Context.packageDirectory + "/" + xcframework)
let cPincurl: Target = haveXCFramework
    ? .binaryTarget(name: "CPincurl", path: xcframework)
    : .systemLibrary(name: "CPincurl", path: "Sources/CPincurl", pkgConfig: "pincurl")

let package = Package(
    name: "Pincurl",
    platforms: [.macOS(.v12), .iOS(.v15)],
    products: [
        .library(name: "Pincurl", targets: ["Pincurl"]),
    ],
    targets: [
        cPincurl,
        .target(name: "Pincurl", dependencies: ["CPincurl"], path: "Sources/Pincurl"),
        .testTarget(name: "PincurlTests", dependencies: ["Pincurl", "CPincurl"],
                    path: "Tests/PincurlTests"),
    ]
)
