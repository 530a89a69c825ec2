import Foundation
import ResidencyController
import ResidencyCore

/// The HTTP face of a witness (C2SP tlog-witness): `POST /add-checkpoint`, plus `GET /healthz` and
/// `GET /public-key` (the cosigner's verifier key, for operators; the protocol itself needs no read API).
package final class WitnessApplication: Sendable {
    package let witness: Witness
    /// Receives one line per request (who asked what, and the answer), like the controller's access log.
    let log: @Sendable (String) -> Void

    package init(witness: Witness, log: @escaping @Sendable (String) -> Void) {
        self.witness = witness
        self.log = log
    }

    package func respond(to request: HTTPRequest) -> HTTPResponse {
        let response: HTTPResponse
        switch (request.method, request.path) {
        case ("POST", "/add-checkpoint"):
            let answer = witness.addCheckpoint(request.body)
            response = HTTPResponse(
                status: answer.status, headers: [("Content-Type", answer.contentType)], body: Array(answer.body.utf8))
        case ("GET", "/healthz"), ("HEAD", "/healthz"):
            response = .text("ok\n")
        case ("GET", "/public-key"), ("HEAD", "/public-key"):
            response = .text(witness.cosigner.key.encoded + "\n")
        case (_, "/add-checkpoint"):
            response = HTTPResponse(
                status: 405, headers: [("Allow", "POST"), ("Content-Type", "text/plain; charset=utf-8")],
                body: Array("add-checkpoint takes POST\n".utf8))
        default:
            response = .text("no such endpoint; this witness serves POST /add-checkpoint\n", status: 404)
        }
        log(
            JSONValue.object([
                ("time", .string(Timestamp.rfc3339(milliseconds: Clock.system.now()))),
                ("method", .string(String(request.method.prefix(16)))), ("path", .string(String(request.path.prefix(200)))),
                ("status", .integer(response.status)),
            ]).encoded())
        return response
    }

    package func rejection(status: Int, message: String) -> HTTPResponse {
        .text(message + "\n", status: status)
    }
}
