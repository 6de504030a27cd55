// pincurl-swift-sample URL POLICY.json [CA.pem]
//
// Loads the policy, sends one GET and prints the HTTP status and the pin that matched; on a
// refusal prints the failure detail (which certificates the server's path had, with their
// pins, and which pins the policy wanted) and exits 1.
import Foundation
import Pincurl

let args = CommandLine.arguments
guard args.count == 3 || args.count == 4 else {
    FileHandle.standardError.write(Data("usage: pincurl-swift-sample URL POLICY.json [CA.pem]\n".utf8))
    exit(2)
}

do {
    let policy = try Policy(file: args[2])
    let options = Options(caFile: args.count == 4 ? args[3] : nil, connectTimeout: 10,
                          timeout: 30, userAgent: "pincurl-swift-sample")
    let client = try Client(policy: policy, options: options)
    let response = try await client.send(Request(args[1]))
    print("HTTP \(response.statusCode) from \(response.effectiveURL)")
    if let verdict = response.verdict, let pin = verdict.matchedPin {
        print("matched pin \(pin) at depth \(verdict.matchedDepth ?? -1) for \(verdict.notedHost ?? "?")")
    } else if let verdict = response.verdict {
        print("no pin matched (report-only): \(verdict.result)")
    } else {
        print("host not pinned by the policy")
    }
} catch let error as PincurlError {
    FileHandle.standardError.write(Data("refused (\(error.status)): \(error.detail)\n".utf8))
    exit(1)
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
