import Foundation
import ResidencyController
import ResidencyCore

// MARK: Ledger

extension Console {
    /// The published checkpoint, and one entry with its inclusion proof checked against it — and how to check the
    /// same offline.
    func ledger(_ visitor: ConsoleVisitor, _ context: RequestContext) throws -> HTTPResponse {
        try allow([.compliance, .admin], unscoped: true, visitor, context, "the ledger page takes a compliance token")
        guard let published = try controller.publisher.latestPublished() else {
            return html(
                HTML.page(
                    title: "Ledger",
                    signedIn: (visitor.caller.tokenName, visitor.caller.role.rawValue, visitor.session.csrf),
                    body:
                        "<p>No checkpoint is published yet (witness quorum \(controller.publisher.policy.quorum)).</p>")
            )
        }
        var entry = ""
        if let text = context.request.queryValue("index") {
            guard let index = Int(text), index >= 0, index < published.size else {
                throw APIError.badRequest(
                    "index: \"\(text.prefix(20))\"; accepted: 0-\(published.size - 1), an entry under the published checkpoint"
                )
            }
            let bundle = try controller.ledger.proofBundle(indices: [index], checkpoint: published)
            let item = bundle.items[0]
            let verdict: String
            do {
                _ = try bundle.verify(trust: controller.transparency.trustPolicy)
                verdict =
                    #"<p class="notice" role="status">Entry \#(index) is proven included in the published checkpoint (\#(item.proof.count) hashes, checked against the pinned log key\#(controller.publisher.policy.quorum > 0 ? " and the witness quorum" : "")).</p>"#
            } catch {
                verdict = #"<p class="error" role="alert">The proof did not check: \#(HTML.escape("\(error)"))</p>"#
            }
            let proof = item.proof.map { "<li><code>\(Data($0.bytes).base64EncodedString())</code></li>" }.joined()
            entry = """
                \(verdict)
                <h2>Entry \(index)</h2><pre>\(HTML.escape(String(decoding: item.entry, as: UTF8.self)))</pre>
                <h3>Inclusion proof</h3><ol>\(proof)</ol>
                """
        }
        return html(
            HTML.page(
                title: "Ledger",
                signedIn: (visitor.caller.tokenName, visitor.caller.role.rawValue, visitor.session.csrf),
                body: """
                    <h2>Published checkpoint</h2><pre>\(HTML.escape(published.note))</pre>
                    <form method="get" action="/console/ledger">
                    <label for="index">Entry index (0-\(published.size - 1))</label>
                    <input id="index" name="index" inputmode="numeric" size="10">
                    <button type="submit">Prove</button></form>
                    \(entry)
                    <h2>Check it yourself, offline</h2>
                    <p><code>residency ledger trust &gt; trust.json</code> once, from a source you trust; then
                    <code>residency ledger export-entry INDEX &gt; bundle.json</code> and
                    <code>residency ledger verify-entry INDEX --bundle bundle.json --trust trust.json</code>, or
                    <code>Scripts/verify_bundle.py bundle.json trust.json</code> without Residency.</p>
                    """))
    }
}
