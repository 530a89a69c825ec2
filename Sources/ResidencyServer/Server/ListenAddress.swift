/// `HOST:PORT` as given to `--listen`: `127.0.0.1:8080`, `[::1]:8080`, `0.0.0.0:0` (port 0: any free port).
package struct ListenAddress: Sendable, Hashable, CustomStringConvertible {
    package let host: String
    package let port: UInt16

    package init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    package init(parsing text: String) throws(ListenAddressError) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw ListenAddressError(input: text)
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else {
                throw ListenAddressError(input: text)
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, let port = UInt16(portText) else { throw ListenAddressError(input: text) }
        self.init(host: String(host), port: port)
    }

    package var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

package struct ListenAddressError: Error, Sendable, CustomStringConvertible {
    package let input: String
    package var description: String {
        "invalid listen address \"\(input)\"; accepted: HOST:PORT such as 127.0.0.1:8080, [::1]:8080 or 0.0.0.0:0"
    }
}
