// The Swift error enum against the C status list: every number 0...255 must agree with
// pincurl_status_name() and pincurl_strerror(), so a status added to the C list without
// its Swift case (Status+Generated.swift) fails here.
import CPincurl
import Pincurl
import Testing

@Suite struct StatusTests {
    @Test func everyStatusNumberMatchesTheCLibrary() {
        var known = 0
        for n in Int32(0)...255 {
            let status = pincurl_status(rawValue: UInt32(n))
            let cName = pincurl_status_name(status).map { String(cString: $0) }
            let cMessage = String(cString: pincurl_strerror(status))
            let row = PincurlError.statusTable.first { $0.code == n }
            #expect(row?.name == cName, "status \(n): C has \(cName ?? "nothing"), Swift \(row?.name ?? "nothing")")
            if let row {
                #expect(row.message == cMessage, "status \(n) \(row.name): message differs")
            }
            if n == 0 {
                #expect(cName == "OK")
                #expect(PincurlError(code: 0, detail: "x") == nil, "OK is not an error")
                continue
            }
            guard let error = PincurlError(code: n, detail: "detail \(n)") else {
                Issue.record("status \(n) made no error")
                continue
            }
            #expect(error.code == n)
            #expect(error.detail == "detail \(n)")
            if cName != nil {
                known += 1
                if case .unknownStatus = error {
                    Issue.record("status \(n) \(cName!) has no Swift case")
                }
            } else if case .unknownStatus(let code, _) = error {
                #expect(code == n)
            } else {
                Issue.record("status \(n) is not in the C list but has a Swift case: \(error)")
            }
        }
        #expect(known == PincurlError.statusTable.count - 1)
        #expect(known > 50)
    }

    @Test func casesCarryTheirDetail() {
        let e = PincurlError(code: 100, detail: "Certificate pinning failure!")
        #expect(e == .pinMismatch("Certificate pinning failure!"))
        #expect(PincurlError.internal("x").code == 4)
        #expect(PincurlError.io("x").code == 5)
    }
}
