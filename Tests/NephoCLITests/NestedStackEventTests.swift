import Foundation
import NephoAWS
import NephoSupport
import NephoTestBench
import Testing

/// A build with a nested stack, end to end (docs/formations.md, "Nested stacks"; docs/aws.md,
/// "Events of nested stacks"): the real `nepho`, `nephod` and monitors against the test bench,
/// where moto creates the nested stack from its S3 TemplateURL and the bench tells its
/// resources over time in its own events (docs/testbench.md). `formation:watch -o json`
/// counts the nested stack's resources one at a time as they join the total (its template
/// is remote, so nepho learns it from its events), and `formation:logs` shows them under
/// the nested stack's path. A suite of its own bench: it counts calls.
@Suite(.serialized)
struct NestedStackEventTests {
    static let benches = SharedCloudFormationBench()

    /// The nested stack: three resources, then a nested stack of its own (`Inner`, one resource).
    static func network(bucket: String) -> String {
        """
        AWSTemplateFormatVersion: '2010-09-09'
        Resources:
          Queue:
            Type: AWS::SQS::Queue
          Setting:
            Type: AWS::SSM::Parameter
            Properties:
              Name: !Sub '${AWS::StackName}-setting'
              Type: String
              Value: !GetAtt Queue.Arn
          Note:
            Type: AWS::SSM::Parameter
            Properties:
              Name: !Sub '${AWS::StackName}-note'
              Type: String
              Value: note
          Inner:
            Type: AWS::CloudFormation::Stack
            Properties:
              TemplateURL: https://\(bucket).s3.amazonaws.com/inner.yaml
        """
    }

    static let inner = """
        AWSTemplateFormatVersion: '2010-09-09'
        Resources:
          Leaf:
            Type: AWS::SSM::Parameter
            Properties:
              Name: !Sub '${AWS::StackName}-leaf'
              Type: String
              Value: leaf
        """

    static func pattern(bucket: String) -> String {
        """
        AWSTemplateFormatVersion: '2010-09-09'
        Resources:
          Topic:
            Type: AWS::SNS::Topic
          Network:
            Type: AWS::CloudFormation::Stack
            Properties:
              TemplateURL: https://\(bucket).s3.amazonaws.com/network.yaml
          Done:
            Type: AWS::SSM::Parameter
            DependsOn: Network
            Properties:
              Name: !Sub '${AWS::StackName}-done'
              Type: String
              Value: done
        """
    }

    /// A fixture with the nested template in moto's S3 and scenario `nested`; polls often
    /// so that each nested resource is seen on its own (the bench takes `step` seconds
    /// between a resource's events).
    func setUp(_ extra: [String: String] = [:]) async throws -> FormationFixture {
        let fixture = try await FormationFixture.make(on: Self.benches)
        try await fixture.bench.reset()
        fixture.nepho.environment["NEPHO_MONITOR_ACTIVE_INTERVAL"] = "0.3"
        fixture.nepho.environment["NEPHO_MONITOR_QUIET_INTERVAL"] = "0.5"
        // "push": no NEPHO_EVENTS (the default), not the `poll` the CLI suites use.
        for (key, value) in extra { fixture.nepho.environment[key] = value == "push" ? nil : value }
        let bucket = FormationFixture.unique("nested")
        let s3 = try fixture.bench.session().s3()
        try await s3.createBucket(bucket)
        try await s3.putObject(
            bucket: bucket, key: "network.yaml", body: Data(Self.network(bucket: bucket).utf8))
        try await s3.putObject(bucket: bucket, key: "inner.yaml", body: Data(Self.inner.utf8))
        fixture.addScenario("nested", pattern: Self.pattern(bucket: bucket))
        return fixture
    }

    struct Watched {
        var progress: [(done: Int, total: Int, rollingBack: Bool)]
        var events: [[String: Any]]
        var end: [String: Any]?
    }

    /// Creates a formation of scenario `nested` and watches it with `-o json` to its end.
    func createAndWatch(_ fixture: FormationFixture, _ name: String, failing: String? = nil) async throws
        -> Watched
    {
        try await fixture.bench.script(
            stack: name, stepSeconds: 1.5, failing: failing.map { [.create: $0] } ?? [:])
        let create = try await fixture.nepho.run(["create", "bench-demo/nested", "--name", name, "--detach"])
        #expect(create.status == 0, "\(create.output)\(create.errorOutput)")
        let watch = try await fixture.nepho.run(["formation:watch", name, "-o", "json"])
        #expect(watch.status == (failing == nil ? 0 : 1), "\(watch.output)\(watch.errorOutput)")
        let lines = watch.output.split(separator: "\n").map { fixture.json(String($0)) }
        return Watched(
            progress: lines.filter { $0["type"] as? String == "progress" }.map {
                ($0["done"] as? Int ?? -1, $0["total"] as? Int ?? -1, $0["rollingBack"] as? Bool ?? false)
            },
            events: lines.filter { $0["type"] as? String == "event" },
            end: lines.last { $0["type"] as? String == "end" })
    }

    /// What a person relies on, whatever the delivery: the nested resources counted one at
    /// a time as they join the total, never above it nor down; every nested event stored
    /// once under its path; the nested stack's own CREATE_COMPLETE not ending the build.
    func checkBuild(_ fixture: FormationFixture, _ name: String, _ watched: Watched) async throws {
        let build = watched.end?["build"] as? [String: Any]
        #expect(build?["status"] as? String == "CREATE_COMPLETE", "\(watched.end ?? [:])")
        let progress = watched.progress
        #expect(progress.allSatisfy { $0.done >= 0 && $0.done <= $0.total }, "\(progress)")
        #expect(
            zip(progress, progress.dropFirst()).allSatisfy { $0.done <= $1.done }, "never down: \(progress)")
        // Topic, Network and Done, then Network/Queue, Network/Setting, Network/Note,
        // Network/Inner and Network/Inner/Leaf as the nested stacks' events reveal them.
        #expect(progress.first?.total == 3, "\(progress)")
        #expect(progress.map(\.total).max() == 8, "\(progress)")
        // Topic; Queue, Setting, Note; Inner/Leaf; Inner.
        for done in [1, 2, 3, 4, 5, 6] {
            #expect(progress.contains { $0.done == done }, "done \(done) seen on its own: \(progress)")
        }

        let ids = watched.events.compactMap { $0["logicalID"] as? String }
        for id in ["Network/Queue", "Network/Setting", "Network/Note", "Network/Inner/Leaf"] {
            #expect(ids.filter { $0 == id }.count == 2, "\(id): IN_PROGRESS and COMPLETE once each: \(ids)")
        }
        let own = ids.filter { $0.hasPrefix("Network/\(name)-Network-") }
        #expect(own.count == 2, "the nested stack's own rows, under its path: \(ids)")
        let innerOwn = ids.filter { $0.hasPrefix("Network/Inner/\(name)-Network-") && $0.contains("-Inner-") }
        #expect(innerOwn.count == 2, "the nested stack's nested stack's own rows: \(ids)")
        // Its CREATE_COMPLETE came before the root's Done resource even started.
        let nestedDone = try #require(
            watched.events.firstIndex {
                ($0["logicalID"] as? String ?? "").hasPrefix("Network/\(name)-Network-")
                    && $0["status"] as? String == "CREATE_COMPLETE"
            })
        let doneStarted = try #require(watched.events.firstIndex { $0["logicalID"] as? String == "Done" })
        #expect(nestedDone < doneStarted)
        let eventIDs = watched.events.compactMap { $0["eventID"] as? String }
        #expect(Set(eventIDs).count == eventIDs.count, "each event once")

        // formation:logs: the same events, the nested ones with their path, in text and JSON.
        let logs = try await fixture.nepho.run(["formation:logs", name])
        #expect(logs.status == 0, "\(logs.errorOutput)")
        for id in [
            "Network/Queue", "Network/Setting", "Network/Note", "Network/\(name)-Network-",
            "Network/Inner/Leaf",
        ] {
            #expect(logs.output.contains(id), "\(logs.output)")
        }
        let json = fixture.json(try await fixture.nepho.run(["formation:logs", name, "-o", "json"]).output)
        let stored = (json["builds"] as? [[String: Any]] ?? []).flatMap { build in
            (build["events"] as? [[String: Any]] ?? []).compactMap {
                ($0["event"] as? [String: Any])?["logicalID"] as? String
            }
        }
        // Queue, Setting, Note, Inner/Leaf: 2 each; Network's own and Inner's own: 2 each;
        // Inner in Network: IN_PROGRESS, IN_PROGRESS (its ARN), COMPLETE.
        #expect(stored.filter { $0.hasPrefix("Network/") }.count == 15, "\(stored)")
        // The chart: a row per nested resource.
        let chart = try await fixture.nepho.run(["formation:logs", name, "--chart"])
        #expect(chart.status == 0, "\(chart.errorOutput)")
        for id in ["Network/Queue", "Network/Setting", "Network/Note", "Network/Inner/Leaf"] {
            #expect(chart.output.contains(id), "\(chart.output)")
        }
    }

    @Test func aFailureInsideTheNestedStackRollsTheBuildBack() async throws {
        let fixture = try await setUp()
        defer { Task { await fixture.stop() } }
        let name = FormationFixture.unique("nestfail")
        let watched = try await createAndWatch(fixture, name, failing: "Network/Setting")
        let build = watched.end?["build"] as? [String: Any]
        #expect(build?["status"] as? String == "ROLLBACK_COMPLETE", "\(watched.end ?? [:])")
        let progress = watched.progress
        #expect(progress.allSatisfy { $0.done >= 0 && $0.done <= $0.total }, "\(progress)")
        // Up to the rollback, then through it: never down but at the rollback's start.
        let forward = progress.prefix { !$0.rollingBack }
        let back = progress.drop { !$0.rollingBack }
        #expect(zip(forward, forward.dropFirst()).allSatisfy { $0.done <= $1.done }, "\(progress)")
        #expect(
            zip(back, back.dropFirst()).allSatisfy { $0.done <= $1.done && $0.rollingBack }, "\(progress)")
        #expect(forward.contains { $0.done == 2 }, "Topic and Network/Queue done: \(progress)")
        // Topic, Network, Network/Queue and Network/Setting were begun: the rollback undoes them.
        #expect(back.map(\.total).max() == 4, "\(progress)")
        #expect(back.contains { $0.done >= 2 }, "\(progress)")

        // The nested stack rolled back in its own events; its ROLLBACK_COMPLETE did not end
        // the build: the root's resource failed after it, and the root rolled back.
        let rows = watched.events.map {
            "\($0["logicalID"] as? String ?? "") \($0["status"] as? String ?? "")"
        }
        let own = "Network/\(name)-Network-"
        let nestedEnd = try #require(
            rows.firstIndex { $0.hasPrefix(own) && $0.hasSuffix(" ROLLBACK_COMPLETE") }, "\(rows)")
        for row in [
            "Network/Setting CREATE_FAILED", "Network/Queue DELETE_COMPLETE",
            "Network/Setting DELETE_COMPLETE",
        ] {
            #expect((rows.firstIndex(of: row) ?? .max) < nestedEnd, "\(row): \(rows)")
        }
        let rootFailed = try #require(rows.firstIndex(of: "Network CREATE_FAILED"), "\(rows)")
        #expect(rootFailed > nestedEnd)
        #expect(rows.last == "\(name) ROLLBACK_COMPLETE", "\(rows)")
    }

    /// The calls of the build, by action; DescribeStackEvents of the nested stack and of its
    /// nested stack apart.
    func calls(_ fixture: FormationFixture, _ name: String) async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for call in try await fixture.bench.calls() {
            var action = call.action
            if action == "DescribeStackEvents", call.stackName?.contains("/\(name)-Network-") == true {
                action += call.stackName?.contains("-Inner-") == true ? " (nested, 2nd level)" : " (nested)"
            }
            counts[action, default: 0] += 1
        }
        return counts
    }

    @Test func polledNestedStackEventsCountOneAtATime() async throws {
        let fixture = try await setUp()
        defer { Task { await fixture.stop() } }
        let name = FormationFixture.unique("nestpoll")
        let watched = try await createAndWatch(fixture, name)
        try await checkBuild(fixture, name, watched)
        let counts = try await calls(fixture, name)
        print("calls of a build with a nested stack, events polled: \(counts.sorted { $0.key < $1.key })")
        // The nested stack is looked at while it is in progress, and once at the end.
        let rootLooks = counts["DescribeStackEvents"] ?? 0
        for level in ["DescribeStackEvents (nested)", "DescribeStackEvents (nested, 2nd level)"] {
            #expect((2...(rootLooks + 1)).contains(counts[level] ?? 0), "\(counts)")
        }

        // The destroy follows the nested stack's delete in its own events too, and counts it.
        // (nepho deletes a stack by its id: the bench's script is keyed by what DeleteStack names.)
        try await fixture.bench.reset()
        let stackID = try #require(try await fixture.describe(name)["stackID"] as? String)
        try await fixture.bench.script(stack: stackID, stepSeconds: 1.5)
        let destroy = try await fixture.nepho.run(["destroy", name, "--yes", "-o", "json"])
        #expect(destroy.status == 0, "\(destroy.output)\(destroy.errorOutput)")
        let lines = destroy.output.split(separator: "\n").map { fixture.json(String($0)) }
        let rows = lines.filter { $0["type"] as? String == "event" }.map {
            "\($0["logicalID"] as? String ?? "") \($0["status"] as? String ?? "")"
        }
        for id in ["Network/Queue", "Network/Setting", "Network/Note", "Network/Inner/Leaf"] {
            #expect(rows.contains("\(id) DELETE_COMPLETE"), "\(rows)")
        }
        let nestedGone = try #require(
            rows.firstIndex { $0.hasPrefix("Network/\(name)-Network-") && $0.hasSuffix(" DELETE_COMPLETE") },
            "\(rows)")
        #expect((rows.firstIndex(of: "Network DELETE_COMPLETE") ?? -1) > nestedGone, "\(rows)")
        let deleting = lines.filter { $0["type"] as? String == "progress" }.compactMap {
            $0["done"] as? Int
        }
        #expect(zip(deleting, deleting.dropFirst()).allSatisfy { $0 <= $1 }, "\(deleting)")
        #expect(deleting.contains { $0 >= 2 && $0 < 8 }, "the nested resources' deletes counted: \(deleting)")
    }

    @Test func pushedRootEventsAndPolledNestedOnesThroughSNS() async throws {
        let fixture = try await setUp(["NEPHO_EVENTS": "push"])
        defer { Task { await fixture.stop() } }
        let name = FormationFixture.unique("nestpush")
        let watched = try await createAndWatch(fixture, name)
        try await checkBuild(fixture, name, watched)
        let counts = try await calls(fixture, name)
        print(
            "calls of a build with a nested stack, events pushed (SNS): \(counts.sorted { $0.key < $1.key })")
        // The root's events came through the queue: one DescribeStackEvents at the end. The
        // nested stack does not notify the root's topic: it is polled while in progress.
        #expect(counts["DescribeStackEvents"] == 1, "\(counts)")
        #expect((counts["DescribeStackEvents (nested)"] ?? 0) >= 2, "\(counts)")
        #expect((counts["DescribeStackEvents (nested, 2nd level)"] ?? 0) >= 2, "\(counts)")
    }

    @Test func eventBridgeBringsTheNestedStacksEventsToo() async throws {
        let fixture = try await setUp(["NEPHO_EVENTS": "eventbridge"])
        defer { Task { await fixture.stop() } }
        try await fixture.bench.sendEventBridgeEvents()
        let name = FormationFixture.unique("nestbridge")
        let watched = try await createAndWatch(fixture, name)
        try await checkBuild(fixture, name, watched)
        let counts = try await calls(fixture, name)
        print(
            "calls of a build with a nested stack, events through EventBridge: \(counts.sorted { $0.key < $1.key })"
        )
        // Every stack's events come through the rule: one look at each stack at the end.
        #expect(counts["DescribeStackEvents"] == 1, "\(counts)")
        #expect(counts["DescribeStackEvents (nested)"] == 1, "\(counts)")
        #expect(counts["DescribeStackEvents (nested, 2nd level)"] == 1, "\(counts)")
    }
}
