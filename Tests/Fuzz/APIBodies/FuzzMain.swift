import Foundation
import ResidencyController
import ResidencyCore
import ResidencyServer
import ResidencyStore

/// libFuzzer entry point for the JSON request bodies, driven through the whole API in process: the first
/// line of the input is a request line (`POST /v1/tenants`), the rest its JSON body. `{tenant}` and
/// `{request}` in the path or body stand for a real tenant and access request made at start-up, so mutated
/// bodies reach the decoders and the controller behind them rather than a 404. Every answer must be a
/// well-formed JSON response below 500 (or 501 for an unknown method); anything else — a 5xx, an unparseable body, a crash, a sanitizer
/// report — is a bug.
struct Fixture: @unchecked Sendable {
    let application: APIApplication
    let tenant: String
    let request: String
    let token: String

    static let shared: Fixture = {
        do {
            let root = URL(fileURLWithPath: ProcessInfo.processInfo.environment["RESIDENCY_ROOT"] ?? ".")
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "residency-fuzz-api-\(getpid())")
            try? FileManager.default.removeItem(at: directory)
            let policies = try PolicySet.load(
                regions: root.appendingPathComponent("Regions"), policies: root.appendingPathComponent("Policies"))
            let pool = try DatabasePool(directory: DataDirectory(directory))
            let controller = try Controller(policies: policies, locator: nil, pool: pool, dataDirectory: directory)
            let token = try TokenService.createToken(name: "fuzz", role: .admin, pool: pool)
            let application = APIApplication(controller: controller) { _ in }
            let tenant = try controller.directory.signUp(Signup(name: "Fuzz", plan: .paid, declaredCountry: CountryCode("FR")))
                .tenant.id
            let filing =
                #"{"tenant": "\#(tenant)", "staff": {"id": "s-1", "entity": "Residency Inc.", "role": "support engineer", "office": "austin"}, "physical_country": "US", "justification": "customer_support", "detail": "T-1", "scope": {"data_classes": ["customer_data"], "mode": "read"}}"#
            let response = send(application, token: token, line: "POST /v1/access-requests", body: Array(filing.utf8))
            guard case .string(let request) = (try? JSONParser.parse(response.body))?["access_request"]?["id"] ?? .null
            else { fatalError("fixture: no access request: \(String(decoding: response.body, as: UTF8.self))") }
            return Fixture(application: application, tenant: tenant, request: request, token: token)
        } catch {
            fatalError("fixture: \(error)")
        }
    }()

    static func send(_ application: APIApplication, token: String, line: String, body: [UInt8]) -> HTTPResponse {
        var head = "\(line) HTTP/1.1\r\nHost: fuzz\r\nAuthorization: Bearer \(token)\r\n"
        head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n"
        var parser = HTTPRequestParser()
        parser.append(Array(head.utf8) + body)
        guard case .request(let request) = try? parser.next() else {
            return HTTPResponse(status: 400, headers: [], body: Array("{}".utf8))
        }
        return application.respond(to: request)
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAPIBodies(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let fixture = Fixture.shared
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let newline = bytes.firstIndex(of: 0x0A) ?? bytes.count
    func substitute(_ text: String) -> String {
        text.replacingOccurrences(of: "{tenant}", with: fixture.tenant)
            .replacingOccurrences(of: "{request}", with: fixture.request)
    }
    // Request lines the parser would refuse are not this target's subject (the HTTP target covers them).
    let line = substitute(String(decoding: bytes[..<newline], as: UTF8.self))
    guard line.utf8.allSatisfy({ $0 > 0x20 || $0 == 0x20 }), line.split(separator: " ").count == 2 else { return 0 }
    let body = Array(substitute(String(decoding: bytes[min(newline + 1, bytes.count)...], as: UTF8.self)).utf8)
    let response = Fixture.send(fixture.application, token: fixture.token, line: line, body: body)
    // 501 is the right answer to a method the server does not know (RFC 9110 §15.6.2), not a failure.
    if response.status >= 500 && response.status != 501 {
        fatalError("\(line) answered \(response.status): \(String(decoding: response.body, as: UTF8.self))")
    }
    let type = response.headers.first { $0.name.lowercased() == "content-type" }?.value ?? ""
    if type.hasPrefix("application/json"), (try? JSONParser.parse(response.body)) == nil {
        fatalError("\(line) answered \(response.status) with a body that is not JSON")
    }
    return 0
}
