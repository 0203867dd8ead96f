import Foundation
import NephoAWS
import NephoSupport
import NephoTestBench
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A build is recorded before its provider call (issue 13, item 5; docs/security.md):
/// the daemon killed (-9) while CreateStack, ExecuteChangeSet or DeleteStack is in flight
/// leaves a build whose monitor finds out whether CloudFormation took the call. The real
/// `nepho`, `nephod` and monitors against moto behind the bench, which holds the call:
/// `lateAnswer` (moto acts at once, the answer comes late: taken) or `hang` (the call
/// never reaches moto: not taken). A suite of its own bench: it injects faults.
@Suite(.serialized)
struct LaunchIntentTests {
    static let benches = SharedCloudFormationBench()

    func setUp() async throws -> FormationFixture {
        let fixture = try await FormationFixture.make(on: Self.benches)
        try await fixture.bench.reset()
        // A call not taken is concluded after 5 s, not the 120 s a real CloudFormation gets.
        fixture.nepho.environment["NEPHO_INTENT_GRACE"] = "5"
        return fixture
    }

    /// Runs `arguments` in the background until the bench has seen `action`, then kills
    /// the daemon with SIGKILL, and takes the faults away.
    func killDaemonDuring(_ action: String, _ fixture: FormationFixture, _ arguments: [String]) async throws {
        let started = try await fixture.nepho.run(["formation:list"])  // starts the daemon
        #expect(started.status == 0, "\(started.errorOutput)")
        let daemon = fixture.json(try await fixture.nepho.run(["daemon:status", "-o", "json"]).output)
        let pid = pid_t(try #require(daemon["pid"] as? Int))
        let command = Task { try await fixture.nepho.run(arguments) }
        let deadline = Date().addingTimeInterval(60)
        while try await fixture.bench.calls(action).isEmpty, Date() < deadline {
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        #expect(try await !fixture.bench.calls(action).isEmpty, "\(action) was never called")
        try await Task.sleep(nanoseconds: 300_000_000)
        kill(pid, SIGKILL)
        let killed = try await command.value
        #expect(killed.status != 0, "the command saw its daemon go: \(killed.output)")
        try await fixture.bench.reset()
    }

    /// No stack of that name, or only a deleted one.
    func stackGone(_ fixture: FormationFixture, _ name: String) async -> Bool {
        let status = try? await fixture.stackStatus(name)
        return status == nil || status == "DELETE_COMPLETE"
    }

    /// The create's build ends CREATE_FAILED ("… nothing was made"), no stack is left, and the
    /// name can be created again.
    func expectCreateEndedUnmade(_ fixture: FormationFixture, _ name: String) async throws {
        let watch = try await fixture.nepho.run(["formation:watch", name])
        #expect(watch.status != 0)
        let build = try await lastBuild(fixture, name)
        #expect(build["status"] as? String == "CREATE_FAILED", "\(build)")
        #expect((build["error"] as? String ?? "").contains("nothing was made"), "\(build)")
        #expect(await stackGone(fixture, name))
        let again = try await fixture.nepho.run(["formation:create", "bench-demo", "--name", name])
        #expect(again.status == 0, "the name is free again: \(again.errorOutput)")
    }

    func lastBuild(_ fixture: FormationFixture, _ name: String) async throws -> [String: Any] {
        let builds = try await fixture.describe(name)["builds"] as? [[String: Any]] ?? []
        return builds.last ?? [:]
    }

    @Test func aStackCreatedAsTheDaemonDiedIsAFormationItWatchesAndDestroys() async throws {
        let fixture = try await setUp()
        defer { Task { await fixture.stop() } }
        let name = FormationFixture.unique("intent")
        try await fixture.bench.inject(.lateAnswer(seconds: 120), into: "CreateStack", times: 1)
        try await killDaemonDuring(
            "CreateStack", fixture, ["formation:create", "bench-demo", "--name", name, "--detach"])
        // The next command starts a daemon; the build's monitor finds the stack.
        let watch = try await fixture.nepho.run(["formation:watch", name])
        #expect(watch.status == 0, "\(watch.output)\(watch.errorOutput)")
        #expect(watch.output.contains("CREATE_COMPLETE"), "\(watch.output)")
        let stack = try await fixture.bench.session().cloudFormation().describeStacks(name).first
        #expect(try await fixture.describe(name)["stackID"] as? String == stack?.stackId)
        let destroy = try await fixture.nepho.run(["formation:destroy", name, "--yes"])
        #expect(destroy.status == 0, "\(destroy.output)\(destroy.errorOutput)")
        #expect(await stackGone(fixture, name))
    }

    /// After the crash, the first command to come may carry other credentials or another
    /// region (it gives the new daemon its context): the monitor must not take "no stack
    /// there" for "no stack", nor free the name of a stack that exists.
    @Test func aMonitorWithAnotherRegionLeavesTheIntentOpen() async throws {
        let fixture = try await setUp()
        defer { Task { await fixture.stop() } }
        let name = FormationFixture.unique("elsewhere")
        try await fixture.bench.inject(.lateAnswer(seconds: 120), into: "CreateStack", times: 1)
        try await killDaemonDuring(
            "CreateStack", fixture, ["formation:create", "bench-demo", "--name", name, "--detach"])
        var elsewhere = fixture.nepho.environment
        elsewhere["AWS_REGION"] = "eu-west-1"
        elsewhere["AWS_DEFAULT_REGION"] = "eu-west-1"
        let other = try await ProcessRunner.run(
            NephoBinary.executable, ["formation:list"], environment: elsewhere, timeout: 60)
        #expect(other.status == 0, "\(other.errorOutput)")
        try await Task.sleep(nanoseconds: 6_000_000_000)
        let build = try await lastBuild(fixture, name)
        #expect(build["status"] as? String == "CREATE_IN_PROGRESS", "\(build)")
        #expect(build["finishedAt"] == nil || build["finishedAt"] is NSNull, "\(build)")
        #expect(await !stackGone(fixture, name), "the stack was made in us-east-1")
    }

    @Test func aCreateCloudFormationNeverGotEndsFailedAndFreesTheName() async throws {
        let fixture = try await setUp()
        defer { Task { await fixture.stop() } }
        let name = FormationFixture.unique("untaken")
        try await fixture.bench.inject(.hang(seconds: 120), into: "CreateStack", times: 1)
        try await killDaemonDuring(
            "CreateStack", fixture, ["formation:create", "bench-demo", "--name", name, "--detach"])
        try await expectCreateEndedUnmade(fixture, name)
    }

    @Test func anUpdateCloudFormationNeverGotEndsFailedAndChangesNothing() async throws {
        let fixture = try await setUp()
        defer { Task { await fixture.stop() } }
        let name = FormationFixture.unique("upd")
        #expect(try await fixture.nepho.run(["formation:create", "bench-demo", "--name", name]).status == 0)
        try await fixture.bench.inject(.hang(seconds: 120), into: "ExecuteChangeSet", times: 1)
        try await killDaemonDuring(
            "ExecuteChangeSet", fixture, ["formation:update", name, "-p", "Greeting=bye", "--yes"])
        _ = try await fixture.nepho.run(["formation:watch", name])
        let build = try await lastBuild(fixture, name)
        #expect(build["operation"] as? String == "update" && build["status"] as? String == "UPDATE_FAILED")
        #expect((build["error"] as? String ?? "").contains("nothing was changed"), "\(build)")
        #expect(try await fixture.describe(name)["status"] as? String == "CREATE_COMPLETE")
        let update = try await fixture.nepho.run(["formation:update", name, "-p", "Greeting=bye", "--yes"])
        #expect(update.status == 0, "\(update.output)\(update.errorOutput)")
    }

    @Test func anUpdateTakenAsTheDaemonDiedIsFollowedToItsEnd() async throws {
        let fixture = try await setUp()
        defer { Task { await fixture.stop() } }
        let name = FormationFixture.unique("taken")
        #expect(try await fixture.nepho.run(["formation:create", "bench-demo", "--name", name]).status == 0)
        try await fixture.bench.inject(.lateAnswer(seconds: 120), into: "ExecuteChangeSet", times: 1)
        try await killDaemonDuring(
            "ExecuteChangeSet", fixture, ["formation:update", name, "-p", "Greeting=bye", "--yes"])
        let watch = try await fixture.nepho.run(["formation:watch", name])
        #expect(watch.status == 0, "\(watch.output)\(watch.errorOutput)")
        let build = try await lastBuild(fixture, name)
        #expect(
            build["operation"] as? String == "update" && build["status"] as? String == "UPDATE_COMPLETE",
            "\(build)")
        let stack = try await fixture.bench.session().cloudFormation().describeStacks(name).first
        #expect(stack?.parameters["Greeting"] == "bye")
    }

    @Test func aDestroyAsTheDaemonDiedGoesOnToTheEnd() async throws {
        let fixture = try await setUp()
        defer { Task { await fixture.stop() } }
        let name = FormationFixture.unique("gone")
        #expect(try await fixture.nepho.run(["formation:create", "bench-demo", "--name", name]).status == 0)
        try await fixture.bench.inject(.hang(seconds: 120), into: "DeleteStack", times: 1)
        try await killDaemonDuring("DeleteStack", fixture, ["formation:destroy", name, "--yes", "--detach"])
        let watch = try await fixture.nepho.run(["formation:watch", name])
        #expect(watch.status == 0, "\(watch.output)\(watch.errorOutput)")
        let build = try await lastBuild(fixture, name)
        #expect(build["operation"] as? String == "destroy" && build["status"] as? String == "DELETE_COMPLETE")
        #expect(await stackGone(fixture, name))
        let again = try await fixture.nepho.run(["formation:create", "bench-demo", "--name", name])
        #expect(again.status == 0, "the name is free again: \(again.errorOutput)")
    }

    /// CreateStack reached CloudFormation, but its answer was lost on every try (the
    /// connection broke each time): the stack is made, so the formation stays, and its
    /// monitor finds the stack as the build's and follows it.
    @Test func aCreateWhoseAnswerIsLostOnEveryTryStaysAFormationItFollows() async throws {
        let fixture = try await setUp()
        defer { Task { await fixture.stop() } }
        let name = FormationFixture.unique("unanswered")
        try await fixture.bench.inject(.dropAnswer, into: "CreateStack", times: -1)
        let create = try await fixture.nepho.run([
            "formation:create", "bench-demo", "--name", name, "--detach",
        ])
        #expect(create.status != 0, "\(create.output)")
        #expect(create.errorOutput.contains("CloudFormation may have taken the create all the same"), "\(create.errorOutput)")
        #expect(try await fixture.bench.calls("CreateStack").count > 1, "CreateStack was tried again first")
        try await fixture.bench.reset()
        let watch = try await fixture.nepho.run(["formation:watch", name])
        #expect(watch.status == 0, "\(watch.output)\(watch.errorOutput)")
        #expect(watch.output.contains("CREATE_COMPLETE"), "\(watch.output)")
        let stack = try await fixture.bench.session().cloudFormation().describeStacks(name).first
        let recorded = try await fixture.describe(name)["stackID"] as? String
        #expect(stack != nil && recorded == stack?.stackId)
        let destroy = try await fixture.nepho.run(["formation:destroy", name, "--yes"])
        #expect(destroy.status == 0, "\(destroy.output)\(destroy.errorOutput)")
        #expect(await stackGone(fixture, name))
    }

    /// The first try's answer lost, the later ones throttled past nepho's patience: the last
    /// error says nothing of the first try, which CloudFormation took (libcurl even sends
    /// the request again by itself when a reused connection breaks before the answer, so
    /// nepho may never see the loss). The formation stays.
    @Test func aCreateWhoseFirstAnswerWasLostAndThenThrottledStaysAFormation() async throws {
        let fixture = try await setUp()
        defer { Task { await fixture.stop() } }
        fixture.nepho.environment["NEPHO_THROTTLE_BUDGET"] = "2"
        let name = FormationFixture.unique("flaky")
        try await fixture.bench.inject(.dropAnswer, into: "CreateStack", times: 1)
        try await fixture.bench.inject(.throttle(), into: "CreateStack", times: -1)
        let create = try await fixture.nepho.run([
            "formation:create", "bench-demo", "--name", name, "--detach",
        ])
        #expect(create.status != 0 && create.errorOutput.contains("may have taken"), "\(create.errorOutput)")
        try await fixture.bench.reset()
        let watch = try await fixture.nepho.run(["formation:watch", name])
        #expect(
            watch.status == 0 && watch.output.contains("CREATE_COMPLETE"),
            "\(watch.output)\(watch.errorOutput)")
    }

    /// CloudFormation may make a stack a little after an unanswered call (its answer was a
    /// 503): the monitor looks for `NEPHO_INTENT_GRACE` seconds before it says "nothing was
    /// made". Here the stack appears 2 s after the command gave up.
    @Test func aStackAppearingAfterAnUnansweredCreateIsStillTheBuilds() async throws {
        let fixture = try await setUp()
        defer { Task { await fixture.stop() } }
        fixture.nepho.environment["NEPHO_INTENT_GRACE"] = "30"
        let name = FormationFixture.unique("late")
        try await fixture.bench.inject(.status(503), into: "CreateStack", times: -1)
        let create = try await fixture.nepho.run([
            "formation:create", "bench-demo", "--name", name, "--detach",
        ])
        #expect(create.status != 0 && create.errorOutput.contains("may have taken"), "\(create.errorOutput)")
        try await fixture.bench.reset()
        try await Task.sleep(nanoseconds: 2_000_000_000)
        var request = StackRequest(
            stackName: name, template: .body(#"{"Resources":{"T":{"Type":"AWS::SNS::Topic"}}}"#))
        request.tags = [StackTag(key: "CreatedBy", value: "nepho")]
        let stackID = try await fixture.bench.session().cloudFormation().createStack(request)
        let watch = try await fixture.nepho.run(["formation:watch", name])
        #expect(
            watch.status == 0 && watch.output.contains("CREATE_COMPLETE"),
            "\(watch.output)\(watch.errorOutput)")
        #expect(try await fixture.describe(name)["stackID"] as? String == stackID)
    }

    /// CreateStack answered 503 on every try (it never reached CloudFormation here): the
    /// formation is kept until its monitor has asked, then ends failed and frees the name.
    @Test func aCreateAnswered503OnEveryTryEndsFailedOnceNothingIsFound() async throws {
        let fixture = try await setUp()
        defer { Task { await fixture.stop() } }
        let name = FormationFixture.unique("unmade")
        try await fixture.bench.inject(.status(503), into: "CreateStack", times: -1)
        let create = try await fixture.nepho.run([
            "formation:create", "bench-demo", "--name", name, "--detach",
        ])
        #expect(create.status != 0 && create.errorOutput.contains("may have taken"), "\(create.errorOutput)")
        try await fixture.bench.reset()
        try await expectCreateEndedUnmade(fixture, name)
    }

    /// A create recovered after the daemon died during CreateStack follows its provisioner's
    /// phases as any other: the phase record's object is recorded with the build's intent,
    /// before the call (docs/provisioners.md).
    @Test func aRecoveredCreateFollowsItsPhaseRecord() async throws {
        let fixture = try await setUp()
        defer { Task { await fixture.stop() } }
        fixture.nepho.environment["NEPHO_MONITOR_PHASE_INTERVAL"] = "1"
        fixture.addScenario(
            "phased", pattern: PhaseRecordEndToEndTests.pattern,
            extra: "parameters:\n  HoldFunctionArn:\n    description: the bench's hold function")
        let arn = try await fixture.bench.holdFunction()
        let name = FormationFixture.unique("phased")
        try await fixture.bench.inject(.lateAnswer(seconds: 120), into: "CreateStack", times: 1)
        try await killDaemonDuring(
            "CreateStack", fixture,
            [
                "formation:create", "bench-demo/phased", "--name", name, "-p", "HoldFunctionArn=\(arn)",
                "--detach",
            ])
        // The next command starts a daemon; the build's monitor finds the stack as the build's.
        var recorded: String?
        for _ in 0..<300 where recorded == nil {
            recorded = try await fixture.describe(name)["stackID"] as? String
            if recorded == nil { try await Task.sleep(nanoseconds: 200_000_000) }
        }
        let stack = try #require(
            try await fixture.bench.session().cloudFormation().describeStacks(name).first)
        #expect(recorded == stack.stackId)
        let phaseURL = try #require(stack.parameters["NephoPhaseURL"])
        let build = try #require((try await lastBuild(fixture, name))["id"] as? Int)

        let folder = fixture.nepho.home.deletingLastPathComponent().appendingPathComponent("instance")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: folder.appendingPathComponent("go").path, contents: Data())
        let ran = try await ProcessRunner.run(
            "bash", ["-c", try PhaseRecordEndToEndTests.handOff(folder: folder, phaseURL: phaseURL)],
            environment: [
                "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
                "NEPHO_SIGNAL_RETRIES": "0",
            ], timeout: 600)
        #expect(ran.status == 0, "\(ran.errorOutput)")
        try await fixture.bench.release(stackId: stack.stackId, data: ["Message": "done"])
        let watch = try await fixture.nepho.run(["formation:watch", name, "-o", "json"])
        #expect(watch.status == 0, "\(watch.output)\(watch.errorOutput)")
        let phases = watch.output.split(separator: "\n").map { fixture.json(String($0)) }
            .filter { $0["logicalID"] as? String == "Provisioner" }.compactMap { $0["status"] as? String }
        #expect(
            phases == ["PHASE 1/2", "PHASE 2/2", "PROVISIONER_SUCCESS"], "build \(build): \(watch.output)")
    }
}
