import Foundation
import NephoAWS
import NephoSupport
import NephoTestBench
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Pushed stack events end to end (docs/aws.md, "Stack events"): the real `nepho`,
/// `nephod` and monitors against moto's CloudFormation, SNS and SQS behind the bench.
/// A suite of its own bench: it injects faults and counts calls.
@Suite(.serialized)
struct FormationEventPushTests {
    static let benches = SharedCloudFormationBench()

    func setUp(_ extra: [String: String] = [:]) async throws -> (FormationFixture, String) {
        let fixture = try await FormationFixture.make(on: Self.benches)
        try await fixture.bench.reset()
        fixture.nepho.environment["NEPHO_EVENTS"] = nil  // push: what these tests are about
        // These tests count calls: the monitors' safety-net look is the default 600 s, not the
        // 10 s the other CLI suites use (a look during a test is a call it did not expect).
        fixture.nepho.environment["NEPHO_MONITOR_PUSH_CHECK_INTERVAL"] = nil
        for (key, value) in extra { fixture.nepho.environment[key] = value }
        return (fixture, try await fixture.bench.holdFunction())
    }

    func createHeld(_ fixture: FormationFixture, _ arn: String, _ prefix: String) async throws -> (
        String, URL
    ) {
        let name = FormationFixture.unique(prefix)
        let create = try await fixture.nepho.run([
            "create", "bench-demo/held", "--name", name, "-p", "HoldFunctionArn=\(arn)", "--detach",
        ])
        #expect(create.succeeded, "\(create.errorOutput)")
        let builds = try await fixture.describe(name)["builds"] as? [[String: Any]] ?? []
        let build = builds.last?["id"] as? Int ?? 0
        return (name, fixture.nepho.home.appendingPathComponent("builds/\(build).lock"))
    }

    func stackID(_ fixture: FormationFixture, _ name: String) async throws -> String {
        try #require(try await fixture.describe(name)["stackID"] as? String)
    }

    /// Stored event ids of every build, and DescribeStackEvents' ids.
    func eventIDs(_ fixture: FormationFixture, _ name: String) async throws -> (
        stored: [String], actual: [String]
    ) {
        let logs = fixture.json(try await fixture.nepho.run(["formation:logs", name, "-o", "json"]).output)
        let stored = (logs["builds"] as? [[String: Any]] ?? []).flatMap { build in
            (build["events"] as? [[String: Any]] ?? []).compactMap {
                ($0["event"] as? [String: Any])?["eventID"] as? String
            }
        }
        let stack = try await stackID(fixture, name)
        let actual = try await fixture.bench.session().cloudFormation().describeStackEvents(stack).map(
            \.eventId)
        return (stored, actual)
    }

    func count(_ fixture: FormationFixture, _ action: String) async throws -> Int {
        try await fixture.bench.calls(action).count
    }

    /// The formation's status in `formation:list --all` (destroyed ones are listed with --all).
    func status(_ fixture: FormationFixture, _ name: String) async throws -> String? {
        let list = fixture.json(
            try await fixture.nepho.run(["formation:list", "--all", "-o", "json"]).output)
        return (list["formations"] as? [[String: Any]] ?? []).first { $0["name"] as? String == name }?[
            "status"]
            as? String
    }

    /// `--foreground`, no daemon: the command's own process long-polls the queue, so the
    /// build it creates and watches hears its events pushed (without it, nothing reads the
    /// queue and the build waits for its monitor's first-event check, 600 s here).
    @Test func aForegroundCreateHearsItsBuildThroughTheQueue() async throws {
        let (fixture, arn) = try await setUp(["NEPHO_MONITOR_FIRST_EVENT_WAIT": "600"])
        defer { Task { await fixture.stop() } }
        let name = FormationFixture.unique("fg")
        let started = Date()
        let create = Task {
            try await fixture.nepho.run([
                "--foreground", "create", "bench-demo/held", "--name", name, "-p", "HoldFunctionArn=\(arn)",
            ])
        }
        let cloudFormation = try fixture.bench.session().cloudFormation()
        var stack: String?
        while stack == nil, Date().timeIntervalSince(started) < 60 {
            try await Task.sleep(nanoseconds: 200_000_000)
            stack = (try? await cloudFormation.describeStacks(name))?.first?.stackId
        }
        let stackID = try #require(stack, "the stack was never made")
        // Released once moto holds the resource (a release before it would be lost) and the
        // command's poller has had an answer.
        while Date().timeIntervalSince(started) < 60 {
            let held = try await fixture.bench.pendingCustomResources(stackId: stackID) == ["Hold"]
            if held, try await count(fixture, "ReceiveMessage") > 0 { break }
            try await Task.sleep(nanoseconds: 200_000_000)
        }
        try await fixture.bench.release(stackId: stackID, data: ["Message": "done"])
        let created = try await create.value
        #expect(created.status == 0, "\(created.output)\(created.errorOutput)")
        #expect(created.output.contains("create finished: CREATE_COMPLETE"), "\(created.output)")
        #expect(Date().timeIntervalSince(started) < 120, "heard through the queue, not after 600 s")
        #expect(try await count(fixture, "DescribeStackEvents") == 1, "one reconciling pass at the end")
        #expect(!created.errorOutput.contains("arrive through"), "the queue's news stay off the terminal")
        let daemon = try await fixture.nepho.run(["daemon:status", "--no-autostart"])
        #expect(daemon.status != 0, "no daemon ran: \(daemon.output)")
    }

    @Test func eventsArriveThroughTheQueueWithNoDescribeStackEventsUntilTheEnd() async throws {
        let (fixture, arn) = try await setUp()
        defer { Task { await fixture.stop() } }
        let (name, lock) = try await createHeld(fixture, arn, "push")
        _ = try await waitForMonitor(lock, not: nil)
        // The topic and the queue are in place and the daemon long-polls the queue.
        let status = try await fixture.nepho.run(["events:status", "-o", "json"])
        #expect(status.succeeded, "\(status.errorOutput)")
        let channels = fixture.json(status.output)["channels"] as? [[String: Any]] ?? []
        #expect(channels.first?["mode"] as? String == "push", "\(status.output)")
        try await Task.sleep(nanoseconds: 3_000_000_000)
        #expect(try await count(fixture, "ReceiveMessage") >= 1)
        #expect(try await count(fixture, "DescribeStackEvents") == 0)
        #expect(try await count(fixture, "ListStacks") == 0)
        #expect(try await count(fixture, "DescribeStacks") == 0)

        let started = Date()
        let watch = Task { try await fixture.nepho.run(["formation:watch", name]) }
        try await fixture.bench.release(stackId: try await stackID(fixture, name), data: ["Message": "done"])
        let watched = try await watch.value
        #expect(watched.status == 0, "\(watched.errorOutput)")
        #expect(watched.output.contains("CREATE_COMPLETE"))
        #expect(
            Date().timeIntervalSince(started) < 25,
            "pushed, not the 30 s first-event check nor the 600 s safety net")
        // One reconciling pass at the end.
        #expect(try await count(fixture, "DescribeStackEvents") == 1)
        let (stored, actual) = try await eventIDs(fixture, name)
        #expect(Set(stored).count == stored.count, "an event was stored twice")
        #expect(Set(stored) == Set(actual))
    }

    @Test func daemonKilledBetweenAMessagesArrivalAndItsCommitStoresEveryEventOnce() async throws {
        let (fixture, arn) = try await setUp(["NEPHO_EVENTS_VISIBILITY_TIMEOUT": "3"])
        defer { Task { await fixture.stop() } }
        let (name, lock) = try await createHeld(fixture, arn, "crash")
        _ = try await waitForMonitor(lock, not: nil)
        // From now on moto hands messages out at once, and the daemon gets them 60 s later.
        try await fixture.bench.inject(.lateAnswer(seconds: 60), into: "ReceiveMessage", times: -1)
        let deadline = Date().addingTimeInterval(40)
        while try await fixture.bench.calls("ReceiveMessage").allSatisfy({ $0.fault != "late" }),
            Date() < deadline
        {
            try await Task.sleep(nanoseconds: 200_000_000)
        }
        try await fixture.bench.release(stackId: try await stackID(fixture, name), data: ["Message": "done"])
        #expect(try await fixture.stackStatus(name) == "CREATE_COMPLETE")
        try await Task.sleep(nanoseconds: 1_000_000_000)
        // The messages are in flight (received, hidden, not stored): kill -9 the daemon.
        let daemon = fixture.json(try await fixture.nepho.run(["daemon:status", "-o", "json"]).output)
        kill(pid_t(try #require(daemon["pid"] as? Int)), SIGKILL)
        try await fixture.bench.reset()
        // The next command starts a daemon; the queue hands the messages out again.
        let started = Date()
        let watch = try await fixture.nepho.run(["formation:watch", name])
        #expect(watch.status == 0, "\(watch.errorOutput)")
        // Handed out again after the 3 s visibility timeout, to the new daemon.
        #expect(Date().timeIntervalSince(started) < 30)
        #expect(try await count(fixture, "ReceiveMessage") >= 1)
        #expect(try await count(fixture, "DescribeStackEvents") == 1)
        let (stored, actual) = try await eventIDs(fixture, name)
        #expect(Set(stored).count == stored.count, "an event was stored twice")
        #expect(Set(stored) == Set(actual))
    }

    /// A busy account does not turn push off: each step of setting up the topic and the
    /// queue outlasts AWS throttling it, as the calls that start a build do.
    @Test func aThrottledSetUpStillEndsWithEventsPushed() async throws {
        let (fixture, arn) = try await setUp()
        defer { Task { await fixture.stop() } }
        for action in ["CreateTopic", "CreateQueue", "Subscribe"] {
            try await fixture.bench.inject(.throttle(), into: action, times: 4)
        }
        _ = try await createHeld(fixture, arn, "busy")
        let status = fixture.json(try await fixture.nepho.run(["events:status", "-o", "json"]).output)
        let channels = status["channels"] as? [[String: Any]] ?? []
        #expect(channels.first?["mode"] as? String == "push", "\(status)")
        #expect(try await fixture.bench.calls("CreateTopic").count >= 5)
    }

    @Test func withSNSDeniedBuildsAreFollowedByPollingAndStatusSaysWhy() async throws {
        let (fixture, arn) = try await setUp()
        defer { Task { await fixture.stop() } }
        try await fixture.bench.inject(
            .error(
                status: 403, code: "AuthorizationError",
                message:
                    "User: arn:aws:iam::123456789012:user/test is not authorized to perform: SNS:CreateTopic"),
            into: "CreateTopic", times: -1)
        let (name, _) = try await createHeld(fixture, arn, "denied")
        let status = try await fixture.nepho.run(["events:status"])
        #expect(status.output.contains("poll"), "\(status.output)")
        #expect(status.output.contains("sns:CreateTopic"), "\(status.output)")
        let watch = Task { try await fixture.nepho.run(["formation:watch", name]) }
        try await Task.sleep(nanoseconds: 2_000_000_000)
        try await fixture.bench.release(stackId: try await stackID(fixture, name), data: ["Message": "done"])
        let watched = try await watch.value
        #expect(watched.status == 0 && watched.output.contains("CREATE_COMPLETE"), "\(watched.errorOutput)")
        // The build's log says once why its events are polled.
        #expect(watched.output.contains("no permission for sns:CreateTopic"), "\(watched.output)")
        #expect(try await count(fixture, "ReceiveMessage") == 0)
        #expect(try await count(fixture, "ListStacks") >= 1)
        // Never every stack of the account: DescribeStacks only by name.
        #expect(try await fixture.bench.calls("DescribeStacks").count <= 20)
        let (stored, actual) = try await eventIDs(fixture, name)
        #expect(
            Set(stored.filter { !$0.hasPrefix("nepho-") }) == Set(actual) && Set(stored).count == stored.count
        )

        // Without the queue, describe asks CloudFormation (one call) and says when.
        try await fixture.bench.session().cloudFormation().deleteStack(try await stackID(fixture, name))
        let before = try await fixture.bench.calls("DescribeStacks").count
        let detail = try await fixture.describe(name)
        #expect(detail["status"] as? String == "DELETE_COMPLETE", "\(detail)")
        #expect(detail["confirmedAt"] as? String != nil)
        #expect(try await fixture.bench.calls("DescribeStacks").count == before + 1)
    }

    @Test func aStackDeletedOutsideNephoShowsDeletedWithinSeconds() async throws {
        let (fixture, arn) = try await setUp()
        defer { Task { await fixture.stop() } }
        let (name, lock) = try await createHeld(fixture, arn, "outside")
        _ = try await waitForMonitor(lock, not: nil)
        try await fixture.bench.release(stackId: try await stackID(fixture, name), data: ["Message": "done"])
        #expect(try await fixture.nepho.run(["formation:watch", name]).status == 0)
        #expect(try await status(fixture, name) == "CREATE_COMPLETE")

        try await fixture.bench.session().cloudFormation().deleteStack(try await stackID(fixture, name))
        let deadline = Date().addingTimeInterval(10)
        var seen = try await status(fixture, name)
        while seen != "DELETE_COMPLETE", Date() < deadline {
            try await Task.sleep(nanoseconds: 250_000_000)
            seen = try await status(fixture, name)
        }
        #expect(seen == "DELETE_COMPLETE")
        // Pushed: describe makes no call and says when the queue was last polled.
        let before = try await fixture.bench.calls("DescribeStacks").count
        let detail = try await fixture.describe(name)
        #expect(detail["confirmedAt"] as? String != nil, "\(detail)")
        #expect(try await fixture.bench.calls("DescribeStacks").count == before)
    }

    @Test func removeTakesTheQueueAndSubscriptionDown() async throws {
        let (fixture, arn) = try await setUp()
        defer { Task { await fixture.stop() } }
        let (name, lock) = try await createHeld(fixture, arn, "remove")
        _ = try await waitForMonitor(lock, not: nil)
        let session = try fixture.bench.session()
        let queues = fixture.json(try await fixture.nepho.run(["events:status", "-o", "json"]).output)
        let queue = try #require((queues["channels"] as? [[String: Any]])?.first?["queueURL"] as? String)
        let remove = try await fixture.nepho.run(["events:remove", "--yes"])
        #expect(remove.status == 0, "\(remove.output)\(remove.errorOutput)")
        #expect(try await session.sqs().queueURL(name: (queue as NSString).lastPathComponent) == nil)
        let after = fixture.json(try await fixture.nepho.run(["events:status", "-o", "json"]).output)
        #expect((after["channels"] as? [[String: Any]] ?? []).allSatisfy { $0["mode"] as? String != "push" })
        // The build goes on, polled, to its end (and leaves no monitor behind).
        try await fixture.bench.release(stackId: try await stackID(fixture, name), data: ["Message": "done"])
        let watch = try await fixture.nepho.run(["formation:watch", name])
        #expect(watch.status == 0 && watch.output.contains("CREATE_COMPLETE"), "\(watch.errorOutput)")
    }

    /// `NEPHO_EVENTS=eventbridge`: a rule on the default bus also sends CloudFormation's
    /// events to the queue. The bench puts each stack event on moto's EventBridge as
    /// CloudFormation would (moto's CloudFormation does not); moto's rule hands it to the queue.
    func eventBridgeChannel(_ fixture: FormationFixture) async throws -> [String: Any] {
        let status = try await fixture.nepho.run(["events:status", "-o", "json"])
        #expect(status.succeeded, "\(status.errorOutput)")
        return (fixture.json(status.output)["channels"] as? [[String: Any]])?.first ?? [:]
    }

    /// The queue's subscription taken away outside nepho: SNS brings nothing, though the
    /// daemon still long-polls its queue. A build with no event stored after its first
    /// seconds looks once, finds the stack's events, and is polled to its end instead of
    /// waiting for the 600 s safety net.
    @Test func aBuildWhoseEventsTheQueueDoesNotBringIsPolledAfterItsFirstSeconds() async throws {
        let (fixture, arn) = try await setUp(["NEPHO_MONITOR_FIRST_EVENT_WAIT": "3"])
        defer { Task { await fixture.stop() } }
        let (first, firstLock) = try await createHeld(fixture, arn, "subscribed")
        _ = try await waitForMonitor(firstLock, not: nil)
        let channel = try await eventBridgeChannel(fixture)
        let subscription = try #require(channel["subscriptionArn"] as? String)
        try await fixture.bench.session().sns().unsubscribe(subscriptionArn: subscription)

        let (name, lock) = try await createHeld(fixture, arn, "unheard")
        _ = try await waitForMonitor(lock, not: nil)
        let deadline = Date().addingTimeInterval(30)
        while try await count(fixture, "DescribeStackEvents") == 0, Date() < deadline {
            try await Task.sleep(nanoseconds: 250_000_000)
        }
        #expect(try await count(fixture, "DescribeStackEvents") >= 1)
        let started = Date()
        let watch = Task { try await fixture.nepho.run(["formation:watch", name]) }
        try await fixture.bench.release(stackId: try await stackID(fixture, name), data: ["Message": "done"])
        let watched = try await watch.value
        #expect(watched.status == 0 && watched.output.contains("CREATE_COMPLETE"), "\(watched.errorOutput)")
        #expect(Date().timeIntervalSince(started) < 30)
        let (stored, actual) = try await eventIDs(fixture, name)
        #expect(Set(stored).count == stored.count, "an event was stored twice")
        #expect(Set(stored) == Set(actual), "\(stored) \(actual)")
        // The build's monitor says why in its log.
        let logs = fixture.nepho.home.appendingPathComponent("log")
        let log = try FileManager.default.contentsOfDirectory(atPath: logs.path).filter {
            $0.hasPrefix("monitor-")
        }
        .compactMap { try? String(contentsOf: logs.appendingPathComponent($0), encoding: .utf8) }.joined()
        #expect(log.contains("did not bring; following it by polling"), "\(log.suffix(2000))")
        try await fixture.bench.release(stackId: try await stackID(fixture, first), data: ["Message": "done"])
    }

    @Test func eventsPushedBothWaysAreStoredOnceUnderCloudFormationsIds() async throws {
        let (fixture, arn) = try await setUp(["NEPHO_EVENTS": "eventbridge"])
        defer { Task { await fixture.stop() } }
        try await fixture.bench.sendEventBridgeEvents()
        let (name, lock) = try await createHeld(fixture, arn, "bridge")
        _ = try await waitForMonitor(lock, not: nil)
        let channel = try await eventBridgeChannel(fixture)
        let rule = try #require(channel["ruleArn"] as? String, "\(channel)")
        #expect(rule.contains(":rule/nepho-stack-events-"))
        #expect(try await count(fixture, "PutRule") == 1)
        #expect(try await count(fixture, "PutTargets") == 1)
        let human = try await fixture.nepho.run(["events:status"])
        #expect(human.output.contains("rule:") && human.output.contains("EventBridge"), "\(human.output)")
        // The queue lets the rule send to it, beside the topic.
        let session = try fixture.bench.session()
        let queue = try #require(channel["queueURL"] as? String)
        let policy = try await session.sqs().queueAttributes(url: queue, names: ["Policy"])["Policy"] ?? ""
        #expect(policy.contains("events.amazonaws.com") && policy.contains(rule), "\(policy)")
        #expect(
            try await session.eventBridge().targets(rule: (rule as NSString).lastPathComponent).values
                .contains {
                    $0 == channel["queueArn"] as? String
                })

        let watch = Task { try await fixture.nepho.run(["formation:watch", name]) }
        try await fixture.bench.release(stackId: try await stackID(fixture, name), data: ["Message": "done"])
        let watched = try await watch.value
        #expect(watched.status == 0 && watched.output.contains("CREATE_COMPLETE"), "\(watched.errorOutput)")
        #expect(try await count(fixture, "DescribeStackEvents") == 1)
        // Every event came twice (SNS and EventBridge): each is stored once, under CloudFormation's EventId.
        let (stored, actual) = try await eventIDs(fixture, name)
        #expect(Set(stored).count == stored.count, "an event was stored twice")
        #expect(Set(stored) == Set(actual), "\(stored) \(actual)")
    }

    /// A stack whose NotificationARNs do not name nepho's topic (here: the queue's
    /// subscription taken away, so SNS brings nothing) is followed through the rule alone.
    @Test func theRuleAloneBringsABuildsEventsAndRemoveTakesItDown() async throws {
        let (fixture, arn) = try await setUp(["NEPHO_EVENTS": "eventbridge"])
        defer { Task { await fixture.stop() } }
        try await fixture.bench.sendEventBridgeEvents()
        let session = try fixture.bench.session()
        let (name, lock) = try await createHeld(fixture, arn, "ruled")
        _ = try await waitForMonitor(lock, not: nil)
        let channel = try await eventBridgeChannel(fixture)
        let subscription = try #require(channel["subscriptionArn"] as? String)
        try await session.sns().unsubscribe(subscriptionArn: subscription)
        try await Task.sleep(nanoseconds: 2_000_000_000)
        #expect(try await count(fixture, "DescribeStackEvents") == 0)

        let started = Date()
        let watch = Task { try await fixture.nepho.run(["formation:watch", name]) }
        try await fixture.bench.release(stackId: try await stackID(fixture, name), data: ["Message": "done"])
        let watched = try await watch.value
        #expect(watched.status == 0 && watched.output.contains("CREATE_COMPLETE"), "\(watched.errorOutput)")
        #expect(
            Date().timeIntervalSince(started) < 25, "brought by the rule, not by the 30 s first-event check")
        #expect(try await count(fixture, "DescribeStackEvents") == 1)
        let (stored, actual) = try await eventIDs(fixture, name)
        #expect(Set(stored).count == stored.count, "an event was stored twice")
        #expect(Set(stored) == Set(actual), "\(stored) \(actual)")

        // Deleted outside nepho: the rule tells it too.
        try await session.cloudFormation().deleteStack(try await stackID(fixture, name))
        let deadline = Date().addingTimeInterval(10)
        var seen = try await status(fixture, name)
        while seen != "DELETE_COMPLETE", Date() < deadline {
            try await Task.sleep(nanoseconds: 250_000_000)
            seen = try await status(fixture, name)
        }
        #expect(seen == "DELETE_COMPLETE")

        let rule = try #require(channel["ruleArn"] as? String)
        let remove = try await fixture.nepho.run(["events:remove", "--yes"])
        #expect(remove.status == 0 && remove.output.contains(rule), "\(remove.output)\(remove.errorOutput)")
        #expect(
            try await session.eventBridge().describeRule(name: (rule as NSString).lastPathComponent) == nil)
    }

    @Test func withEventBridgeDeniedEventsStillComeThroughSNSAndTheBuildSaysSo() async throws {
        let (fixture, arn) = try await setUp(["NEPHO_EVENTS": "eventbridge"])
        defer { Task { await fixture.stop() } }
        try await fixture.bench.inject(
            .error(
                status: 400, code: "AccessDeniedException",
                message:
                    "User: arn:aws:iam::123456789012:user/test is not authorized to perform: events:PutRule"),
            into: "PutRule", times: -1)
        let (name, _) = try await createHeld(fixture, arn, "nobridge")
        let channel = try await eventBridgeChannel(fixture)
        #expect(channel["mode"] as? String == "push" && channel["ruleArn"] == nil, "\(channel)")
        #expect((channel["reason"] as? String ?? "").contains("events:PutRule"), "\(channel)")
        let watch = Task { try await fixture.nepho.run(["formation:watch", name]) }
        try await fixture.bench.release(stackId: try await stackID(fixture, name), data: ["Message": "done"])
        let watched = try await watch.value
        #expect(watched.status == 0 && watched.output.contains("CREATE_COMPLETE"), "\(watched.errorOutput)")
        #expect(watched.output.contains("no permission for events:PutRule"), "\(watched.output)")
        #expect(try await count(fixture, "ListStacks") == 0, "pushed through SNS, not polled")
    }
}
