// The Swift status list against the C status list: every number 0...255 must agree with
// pincurl_status_name() and pincurl_strerror(), so a status added to the C list without
// its Swift case (Status+Generated.swift) fails here. And what a person reads of an error.
import CPincurl
import Foundation
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
                #expect(PincurlError.Code(rawValue: 0) == nil, "OK is not an error")
                continue
            }
            let error = PincurlError(status: n, detail: "detail \(n)")
            #expect(error.status == n)
            #expect(error.detail == "detail \(n)")
            if let cName {
                known += 1
                #expect(error.code?.rawValue == n, "status \(n) \(cName) has no Swift case")
                #expect(error.name == cName)
            } else {
                #expect(error.code == nil, "status \(n) is not in the C list but has a Swift case")
                #expect(error.name == "STATUS_\(n)")
            }
        }
        #expect(known == PincurlError.statusTable.count - 1)
        #expect(known == PincurlError.Code.allCases.count)
        #expect(known > 50)
    }

    @Test func errorsReadAsTheirStatusNameAndDetail() {
        let e = PincurlError(.pinMismatch, "Certificate pinning failure!")
        #expect(e.code == .pinMismatch)
        #expect(e.status == 100)
        #expect(e.description == "PIN_MISMATCH: Certificate pinning failure!")
        #expect(e.localizedDescription == "PIN_MISMATCH: Certificate pinning failure!")
        #expect((e as any Error).localizedDescription == "PIN_MISMATCH: Certificate pinning failure!")
        #expect(e.failureReason == "no pin of the policy matches the validated certificate path")
        #expect("\(e)" == "PIN_MISMATCH: Certificate pinning failure!")
        let bare = PincurlError(status: 103, detail: "")
        #expect(bare.description == "TIMEOUT: operation timed out")
        let unknown = PincurlError(status: 250, detail: "new")
        #expect(unknown.description == "STATUS_250: new")
        #expect(PincurlError.Code.internal.rawValue == 4)
        #expect(PincurlError.Code.io.rawValue == 5)
        do {
            throw e
        } catch let caught as PincurlError where caught.code == .pinMismatch {
            #expect(caught.detail == "Certificate pinning failure!")
        } catch {
            Issue.record("the code did not match \(error)")
        }
    }
}
