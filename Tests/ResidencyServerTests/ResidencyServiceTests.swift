import Foundation
import ResidencyController
import ResidencyCore
import ResidencyStore
import Synchronization
import Testing

@testable import ResidencyServer

#if canImport(Glibc)
    import Glibc
#endif

/// The whole service in process: the API behind a real socket on port 0, and its periodic work driven by the
/// test (`periodicTasks.advance(by:)`) against a clock the test moves.
@Suite struct ResidencyServiceTests {
    final class TestClock: Sendable {
        let now = Mutex<Int64>(1_800_000_000_000)
        var clock: Clock { Clock { [self] in now.withLock { $0 } } }
        func advance(days: Int64) { now.withLock { $0 += days * RetentionSchedule.day } }
    }

    @Test func servesRequestsAndRunsPeriodicWork() throws {
        let time = TestClock()
        let policies = try PolicySet.load(
            regions: APIHarness.root.appendingPathComponent("Regions"),
            policies: APIHarness.root.appendingPathComponent("Policies"))
        let pool = try DatabasePool(inMemory: ())
        let controller = try Controller(policies: policies, locator: nil, pool: pool, clock: time.clock)
        let token = try TokenService.createToken(name: "signup", role: .signup, pool: pool)
        var configuration = ResidencyService.Configuration(
            server: HTTPServer.Configuration(address: try ListenAddress(parsing: "127.0.0.1:0")))
        configuration.handlesSignals = false
        // The ticker stays out of the way: the test advances the schedule itself.
        configuration.tick = 3600
        configuration.lifecycleInterval = 60
        let devNull = open("/dev/null", O_WRONLY)
        defer { close(devNull) }
        configuration.accessLogDescriptor = devNull
        let service = try ResidencyService(controller: controller, configuration: configuration)
        #expect(service.port != 0)

        let ready = DispatchSemaphore(value: 0)
        let stopped = DispatchSemaphore(value: 0)
        let thread = Thread {
            try? service.run { ready.signal() }
            stopped.signal()
        }
        thread.start()
        #expect(ready.wait(timeout: .now() + 30) == .success)

        // A request through the socket: a trial signup, counted by the directory service.
        let body = #"{"name":"Acme","plan":"trial","country":"DE"}"#
        let client = try TestClient(port: service.port)
        client.send(
            "POST /v1/tenants HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer \(token)\r\n"
                + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        let response = try #require(client.responses(1).first)
        #expect(response.status == 201)
        let tenant = try #require(
            try controller.directory.tenants(region: nil, status: nil, limit: 10, after: nil).tenants.first)
        #expect(controller.counters.value(.signups, [("region", tenant.region)]) == 1)

        // A periodic task: once the trial and its retention period have passed, the schedule deletes the tenant.
        time.advance(days: 14 + 12 + 8)
        #expect(service.periodicTasks.advance(by: 60).contains("retention"))
        #expect(try controller.retention.tenantLifecycle(id: tenant.id).status == .deleted)
        #expect(controller.counters.value(.retentionActions, [("action", "delete")]) == 1)

        service.shutdown()
        #expect(stopped.wait(timeout: .now() + 30) == .success)
    }

    @Test func periodicTasksRunWhenTheirIntervalHasPassed() {
        let runs = Mutex<[String]>([])
        let tasks = PeriodicTasks([
            PeriodicTask(name: "often", every: 1) { runs.withLock { $0.append("often") } },
            PeriodicTask(name: "at start", every: 10, runsAtStart: true) { runs.withLock { $0.append("at start") } },
        ])
        #expect(tasks.advance(by: 0.5) == ["at start"])
        #expect(tasks.advance(by: 0.5) == ["often"])
        // A long pause runs each due task once, not once per missed interval.
        #expect(tasks.advance(by: 25) == ["often", "at start"])
        #expect(tasks.advance(by: 0.25).isEmpty)
        #expect(runs.withLock { $0 } == ["at start", "often", "often", "at start"])
    }
}
