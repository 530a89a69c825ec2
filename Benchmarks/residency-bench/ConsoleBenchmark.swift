import Foundation
import ResidencyController
import ResidencyCore
import ResidencyServer
import ResidencyStore

/// Every console page's server render time (the request through the router, the page's reads and its HTML, no
/// socket) on a directory of `--tenants` tenants (default 100,000) and `--entries` ledger entries (default
/// 1,000,000), each page beside the API call that reads the same data, timed in the same run. The directory is
/// seeded through the store layer in bulk (tenants, then one `tenant.created` per tenant and access events spread
/// over them), a year of activity (an entry every 31.5 s from 2026-05-28), signed once, and kept in `--data DIR` so a
/// second run reuses it. A report's cost grows with the accesses in its period: about 2,500 a day here.
///
/// `--disk-files yes` gives every seeded tenant its data file where the data plane keeps it
/// (`regions/<region>/tenants/<id>.sqlite3`, empty: the residency audit only lists the folders), as an embedded
/// deployment has; without it the map page's audit finds no data on disk and takes its "nothing on disk" path.
enum ConsoleBenchmark {
    static func run(option: (String) -> String?) -> Int32 {
        let tenants = Int(option("tenants") ?? "") ?? 100_000
        let entries = Int(option("entries") ?? "") ?? 1_000_000
        let rounds = Int(option("rounds") ?? "") ?? 30
        let root = URL(fileURLWithPath: option("root") ?? FileManager.default.currentDirectoryPath)
        guard let data = option("data") else {
            FileHandle.standardError.write(Data("console benchmark needs --data DIR\n".utf8))
            return 64
        }
        let directory = URL(fileURLWithPath: data)
        let regions = root.appendingPathComponent("Regions")
        let policies = root.appendingPathComponent("Policies")
        do {
            try seed(directory, regions: regions, policies: policies, tenants: tenants, entries: entries)
            // Opened afresh after seeding, so the in-memory counts are read from the seeded directory.
            let controller = try Controller.open(
                dataDirectory: directory, regions: regions, policies: policies, geoIP: nil)
            if option("disk-files") == "yes", let plane = controller.dataPlane {
                try placeDataFiles(plane, tenants: tenants)
            }
            try measure(controller, tenants: tenants, rounds: rounds, only: option("pages"))
            if option("pages") == nil { try checkSummaries(controller) }
            if option("disk-files") == "yes" { try timeAuditParts(controller) }
            return 0
        } catch {
            FileHandle.standardError.write(Data("console benchmark failed: \(error)\n".utf8))
            return 1
        }
    }

    static let homes: [(country: String, region: String, site: String)] = [
        ("FR", "eu", "eu-de-frankfurt"), ("DE", "eu", "eu-de-frankfurt"), ("IE", "eu", "eu-ie-dublin"),
        ("GB", "uk", "uk-london"), ("US", "us", "us-ashburn"), ("IN", "india", "india-mumbai"),
        ("SG", "singapore", "singapore-1"), ("AU", "australia", "australia-sydney"),
        ("ZA", "africa", "africa-cape-town"),
        ("AE", "uae", "uae-dubai"),
    ]

    /// Entry `index`'s time: a year of activity from 2026-05-28.
    static func time(ofEntry index: Int) -> Int64 { 1_780_000_000_000 + Int64(index) * 31_536 }

    static func tenantID(_ index: Int) -> String {
        let hex = String(index, radix: 16)
        return "tn_0190000000" + String(repeating: "0", count: 12 - hex.count) + hex
    }

    static func seed(_ directory: URL, regions: URL, policies: URL, tenants: Int, entries: Int) throws {
        let controller = try Controller.open(dataDirectory: directory, regions: regions, policies: policies, geoIP: nil)
        let existing = try controller.ledger.size()
        guard existing < entries else { return }
        let start = DispatchTime.now().uptimeNanoseconds
        let version = controller.policies.version.hex
        var written = 0
        while written < tenants {
            let batch = min(10_000, tenants - written)
            let first = written
            try controller.pool.write { database in
                let repository = TenantRepository(database)
                for i in first..<(first + batch) {
                    let home = homes[i % homes.count]
                    let id = tenantID(i)
                    let placement = JSONValue.object([
                        ("policy_version", .string(version)),
                        (
                            "reasons",
                            .array([
                                .object([("message", .string("declared country \(home.country)"))]),
                                .object([
                                    ("message", .string("customers from \(home.country) are hosted in \(home.region)"))
                                ]),
                            ])
                        ),
                    ])
                    try repository.insert(
                        Tenant(
                            id: id, name: "Bench Company \(i)", plan: .paid, country: CountryCode(home.country),
                            region: home.region, site: home.site, status: .active, createdAt: time(ofEntry: i),
                            policyVersion: version),
                        placement: placement.encoded())
                    _ = try Ledger.append(
                        in: database, time: time(ofEntry: i), kind: .tenantCreated, actor: "bench",
                        tenant: id, region: home.region, body: .object([("name", .string("Bench Company \(i)"))]))
                }
            }
            written += batch
        }
        // The rest: access events spread over the tenants (each gets about entries / tenants entries).
        var events = tenants
        while events < entries {
            let batch = min(20_000, entries - events)
            let first = events
            try controller.pool.write { database in
                for i in first..<(first + batch) {
                    let tenant = (i * 7919) % tenants
                    _ = try Ledger.append(
                        in: database, time: time(ofEntry: i), kind: .accessUsed, actor: "desk",
                        tenant: tenantID(tenant), region: homes[tenant % homes.count].region,
                        body: .object([
                            ("request", .string("ar_bench\(i % 500)")), ("staff", .string("s-\(i % 12)")),
                            ("physical_country", .string("PH")), ("method", .string("console")),
                            ("resource", .string("contacts/\(i % 1000)")), ("data_class", .string("customer_data")),
                            ("mode", .string("read")), ("outcome", .string("allowed")), ("event", .integer(i)),
                        ]))
                }
            }
            events += batch
        }
        _ = try controller.ledger.signCheckpoint(force: true)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        print("console.seed \(String(format: "%.1f", seconds)) s (\(tenants) tenants, \(entries) entries)")
    }

    /// An empty `<id>.sqlite3` for every seeded tenant in its home region's folder, as `DataPlane` names them;
    /// files already there are kept, so a second run reuses them.
    static func placeDataFiles(_ plane: DataPlane, tenants: Int) throws {
        let start = DispatchTime.now().uptimeNanoseconds
        for home in Set(homes.map(\.region)) {
            try FileManager.default.createDirectory(
                at: plane.directory(region: home), withIntermediateDirectories: true)
        }
        var created = 0
        for i in 0..<tenants {
            let path = plane.path(region: homes[i % homes.count].region, tenant: tenantID(i))
            let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if descriptor >= 0 {
                close(descriptor)
                created += 1
            } else if errno != EEXIST {
                throw BenchFailure("cannot create \(path): errno \(errno)")
            }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        print(
            "console.seed data files: \(created) created, \(tenants - created) already there (\(String(format: "%.1f", seconds)) s)"
        )
    }

    /// `only`: the pages whose name contains it (to profile one page), or all.
    static func measure(_ controller: Controller, tenants: Int, rounds: Int, only: String? = nil) throws {
        let application = APIApplication(controller: controller, accessLog: { _ in })
        let admin = try TokenService.createToken(
            name: "bench-admin-\(SecureRandom.hex(3))", role: .admin, pool: controller.pool)
        // A few things waiting: access requests and a migration, so the queues are not empty.
        let tenant = tenantID(min(12_340, (tenants - 1) / 10 * 10))  // a French tenant in eu-de-frankfurt
        for index in 0..<5 {
            _ = try controller.access.fileAccess(
                AccessDesk.AccessFiling(
                    tenant: tenantID(index * 10 + 3),
                    staff: StaffMember(id: "s-\(index)", entity: "Residency UK Ltd", jobRole: "sre", office: "london"),
                    physicalCountry: CountryCode("GB")!, justification: "security_incident", detail: "INC-\(index)",
                    scope: AccessScope(dataClasses: [.logs], mode: .read), hours: 2),
                breakGlass: false, by: "bench-support")
        }
        let migration =
            try controller.migrations.migrations(tenant: tenant, state: nil, plan: nil, limit: 1).first
            ?? controller.migrations.requestMigration(
                .init(tenant: tenant, toRegion: "eu", toSite: "eu-ie-dublin", reason: "bench"), by: "bench")
        // Sign in as the console does.
        let signIn = application.respond(to: request("POST", "/console/sign-in", body: "token=\(admin)"))
        guard let cookie = signIn.headers.first(where: { $0.name == "Set-Cookie" })?.value.split(separator: ";").first
        else {
            throw BenchFailure("sign-in failed: \(signIn.status)")
        }
        let size = try controller.ledger.size()
        let pages: [(name: String, path: String, api: String?)] = [
            ("overview", "/console", "/v1/regions"),
            ("tenants (first page)", "/console/tenants", "/v1/tenants?limit=100"),
            ("tenants by region", "/console/tenants?q=eu", "/v1/tenants?region=eu&limit=100"),
            ("tenants by country", "/console/tenants?q=FR", nil),
            ("tenants by name", "/console/tenants?q=Bench+Company+4242", nil),
            ("tenant page", "/console/tenants/\(tenant)", "/v1/tenants/\(tenant)/transparency?limit=50"),
            ("access", "/console/access", "/v1/access-requests?state=pending"),
            ("migrations", "/console/migrations", "/v1/migrations"),
            ("migration page", "/console/migrations/\(migration.id)", "/v1/migrations/\(migration.id)"),
            ("migration live.json", "/console/migrations/\(migration.id)/live.json", nil),
            ("migration preview", "/console/migrations/new?tenant=\(tenantID(4))&to_region=eu&reason=x", nil),
            ("bulk plan, uae -> eu, country AE", "/console/migrations/plan?from=uae&to=eu&country=AE", nil),
            ("reports (form)", "/console/reports", nil),
            ("cross-border report, one day", "/console/reports?kind=cross-border&from=2026-09-01&to=2026-09-01", nil),
            ("cross-border report, 30 days", "/console/reports?kind=cross-border&from=2026-09-01&to=2026-09-30", nil),
            ("residency map report", "/console/reports?kind=residency-map", nil),
            ("ledger", "/console/ledger", "/v1/ledger/checkpoint"),
            (
                "ledger entry proof", "/console/ledger?index=\(size / 2)",
                "/v1/ledger/proofs/inclusion?index=\(size / 2)"
            ),
            ("sign-in", "/console/sign-in", nil),
        ]
        // A tenant's administrator (a compliance token scoped to one tenant) reads its own report.
        let tenantToken = try TokenService.createToken(
            name: "bench-tenant-\(SecureRandom.hex(3))", role: .compliance, pool: controller.pool, tenant: tenant)
        let tenantSignIn = application.respond(to: request("POST", "/console/sign-in", body: "token=\(tenantToken)"))
        guard
            let tenantCookie = tenantSignIn.headers.first(where: { $0.name == "Set-Cookie" })?.value
                .split(separator: ";").first
        else {
            throw BenchFailure("tenant sign-in failed: \(tenantSignIn.status)")
        }
        let tenantPages: [(name: String, path: String)] = [
            (
                "tenant admin: its report, 30 days",
                "/console/reports?kind=cross-border&from=2026-09-01&to=2026-09-30"
            ),
            ("tenant admin: its report, a year", "/console/reports?kind=cross-border&from=2026-05-01&to=2027-06-30"),
        ]
        print(
            "page".padding(toLength: 36, withPad: " ", startingAt: 0)
                + "  median ms     p95 ms     status   API median   target")
        for page in pages where only.map({ page.name.contains($0) }) ?? true {
            let (median, p95, status) = time(rounds) {
                application.respond(to: request("GET", page.path, cookie: String(cookie))).status
            }
            var api = "-"
            if let path = page.api {
                let (apiMedian, _, apiStatus) = time(rounds) {
                    application.respond(to: request("GET", path, bearer: admin)).status
                }
                api = apiStatus == 200 ? String(format: "%.2f", apiMedian) : "status \(apiStatus)"
            }
            func padded(_ text: String, _ width: Int) -> String {
                String(repeating: " ", count: max(0, width - text.count)) + text
            }
            print(
                page.name.padding(toLength: 36, withPad: " ", startingAt: 0) + " "
                    + String(format: "%10.2f %10.2f %10d", median, p95, status) + " " + padded(api, 12) + " "
                    + padded("< 50", 8))
            print(
                "console.page\t\(page.name)\t\(String(format: "%.2f", median))\t\(String(format: "%.2f", p95))\t\(status)\t\(api)"
            )
        }
        for page in tenantPages where only.map({ page.name.contains($0) }) ?? true {
            let (median, p95, status) = time(rounds) {
                application.respond(to: request("GET", page.path, cookie: String(tenantCookie))).status
            }
            print(
                page.name.padding(toLength: 36, withPad: " ", startingAt: 0) + " "
                    + String(format: "%10.2f %10.2f %10d", median, p95, status) + "            - " + "    < 50")
            print(
                "console.page\t\(page.name)\t\(String(format: "%.2f", median))\t\(String(format: "%.2f", p95))\t\(status)\t-"
            )
        }
        // The map keeps the directory's locations while the tenants table's change counter stands still, and after
        // a change re-reads only the tenants the log of changes names: each row changes that many tenants' status
        // (untimed) before each view. Up to the log's 8,192 changes the map is patched; the last row changes more
        // tenants than the log holds, so the log cannot vouch for them and every tenant is read again (as after a
        // mass delete beyond the ring, a TRUNCATE or a counter moved backwards).
        let changes = [
            ("residency map report, a tenant changed", 1),
            ("residency map, 300 tenants changed", 300),
            ("residency map, 1100 tenants changed", 1_100),
            ("residency map, 8000 tenants changed", 8_000),
            ("residency map, read in full (8300 changed)", 8_300),  // beyond the log's 8,192 rows
        ]
        for (changed, count) in changes where only.map({ changed.contains($0) }) ?? true {
            // Spread over the directory; all distinct while 13 does not divide the count of tenants.
            let subjects = (0..<min(count, tenants)).map { tenantID((7 + $0 * 13) % tenants) }
            var suspended = false
            func flip() {
                suspended.toggle()
                _ = try? controller.pool.write { database in
                    for subject in subjects {
                        try TenantRepository(database).updateStatus(id: subject, to: suspended ? .suspended : .active)
                    }
                }
            }
            let (median, p95, status) = time(rounds, prepare: flip) {
                application.respond(to: request("GET", "/console/reports?kind=residency-map", cookie: String(cookie)))
                    .status
            }
            if suspended { flip() }
            print(
                changed.padding(toLength: 36, withPad: " ", startingAt: 0) + " "
                    + String(format: "%10.2f %10.2f %10d", median, p95, status) + "            - " + "    < 50")
            print(
                "console.page\t\(changed)\t\(String(format: "%.2f", median))\t\(String(format: "%.2f", p95))\t\(status)\t-"
            )
        }
    }

    /// The report page's figures (from the day rows) beside the full report's (every access entry read) at this
    /// size: the one-day and 30-day periods the pages show, and the whole history.
    static func checkSummaries(_ controller: Controller) throws {
        let day: Int64 = 86_400_000
        let september = Timestamp.milliseconds(rfc3339: "2026-09-01T00:00:00Z")!
        for (name, from, to) in [
            ("one day", september, september + day), ("30 days", september, september + 30 * day),
            ("whole history", Int64(0), Int64(4_000_000_000_000)),
        ] {
            let start = DispatchTime.now().uptimeNanoseconds
            let full = try controller.reports.prepareCrossBorderReport(from: from, to: to, region: nil, tenant: nil)
                .frame
            let fullMs = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            let page = try controller.reports.crossBorderPage(
                from: from, to: to, region: nil, tenant: nil, after: nil, limit: 100
            ).report
            func figures(_ r: CrossBorderReport) -> String {
                "\(r.accessCount) \(r.grantsDecidedByFiler) \(r.breakGlassCount) \(r.refusalCount) "
                    + "\(r.byDestination.map { "\($0.key)=\($0.count)" }) \(r.byBasis.map { "\($0.key)=\($0.count)" }) "
                    + "\(r.byJustification.map { "\($0.key)=\($0.count)" }) \(r.byStaff.map { "\($0.key)=\($0.count)" })"
            }
            let agree = figures(full) == figures(page)
            print(
                "console.check cross-border \(name): \(agree ? "figures agree" : "FIGURES DIFFER") "
                    + "(\(full.accessCount) accesses; full report's summary \(String(format: "%.0f", fullMs)) ms)")
            if !agree { throw BenchFailure("cross-border \(name): \(figures(page)) != \(figures(full))") }
        }
    }

    /// Where the residency map's audit spends its time with data on disk: the folders listed afresh (every name
    /// read and sorted) and as the audit lists them (stat each folder, reuse an unchanged listing), and the
    /// directory's homes read (as bytes); then the audit itself, with its listings reused and the directory
    /// unchanged.
    static func timeAuditParts(_ controller: Controller) throws {
        guard let plane = controller.dataPlane else { return }
        let uncached = DataPlane(
            dataDirectory: DataDirectory(plane.root.deletingLastPathComponent()),
            listing: FolderListing(caching: false))
        func listAll(_ plane: DataPlane) -> Int {
            (try? plane.regionsOnDisk().reduce(0) { $0 + (try plane.tenants(in: $1)).count }) ?? -1
        }
        let parts: [(String, () -> Int)] = [
            ("folders listed afresh", { listAll(uncached) }),
            ("folders listed, unchanged ones reused", { listAll(plane) }),
            (
                "directory homes read (region, id, status as bytes)",
                {
                    (try? controller.pool.read { database -> Int in
                        var count = 0
                        try TenantRepository(database).forEachHome { _, _, _, _ in count += 1 }
                        return count
                    }) ?? -1
                }
            ),
            (
                "audit (no inventory)",
                {
                    (try? controller.reports.audit(record: false, keepViolations: 100, by: "bench").checked) ?? -1
                }
            ),
        ]
        for (name, body) in parts {
            let (median, p95, count) = time(10, body)
            print(
                "console.audit-part \(name): median \(String(format: "%.2f", median)) ms, p95 "
                    + "\(String(format: "%.2f", p95)) ms (\(count))")
        }
    }

    /// Runs `body` a few times to warm up, then `rounds` times; the median and 95th percentile in milliseconds.
    /// `prepare` runs before each run of `body`, untimed.
    static func time(
        _ rounds: Int, prepare: () -> Void = {}, _ body: () -> Int
    ) -> (
        median: Double, p95: Double, status: Int
    ) {
        var status = 0
        for _ in 0..<3 {
            prepare()
            status = body()
        }
        var samples: [Double] = []
        for _ in 0..<rounds {
            prepare()
            let start = DispatchTime.now().uptimeNanoseconds
            status = body()
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        samples.sort()
        return (samples[samples.count / 2], samples[min(samples.count - 1, samples.count * 95 / 100)], status)
    }

    static func request(
        _ method: String, _ target: String, cookie: String? = nil, bearer: String? = nil, body: String? = nil
    )
        -> HTTPRequest
    {
        var text = "\(method) \(target) HTTP/1.1\r\nHost: bench\r\n"
        if let cookie { text += "Cookie: \(cookie)\r\n" }
        if let bearer { text += "Authorization: Bearer \(bearer)\r\n" }
        if let body {
            text +=
                "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        } else {
            text += "\r\n"
        }
        var parser = HTTPRequestParser()
        parser.append(Array(text.utf8))
        guard case .request(let request)? = try? parser.next() else { fatalError("unparseable request \(target)") }
        return request
    }
}

struct BenchFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
