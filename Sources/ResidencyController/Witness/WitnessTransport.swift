import Foundation
import ResidencyCore

/// How the publisher asks one witness to cosign: tlog-witness `add-checkpoint` over HTTP (`WitnessClient`), or
/// through a regional service's mutual TLS (`RegionalWitness`).
protocol WitnessTransport: Sendable {
    func addCheckpoint(old: Int, proof: [SHA256Digest], note: String) throws -> WitnessClient.Response
}

/// A regional service's witness (`region:ID` in `witnesses.json`): the same request, sent to the service's
/// `/internal/v1/witness/add-checkpoint` over the pinned mutual TLS the controller already holds with it.
struct RegionalWitness: WitnessTransport {
    let regional: RegionalServices
    let region: String

    func addCheckpoint(old: Int, proof: [SHA256Digest], note: String) throws -> WitnessClient.Response {
        let response = try regional.forward(
            region: region, "POST", "/internal/v1/witness/add-checkpoint",
            body: WitnessClient.addCheckpointBody(old: old, proof: proof, note: note), contentType: "text/plain")
        return WitnessClient.Response(
            status: response.status, contentType: response.header("content-type") ?? "",
            body: String(decoding: response.body.prefix(64 * 1024), as: UTF8.self))
    }
}

/// A witness this process cannot reach; asking it fails with why.
struct UnreachableWitness: WitnessTransport {
    let reason: String

    func addCheckpoint(old: Int, proof: [SHA256Digest], note: String) throws -> WitnessClient.Response {
        throw WitnessClient.Failure(description: reason)
    }
}
