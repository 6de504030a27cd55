// Policies from JSON (Data, String, file) and pins against openssl.
import Foundation
import Pincurl
import Testing

@Suite struct PolicyTests {
    @Test func pinsAgreeWithOpenssl() throws {
        for name in ["root", "inter", "leaf-ec", "leaf-rsa", "rogue-root", "ed25519", "p384"] {
            let expected = try pkiPin(name + ".pem")
            let pem = try Data(contentsOf: URL(fileURLWithPath: try Env.pki(name + ".pem")))
            let pins = try Pin.ofCertificates(pem)
            #expect(pins.map(\.description) == [expected], "\(name)")
            if ["root", "inter", "leaf-ec", "ed25519", "p384"].contains(name) {
                let der = try Data(contentsOf: URL(fileURLWithPath: try Env.pki(name + ".der")))
                #expect(try Pin.ofCertificate(der: der).description == expected, "\(name) DER")
            }
            #expect(try Pin(expected) == pins[0])
        }
        let chain = try Data(contentsOf: URL(fileURLWithPath: try Env.pki("leaf-ec-chain.pem")))
        #expect(try Pin.ofCertificates(chain).map(\.description)
                == [try pkiPin("leaf-ec.pem"), try pkiPin("inter.pem")])
        let key = try Data(contentsOf: URL(fileURLWithPath: try Env.pki("p256.pub.pem")))
        #expect(try Pin.ofPublicKey(key).description == (try pkiPin("p256.pem")))
    }

    @Test func badPinsThrowTheirCase() {
        #expect(throws: PincurlError.self) { try Pin("md5/AAAA") }
        do {
            _ = try Pin("sha256/AAAA")
            Issue.record("a 3-byte pin was accepted")
        } catch let e as PincurlError {
            guard e.code == .pinBadLength else {
                Issue.record("wrong case \(e)")
                return
            }
            #expect(e.detail.contains("sha256/AAAA"))
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test func loadsFromDataStringAndFile() throws {
        let a = try pkiPin("inter.pem"), b = try pkiPin("leaf-backup.pem")
        let json = policyJSON(host: "Example.COM", enforce: true, pins: [a, b])
        let p1 = try Policy(json: json)
        let p2 = try Policy(json: Data(json.utf8))
        let dir = try makeTempDir("policy")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/policy.json"
        try Data(json.utf8).write(to: URL(fileURLWithPath: file))
        let p3 = try Policy(contentsOf: URL(fileURLWithPath: file))
        for p in [p1, p2, p3] {
            #expect(p.domains.count == 1)
            let d = try #require(p.domains.first)
            #expect(d.host == "example.com")
            #expect(d.enforce && !d.includeSubdomains && !d.exclude)
            #expect(d.pins.map(\.description) == [a, b])
            #expect(p.blocksOnExpiry)
            #expect(p.expires == Date(timeIntervalSince1970: 4_102_358_400)) // 2099-12-31
            #expect(p.lookup("EXAMPLE.com.")?.host == "example.com")
            #expect(p.lookup("www.example.com") == nil)
        }
    }

    @Test func exclusionsSayTheirReachAndSinglePinsAreExplicit() throws {
        let a = try pkiPin("inter.pem"), b = try pkiPin("root.pem")
        let json = """
            {"pincurl_policy": 1, "domains": {
              "example.com": {"include_subdomains": true, "pins": ["\(a)", "\(b)"]},
              "host.example.com": {"exclude": true, "include_subdomains": false},
              "tree.example.com": {"exclude": true},
              "one.example.org": {"allow_single_pin": true, "pins": ["\(a)"]}}}
            """
        let p = try Policy(json: json)
        let host = try #require(p.lookup("host.example.com"))
        #expect(host.exclude && !host.excludesSubdomains)
        #expect(p.lookup("x.host.example.com")?.host == "example.com")
        #expect(p.lookup("tree.example.com")?.excludesSubdomains == true)
        #expect(p.lookup("x.tree.example.com")?.host == "tree.example.com")
        let one = try #require(p.lookup("one.example.org"))
        #expect(one.allowsSinglePin && one.enforce)
        #expect(one.pins.map(\.description) == [a])
        #expect(p.lookup("example.com")?.allowsSinglePin == false)
    }

    @Test func refusedDocumentsNameThePathAndRule() throws {
        let a = try pkiPin("inter.pem")
        // An enforcing entry with one pin: too few.
        do {
            _ = try Policy(json: policyJSON(host: "example.com", enforce: true, pins: [a]))
            Issue.record("accepted an enforcing entry with one pin")
        } catch let caught as PincurlError where caught.code == .policyTooFewPins {
            let detail = caught.detail
            #expect(detail.contains("domains[\"example.com\"]"), "\(detail)")
        }
        do {
            _ = try Policy(json: "{\"pincurl_policy\": 1, \"domains\": {}, \"extra\": 1}")
            Issue.record("accepted an unknown key")
        } catch let caught as PincurlError where caught.code == .policyUnknownKey {
            let detail = caught.detail
            #expect(detail.contains("extra"), "\(detail)")
        }
        #expect(throws: PincurlError.self) { try Policy(json: "{") }
        #expect(throws: PincurlError.self) { try Policy(json: Data()) }
        do {
            _ = try Policy(file: "/nonexistent/pincurl/policy.json")
            Issue.record("loaded a missing file")
        } catch let caught as PincurlError where caught.code == .io {
            let detail = caught.detail
            #expect(detail.contains("/nonexistent/pincurl/policy.json"), "\(detail)")
        }
    }
}
