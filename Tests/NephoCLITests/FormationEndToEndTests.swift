import Foundation
import NephoAWS
import NephoSupport
import NephoTestBench
import Testing

/// Formations end to end: the real `nepho`, the `nephod` it starts and the `nephod
/// monitor` processes it spawns, against the CloudFormation test bench (moto). The
/// bench holds a build open (a custom resource) until the test releases it.
@Suite(.serialized)
struct FormationEndToEndTests {
    static let benches = SharedCloudFormationBench()

    /// A private home with the bench-demo cloudlet, pointed at the bench.
    func setUp() async throws -> (NephoBinary, CloudFormationBench, String) {
        // Its own bench: the throttling test injects faults into it.
        let fixture = try await FormationFixture.make(on: Self.benches)
        return (fixture.nepho, fixture.bench, try await fixture.bench.holdFunction())
    }

    /// Creates a held build `PREFIX-…` with --detach; its name, build id and lock file.
    func createHeld(_ nepho: NephoBinary, _ arn: String, _ prefix: String) async throws -> (
        name: String, build: Int, lock: URL
    ) {
        let name = Self.unique(prefix)
        let create = try await nepho.run([
            "create", "bench-demo/held", "--name", name, "-p", "HoldFunctionArn=\(arn)", "--detach",
        ])
        #expect(create.succeeded, "\(create.errorOutput)")
        let build =
            try #require(
                json(try await nepho.run(["formation:describe", name, "-o", "json"]).output)["builds"]
                    as? [[String: Any]]
            ).last?["id"] as? Int ?? 0
        return (name, build, nepho.home.appendingPathComponent("builds/\(build).lock"))
    }

    func stop(_ nepho: NephoBinary) async {
        _ = try? await nepho.run(["daemon:stop"])
    }

    static func unique(_ prefix: String) -> String { "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())" }

    func json(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    func stackID(_ nepho: NephoBinary, _ name: String) async throws -> String {
        let describe = try await nepho.run(["formation:describe", name, "-o", "json"])
        return try #require(json(describe.output)["stackID"] as? String, "\(describe.errorOutput)")
    }

    /// The event ids nepho stored for every build of `name`, in order.
    func storedEventIDs(_ nepho: NephoBinary, _ name: String) async throws -> [String] {
        let logs = try await nepho.run(["formation:logs", name, "-o", "json"])
        let builds = json(logs.output)["builds"] as? [[String: Any]] ?? []
        return builds.flatMap { build in
            (build["events"] as? [[String: Any]] ?? []).compactMap {
                ($0["event"] as? [String: Any])?["eventID"] as? String
            }
        }
    }

    /// Stored events == what DescribeStackEvents returns for the stack, each once.
    func expectEventsExactlyOnce(_ nepho: NephoBinary, _ bench: CloudFormationBench, _ name: String)
        async throws
    {
        let stored = try await storedEventIDs(nepho, name)
        let stack = try await stackID(nepho, name)
        let actual = try await bench.session().cloudFormation().describeStackEvents(stack).map(\.eventId)
        #expect(Set(stored).count == stored.count, "an event was stored twice")
        #expect(Set(stored) == Set(actual))
    }

    func watch(_ nepho: NephoBinary, _ name: String, _ extra: [String] = []) -> Task<ProcessResult, Error> {
        Task { try await nepho.run(["formation:watch", name] + extra) }
    }

    @Test func detachListWatchTwiceReleaseDescribeDestroy() async throws {
        let (nepho, bench, arn) = try await setUp()
        defer { Task { await stop(nepho) } }
        let name = Self.unique("held")
        let create = try await nepho.run([
            "create", "bench-demo/held", "--name", name, "-p", "HoldFunctionArn=\(arn)", "-p",
            "AdminPassword=s3cret-value",
            "--detach",
        ])
        #expect(create.succeeded, "\(create.errorOutput)")
        #expect(create.output.contains("formation:watch \(name)"))

        let list = try await nepho.run(["formation:list"])
        #expect(list.output.contains(name) && list.output.contains("CREATE_IN_PROGRESS"), "\(list.output)")

        let first = watch(nepho, name)
        let second = watch(nepho, name, ["-o", "json"])
        try await Task.sleep(nanoseconds: 2_000_000_000)
        try await bench.release(stackId: try await stackID(nepho, name), data: ["Message": "done"])
        let one = try await first.value
        let two = try await second.value
        #expect(one.status == 0, "\(one.errorOutput)")
        #expect(one.output.contains("CREATE_COMPLETE"))
        #expect(two.status == 0, "\(two.errorOutput)")
        let lines = two.output.split(separator: "\n").map { json(String($0)) }
        #expect(lines.last?["type"] as? String == "end")
        #expect(
            lines.dropLast().allSatisfy {
                ($0["type"] as? String == "event" && $0["sequence"] != nil)
                    || $0["type"] as? String == "progress"
            })
        #expect(lines.contains { $0["type"] as? String == "progress" })

        // Reattach after the end: the history again, exit 0.
        let again = try await nepho.run(["formation:watch", name])
        #expect(again.status == 0 && again.output.contains("CREATE_COMPLETE"))

        let describe = try await nepho.run(["formation:describe", name])
        #expect(describe.output.contains("CREATE_COMPLETE"))
        #expect(describe.output.contains("AdminPassword") && describe.output.contains("********"))
        // The stack's resources, each with the status its last event left it in.
        let resources = json(try await nepho.run(["formation:describe", name, "-o", "json"]).output)[
            "resources"]
        let rows = try #require(resources as? [[String: Any]])
        #expect(
            Set(rows.compactMap { $0["logicalID"] as? String }) == ["Topic", "Setting", "Hold"], "\(rows)")
        #expect(rows.allSatisfy { $0["status"] as? String == "CREATE_COMPLETE" }, "\(rows)")
        #expect(describe.output.contains("Resources:") && describe.output.contains("Custom::Hold"))
        #expect(!describe.output.contains("s3cret-value"))
        let database = try Data(contentsOf: nepho.home.appendingPathComponent("state.db"))
        #expect(database.range(of: Data("s3cret-value".utf8)) == nil, "a secret reached the state database")
        try await expectEventsExactlyOnce(nepho, bench, name)

        let open = try await nepho.run(["open", name, "--print-only"])
        #expect(open.output.contains("http://127.0.0.1/bench-demo"))

        let destroy = try await nepho.run(["destroy", name, "--yes"])
        #expect(destroy.status == 0, "\(destroy.errorOutput)")
        #expect(destroy.output.contains("DELETE_COMPLETE"))
    }

    @Test func failureRollsBackAndExitsNonZeroWithTheReason() async throws {
        let (nepho, bench, _) = try await setUp()
        defer { Task { await stop(nepho) } }
        let name = Self.unique("failing")
        try await bench.script(stack: name, stepSeconds: 0.2, failing: [.create: "Setting"])
        let create = try await nepho.run(["formation:create", "bench-demo", "--name", name])
        #expect(create.status != 0)
        #expect(create.output.contains("ROLLBACK"), "\(create.output)")
        #expect(create.errorOutput.contains("Setting"), "\(create.errorOutput)")
        try await expectEventsExactlyOnce(nepho, bench, name)
    }

    @Test func updateThroughAChangeSetThenCancelErrors() async throws {
        let (nepho, _, _) = try await setUp()
        defer { Task { await stop(nepho) } }
        let name = Self.unique("upd")
        let create = try await nepho.run(["formation:create", "bench-demo", "--name", name])
        #expect(create.status == 0, "\(create.errorOutput)")
        let update = try await nepho.run(["formation:update", name, "-p", "Greeting=bye", "--yes"])
        #expect(update.status == 0, "\(update.output)\(update.errorOutput)")
        #expect(update.output.contains("Modify"), "\(update.output)")
        let logs = try await nepho.run(["formation:logs", name])
        #expect(logs.output.contains("update"))
        let describe = try await nepho.run(["formation:describe", name])
        #expect(describe.output.contains("bye"))
        // Nothing is being built: cancel says so.
        let cancel = try await nepho.run(["formation:cancel", name, "--yes"])
        #expect(cancel.status == 5 && cancel.errorOutput.contains("no build in progress"))
    }

    /// Two formations updated in the same second each get their own change set (moto finds
    /// a change set by its name alone: a name made of the second alone executed one stack's
    /// change set for the other).
    @Test func twoFormationsUpdatedAtOnceEachGetTheirOwnChange() async throws {
        let (nepho, bench, _) = try await setUp()
        defer { Task { await stop(nepho) } }
        let names = [Self.unique("twin"), Self.unique("twin")]
        for name in names {
            let create = try await nepho.run(["formation:create", "bench-demo", "--name", name])
            #expect(create.status == 0, "\(create.errorOutput)")
        }
        async let first = nepho.run(["formation:update", names[0], "-p", "Greeting=first", "--yes"])
        async let second = nepho.run(["formation:update", names[1], "-p", "Greeting=second", "--yes"])
        let updates = try await [first, second]
        let cloudFormation = try bench.session().cloudFormation()
        for (name, (update, greeting)) in zip(names, zip(updates, ["first", "second"])) {
            #expect(update.status == 0, "\(update.output)\(update.errorOutput)")
            let stack = try await cloudFormation.describeStacks(name).first
            #expect(stack?.parameters["Greeting"] == greeting, "\(name): \(update.output)")
        }
    }

    @Test func cancelACreateInProgressDeletesIt() async throws {
        let (nepho, _, arn) = try await setUp()
        defer { Task { await stop(nepho) } }
        let name = Self.unique("cancel")
        let create = try await nepho.run([
            "create", "bench-demo/held", "--name", name, "-p", "HoldFunctionArn=\(arn)", "--detach",
        ])
        #expect(create.succeeded, "\(create.errorOutput)")
        let cancel = try await nepho.run(["formation:cancel", name, "--yes"])
        #expect(cancel.status == 0, "\(cancel.errorOutput)")
        let watch = try await nepho.run(["formation:watch", name])
        #expect(
            watch.status == 0 && watch.output.contains("DELETE_COMPLETE"),
            "\(watch.output)\(watch.errorOutput)")
        // The cancelled create no longer reads as in progress (issue 14, item 9).
        let logs = try await nepho.run(["formation:logs", name, "-o", "json"])
        let builds = (try? JSONSerialization.jsonObject(with: logs.standardOutput) as? [String: Any])?[
            "builds"]
        let first = ((builds as? [[String: Any]])?.first?["build"]) as? [String: Any]
        #expect(first?["status"] as? String == "CREATE_FAILED", "\(logs.output)")
        #expect(first?["error"] as? String == "superseded by destroy")
    }

    @Test func errorsAreOneLineWithWhatToDo() async throws {
        let (nepho, _, _) = try await setUp()
        defer { Task { await stop(nepho) } }
        let unknown = try await nepho.run(["create", "no-such-cloudlet"])
        #expect(unknown.status == 3)
        let scenario = try await nepho.run(["create", "bench-demo/no-such-scenario"])
        #expect(scenario.status != 0 && scenario.errorOutput.contains("no-such-scenario"))
        let name = Self.unique("taken")
        #expect(try await nepho.run(["create", "bench-demo", "--name", name]).status == 0)
        let taken = try await nepho.run(["create", "bench-demo", "--name", name])
        #expect(taken.status == 5 && taken.errorOutput.contains("already exists"), "\(taken.errorOutput)")
        var noKeys = nepho.environment
        noKeys["AWS_ACCESS_KEY_ID"] = nil
        noKeys["AWS_SECRET_ACCESS_KEY"] = nil
        let missing = try await ProcessRunner.run(
            NephoBinary.executable,
            ["create", "bench-demo", "--name", Self.unique("nokeys"), "--foreground"],
            environment: noKeys, timeout: 60)
        #expect(
            missing.status == 6 && missing.errorOutput.contains("nepho register"), "\(missing.errorOutput)")
    }

    @Test func killedMonitorIsReplacedAndKilledDaemonIsAdopted() async throws {
        let (nepho, bench, arn) = try await setUp()
        defer { Task { await stop(nepho) } }
        let (name, _, lock) = try await createHeld(nepho, arn, "crash")
        let firstMonitor = try await waitForMonitor(lock, not: nil)
        kill(firstMonitor, SIGKILL)
        let secondMonitor = try await waitForMonitor(lock, not: firstMonitor)
        #expect(secondMonitor != firstMonitor)

        let status = json(try await nepho.run(["daemon:status", "-o", "json"]).output)
        let daemon = try #require(status["pid"] as? Int)
        kill(pid_t(daemon), SIGKILL)
        try await bench.release(stackId: try await stackID(nepho, name), data: ["Message": "done"])
        // The monitor goes on without a daemon; the next command starts one that adopts it.
        let watch = try await nepho.run(["formation:watch", name])
        #expect(watch.status == 0, "\(watch.errorOutput)")
        try await expectEventsExactlyOnce(nepho, bench, name)
    }

    /// The parent of `pid` and the arguments `ps` shows for a process.
    func parentAndArguments(_ pid: pid_t) -> (parent: pid_t, arguments: String) {
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
        let command = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") ?? Data()
        let arguments = String(decoding: command, as: UTF8.self).split(separator: "\0").joined(separator: " ")
        return (fields.count > 1 ? pid_t(fields[1]) ?? 0 : 0, arguments)
    }

    /// Monitors are forked by `nephod monitor-host` (so they share its loaded pages); a
    /// monitor outlives a killed host, and a new host forks the next one.
    @Test func monitorsAreForkedByTheHostAndOutliveIt() async throws {
        let (nepho, bench, arn) = try await setUp()
        defer { Task { await stop(nepho) } }
        let (name, build, lock) = try await createHeld(nepho, arn, "host")
        let monitor = try await waitForMonitor(lock, not: nil)
        let (host, shown) = parentAndArguments(monitor)
        #expect(shown.hasSuffix("nephod monitor \(build)"), "ps shows the monitor's build: \(shown)")
        #expect(parentAndArguments(host).arguments.contains("nephod monitor-host"))

        kill(host, SIGKILL)
        try await Task.sleep(nanoseconds: 300_000_000)
        #expect(kill(monitor, 0) == 0, "a monitor does not die with its host")
        kill(monitor, SIGKILL)
        let next = try await waitForMonitor(lock, not: monitor)
        let nextHost = parentAndArguments(next).parent
        #expect(nextHost != host)
        #expect(parentAndArguments(nextHost).arguments.contains("nephod monitor-host"))

        try await bench.release(stackId: try await stackID(nepho, name), data: ["Message": "done"])
        let watch = try await nepho.run(["formation:watch", name])
        #expect(watch.status == 0, "\(watch.errorOutput)")
        try await expectEventsExactlyOnce(nepho, bench, name)
    }

    @Test func noDaemonNoMonitorsTheNextCommandResumes() async throws {
        let (nepho, bench, arn) = try await setUp()
        defer { Task { await stop(nepho) } }
        let (name, _, lock) = try await createHeld(nepho, arn, "restart")
        let monitor = try await waitForMonitor(lock, not: nil)
        let daemon = json(try await nepho.run(["daemon:status", "-o", "json"]).output)["pid"] as? Int ?? 0
        kill(pid_t(daemon), SIGKILL)
        kill(monitor, SIGKILL)
        try await bench.release(stackId: try await stackID(nepho, name), data: ["Message": "done"])
        let watch = try await nepho.run(["formation:watch", name])
        #expect(watch.status == 0, "\(watch.errorOutput)")
        try await expectEventsExactlyOnce(nepho, bench, name)
    }

    /// The calls that start and end a build outlast throttling longer than the client's own
    /// retries (three tries): a busy account slows a build down, it does not fail it.
    @Test func buildStartingCallsOutlastThrottling() async throws {
        let (nepho, bench, _) = try await setUp()
        defer { Task { await stop(nepho) } }
        let name = Self.unique("persist")
        for action in ["ValidateTemplate", "CreateStack", "DeleteStack"] {
            try await bench.inject(.throttle(), into: action, times: 5)
        }
        let create = try await nepho.run(["create", "bench-demo", "--name", name])
        #expect(create.status == 0, "\(create.errorOutput)")
        // Not on a terminal: nothing said of the wait (scripts read the outcome).
        #expect(!create.errorOutput.contains("throttling"), "\(create.errorOutput)")
        let destroy = try await nepho.run(["destroy", name, "--yes"])
        try await bench.reset()
        #expect(destroy.status == 0, "\(destroy.errorOutput)")
        #expect(destroy.output.contains("DELETE_COMPLETE"), "\(destroy.output)")
    }

    /// On a terminal, a build's start that AWS throttles says so while nepho keeps trying
    /// (the daemon sends the notice at once with its keep-alive), through the daemon and
    /// in the foreground.
    @Test func aThrottledStartSaysSoOnATerminal() async throws {
        let (nepho, bench, _) = try await setUp()
        defer { Task { await stop(nepho) } }
        for foreground in [false, true] {
            let name = Self.unique("told")
            try await bench.inject(.throttle(), into: "CreateStack", times: 3)
            let pty = try PseudoTerminal(columns: 80, rows: 24)
            var environment = nepho.environment
            environment["TERM"] = "xterm"
            let create = try pty.spawn(
                path: NephoBinary.executable,
                arguments: ["create", "bench-demo", "--name", name] + (foreground ? ["--foreground"] : []),
                environment: environment)
            let status = await create.exitStatus(timeout: 120)
            let screen = TerminalScreen(pty.screen()).text
            #expect(status == 0, "\(screen)")
            #expect(
                screen.contains("nepho: AWS is throttling CreateStack; nepho keeps trying for up to 90 s"),
                "foreground \(foreground): \(screen)")
            try await bench.reset()
        }
    }

    @Test func throttledBenchTenConcurrentBuildsAllFinish() async throws {
        let (nepho, bench, _) = try await setUp()
        defer { Task { await stop(nepho) } }
        let names = (0..<10).map { _ in Self.unique("throttle") }
        for name in names { try await bench.script(stack: name, stepSeconds: 0.3) }
        // Throttle about a third of the calls the builds make.
        for action in ["DescribeStackEvents", "DescribeStacks"] {
            try await bench.inject(.throttle(), into: action, times: 40)
        }
        let results = try await withThrowingTaskGroup(of: ProcessResult.self) { group in
            for name in names {
                group.addTask { try await nepho.run(["create", "bench-demo", "--name", name]) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        try await bench.reset()
        for result in results { #expect(result.status == 0, "\(result.errorOutput)") }
        for name in names { try await expectEventsExactlyOnce(nepho, bench, name) }
    }

}
