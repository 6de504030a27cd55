// consumer URL CA.pem PIN PIN: "OK <code> depth <n> <pin>", or "<STATUS> <detail>" and exit 1.
import Foundation
import Pincurl

let args = CommandLine.arguments
do {
    let policy = try Policy.Builder().add("localhost", pins: [args[3], args[4]]).build()
    let client = try Client(policy: policy, options: Options(caFile: args[2], timeout: 20))
    let r = try await client.send(Request(args[1]))
    print("OK \(r.statusCode) depth \(r.verdict?.matchedDepth ?? -1) \(r.verdict?.matchedPin?.description ?? "")")
} catch let e as PincurlError {
    print("\(e.name) \(e.detail.split(separator: "\n").first ?? "")")
    exit(1)
}
