// swift-tools-version:6.0
// The Swift binding of pincurl: CPincurl is the C API (a module map over the headers,
// linking libpincurl); Pincurl is the Swift API over it.
//
// Where CPincurl comes from:
//  - CPincurl.xcframework next to this file (an iOS or macOS app; docs/ios.md says how to
//    build it): a binary target with the headers, module map and static libraries inside.
//  - Otherwise the system-library target in Sources/CPincurl; the header and library
//    search paths come from the build, e.g. on Linux (see tools/swiftpm.sh):
//      swift build -Xcc -I<source>/include -Xlinker -L<build> -Xlinker -rpath -Xlinker <build>
import Foundation
import PackageDescription

let xcframework = "CPincurl.xcframework"
let haveXCFramework = FileManager.default.fileExists(
    atPath: Context.packageDirectory + "/" + xcframework)
let cPincurl: Target = haveXCFramework
    ? .binaryTarget(name: "CPincurl", path: xcframework)
    : .systemLibrary(name: "CPincurl", path: "Sources/CPincurl")

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
