/// Text made safe for HTML: every name, justification or ticket a caller typed is shown as text, never markup.
enum HTML {
    static func escape(_ text: String) -> String {
        var output = ""
        output.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": output += "&amp;"
            case "<": output += "&lt;"
            case ">": output += "&gt;"
            case "\"": output += "&quot;"
            case "'": output += "&#39;"
            default: output.unicodeScalars.append(character)
            }
        }
        return output
    }

    /// A whole page: labelled landmarks, a skip link, the navigation, no script and no inline style (the
    /// Content-Security-Policy allows neither; the style sheet is served from /console/style.css).
    static func page(title: String, signedIn: (name: String, role: String, csrf: String)?, body: String) -> String {
        var navigation = ""
        if let signedIn {
            navigation = """
                <nav aria-label="Console"><ul>
                <li><a href="/console">Overview</a></li>
                <li><a href="/console/tenants">Tenants</a></li>
                <li><a href="/console/access">Access</a></li>
                <li><a href="/console/migrations">Migrations</a></li>
                <li><a href="/console/reports">Reports</a></li>
                <li><a href="/console/ledger">Ledger</a></li>
                </ul>
                <form method="post" action="/console/sign-out" class="signout">
                <input type="hidden" name="csrf" value="\(escape(signedIn.csrf))">
                <span>\(escape(signedIn.name)) (\(escape(signedIn.role)))</span>
                <button type="submit">Sign out</button>
                </form></nav>
                """
        }
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(title)) · Residency</title>
            <link rel="stylesheet" href="/console/style.css">
            </head><body>
            <a class="skip" href="#main">Skip to content</a>
            <header><p class="brand">Residency</p>\(navigation)</header>
            <main id="main"><h1>\(escape(title))</h1>
            \(body)
            </main></body></html>
            """
    }

    static let styleSheet = """
        body{font-family:system-ui,sans-serif;margin:0;color:#1b1b1b;background:#fafafa;line-height:1.45}
        header{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;gap:1rem;padding:.5rem 1rem;background:#12324f;color:#fff}
        header a,header span{color:#fff}
        nav ul{display:flex;gap:1rem;list-style:none;margin:0;padding:0}
        .brand{font-weight:700;margin:0}
        .signout{display:inline-flex;gap:.5rem;align-items:center}
        main{padding:1rem;max-width:1200px}
        table{border-collapse:collapse;width:100%;margin:1rem 0;background:#fff}
        th,td{border:1px solid #ccc;padding:.4rem;text-align:left;vertical-align:top}
        .skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;color:#000;padding:.5rem}
        .error{border:2px solid #a00;background:#fee;padding:.5rem}
        .notice{border:2px solid #060;background:#efe;padding:.5rem}
        form.decide{display:flex;flex-wrap:wrap;gap:.4rem;align-items:end}
        label{display:flex;flex-direction:column;font-size:.9rem}
        button{padding:.3rem .8rem}
        :focus{outline:3px solid #f90;outline-offset:2px}
        @media (max-width:700px){table,thead,tbody,tr,th,td{display:block}th{display:none}td{border:none;border-bottom:1px solid #ddd}}
        """
}
