import ResidencyCore

/// Text made safe for HTML: every name, justification or ticket a caller typed is shown as text, never markup.
enum HTML {
    /// The reports' escaping (per Unicode scalar): one rule for every page the controller writes.
    static func escape(_ text: String) -> String { HTMLReport.escape(text) }

    /// A whole page: labelled landmarks, a skip link, the navigation, no inline script and no inline style (the
    /// Content-Security-Policy allows neither; the style sheet is served from /console/style.css).
    /// `script`: the path of a same-origin script the page may add (live updates); the page works without it.
    static func page(
        title: String, signedIn: (name: String, role: String, csrf: String)?, body: String, script: String? = nil
    ) -> String {
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
            <link rel="stylesheet" href="/console/style.css">\(script.map { "<script src=\"\(escape($0))\" defer></script>" } ?? "")
            </head><body>
            <a class="skip" href="#main">Skip to content</a>
            <header><p class="brand">Residency</p>\(navigation)</header>
            <main id="main"><h1>\(escape(title))</h1>
            \(body)
            </main></body></html>
            """
    }

    /// Readable at 1280 px and at phone width: nothing is wider than the screen (long ids, proofs and entries wrap;
    /// tables become one block per row under 700 px, each cell labelled by its column's name from `data-label`).
    static let styleSheet = """
        *{box-sizing:border-box}
        body{font-family:system-ui,sans-serif;margin:0;color:#1b1b1b;background:#fafafa;line-height:1.45}
        header{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;gap:.5rem 1rem;padding:.5rem 1rem;background:#12324f;color:#fff}
        header a,header span{color:#fff}
        nav{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1.5rem}
        nav ul{display:flex;flex-wrap:wrap;gap:.25rem 1rem;list-style:none;margin:0;padding:0}
        nav a[aria-current=page]{font-weight:700;text-decoration-thickness:3px}
        .brand{font-weight:700;margin:0}
        .signout{display:inline-flex;flex-wrap:wrap;gap:.5rem;align-items:center}
        main{padding:1rem;max-width:1200px}
        h1{font-size:1.6rem;margin:.5rem 0 1rem}
        h2{font-size:1.25rem;margin:1.5rem 0 .5rem}
        table{border-collapse:collapse;width:100%;margin:1rem 0;background:#fff}
        caption{text-align:left;font-weight:700;padding:.25rem 0}
        th,td{border:1px solid #ccc;padding:.4rem;text-align:left;vertical-align:top;overflow-wrap:break-word}
        h1,h2{overflow-wrap:anywhere}
        pre,code{white-space:pre-wrap;overflow-wrap:anywhere}
        td code{font-size:.8rem}
        pre{background:#fff;border:1px solid #ccc;padding:.5rem}
        input,select,textarea{max-width:100%;font:inherit;padding:.25rem}
        .skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;color:#000;padding:.5rem}
        .error{border:2px solid #a00;background:#fee;padding:.5rem}
        .notice{border:2px solid #060;background:#efe;padding:.5rem}
        .cards{display:flex;flex-wrap:wrap;gap:.75rem;margin:1rem 0}
        .cards>*{flex:1 1 14rem;background:#fff;border:1px solid #ccc;padding:.5rem .75rem;margin:0}
        .request{background:#fff;border:1px solid #ccc;padding:.5rem 1rem;margin:1rem 0}
        .request table{margin:.5rem 0}
        form.decide,form.inline{display:flex;flex-wrap:wrap;gap:.4rem;align-items:end;margin:.5rem 0}
        form.search{display:flex;flex-wrap:wrap;gap:.4rem;align-items:end}
        fieldset{display:flex;flex-wrap:wrap;gap:.75rem;border:1px solid #ccc;background:#fff}
        label{display:flex;flex-direction:column;font-size:.9rem}
        button{padding:.3rem .8rem;font:inherit}
        svg{max-width:100%;height:auto;display:block}
        .ok{color:#060}.bad{color:#a00}
        :focus{outline:3px solid #f90;outline-offset:2px}
        @media (max-width:700px){
        table.rows,table.rows tbody,table.rows tr,table.rows td{display:block;width:100%}
        table.rows thead{display:none}
        table.rows caption{display:block;width:100%}
        table.rows tr{border-bottom:2px solid #ccc}
        table.rows td{border:none;border-bottom:1px solid #eee}
        table.rows td[data-label]::before{content:attr(data-label) ": ";font-weight:600}
        main{padding:.75rem}
        table:not(.rows){table-layout:fixed}
        table:not(.rows) th{width:32%}
        .request{padding:.25rem .5rem}
        p{overflow-wrap:anywhere}
        }
        """
}

extension HTML {
    /// A table of records: at phone width each row becomes a block whose cells are labelled by their column
    /// (`data-label`). `cells` are HTML already escaped by the caller.
    static func table(caption: String? = nil, columns: [String], rows: [[String]], empty: String = "None.") -> String {
        guard !rows.isEmpty else { return (caption.map { "<h2>\(escape($0))</h2>" } ?? "") + "<p>\(escape(empty))</p>" }
        var text = "<table class=\"rows\">" + (caption.map { "<caption>\(escape($0))</caption>" } ?? "") + "<thead><tr>"
        for column in columns { text += "<th scope=\"col\">\(escape(column))</th>" }
        text += "</tr></thead><tbody>"
        for row in rows {
            text += "<tr>"
            for (index, cell) in row.enumerated() {
                text += "<td data-label=\"\(escape(index < columns.count ? columns[index] : ""))\">\(cell)</td>"
            }
            text += "</tr>"
        }
        return text + "</tbody></table>"
    }

    /// A millisecond time as RFC 3339, escaped.
    static func time(_ milliseconds: Int64?) -> String {
        milliseconds.map { escape(Timestamp.rfc3339(milliseconds: $0)) } ?? "-"
    }
}
