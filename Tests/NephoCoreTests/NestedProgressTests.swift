import Foundation
import NephoCore
import NephoSupport
import Testing

/// Progress and the ETA of builds with nested stacks (docs/formations.md, "Nested stacks"):
/// a nested stack's events are stored under its path (`Network/A`), its own stack-level
/// rows as `Network/STACK-NAME`.
@Suite struct NestedProgressTests {
    static let t0 = BuildEstimateTests.t0
    static let stackType = "AWS::CloudFormation::Stack"
    static let nestedName = "demo-Network-1ABCDEF"

    /// The root starts, its topic is made while the nested stack `Network` starts.
    static let opening = [
        event(0, "demo", stackType, "CREATE_IN_PROGRESS"),
        event(1, "Topic", "AWS::SNS::Topic", "CREATE_IN_PROGRESS"),
        event(1, "Network", stackType, "CREATE_IN_PROGRESS"),
        event(2, "Network/\(nestedName)", stackType, "CREATE_IN_PROGRESS"),
        event(3, "Topic", "AWS::SNS::Topic", "CREATE_COMPLETE"),
    ]

    static func event(_ seconds: Double, _ id: String, _ type: String, _ status: String) -> ObservedEvent {
        BuildEstimateTests.event(seconds, id, type, status)
    }

    static let root = """
        Resources:
          Network:
            Type: AWS::CloudFormation::Stack
            Properties: {TemplateURL: network.yaml}
          Topic: {Type: AWS::SNS::Topic}
        """
    static let network = """
        Resources:
          A: {Type: AWS::SQS::Queue}
          B: {Type: AWS::SSM::Parameter, Properties: {Value: !GetAtt A.Arn}}
          C: {Type: AWS::SSM::Parameter, Properties: {Value: !Ref B}}
        """

    func estimator(_ template: String = Self.root, nested: [String: String] = ["network.yaml": Self.network])
        throws -> BuildEstimator
    {
        BuildEstimator(
            graph: try BuildEstimateTests.graph(template, nested: nested), table: DurationTable(),
            operation: .create, stack: "demo")
    }

    @Test func namesOfNestedEvents() {
        #expect(NestedPath.qualify("Bucket", in: "") == "Bucket")
        #expect(NestedPath.qualify("Bucket", in: "Child/Grand") == "Child/Grand/Bucket")
        #expect(NestedPath.parent(of: "Child/Grand/Bucket") == "Child/Grand")
        #expect(NestedPath.leaf(of: "Child/Grand/Bucket") == "Bucket")
        #expect(NestedPath.isStackRow("Child/demo-Child-1ABC"))
        #expect(!NestedPath.isStackRow("Child/Bucket"))
        #expect(!NestedPath.isStackRow("demo"), "the root's own rows are named by the estimator's stack")
    }

    @Test func nestedResourcesAreDoneOneByOneAndTheNestedStackDoesNotFinishTheBuild() throws {
        let estimator = try estimator()
        var events = Self.opening
        var forecast = estimator.forecast(events, now: Self.t0.addingTimeInterval(3))
        // Network, its A, B and C, and Topic.
        #expect(forecast.total == 5)
        #expect(forecast.done == 1)
        var second = 4.0
        var last = forecast.done
        for id in ["A", "B", "C"] {
            let type = id == "A" ? "AWS::SQS::Queue" : "AWS::SSM::Parameter"
            events.append(Self.event(second, "Network/\(id)", type, "CREATE_IN_PROGRESS"))
            forecast = estimator.forecast(events, now: Self.t0.addingTimeInterval(second))
            #expect(forecast.done == last, "a resource at work is not done")
            events.append(Self.event(second + 1, "Network/\(id)", type, "CREATE_COMPLETE"))
            forecast = estimator.forecast(events, now: Self.t0.addingTimeInterval(second + 1))
            #expect(forecast.done == last + 1, "\(id) done")
            #expect(forecast.total == 5 && !forecast.rollingBack)
            last = forecast.done
            second += 2
        }
        // The nested stack's own CREATE_COMPLETE finishes neither it in the root nor the build.
        events.append(Self.event(20, "Network/\(Self.nestedName)", Self.stackType, "CREATE_COMPLETE"))
        forecast = estimator.forecast(events, now: Self.t0.addingTimeInterval(20))
        #expect(forecast.done == 4 && forecast.total == 5)
        events.append(Self.event(21, "Network", Self.stackType, "CREATE_COMPLETE"))
        forecast = estimator.forecast(events, now: Self.t0.addingTimeInterval(21))
        #expect(forecast.done == 5 && forecast.total == 5)
        events.append(Self.event(22, "demo", Self.stackType, "CREATE_COMPLETE"))
        forecast = estimator.forecast(events, now: Self.t0.addingTimeInterval(22))
        #expect(forecast.done == 5 && forecast.remaining == 0)
    }

    @Test func aRemoteNestedTemplateJoinsTheTotalAsItsEventsRevealItAndNeverGoesAbove() throws {
        let estimator = try estimator(
            Self.root.replacingOccurrences(
                of: "network.yaml", with: "https://bucket.s3.amazonaws.com/network.yaml"))
        var events = [
            Self.event(0, "demo", Self.stackType, "CREATE_IN_PROGRESS"),
            Self.event(1, "Network", Self.stackType, "CREATE_IN_PROGRESS"),
        ]
        var forecast = estimator.forecast(events, now: Self.t0.addingTimeInterval(1))
        #expect(forecast.total == 2 && forecast.done == 0)
        var lastDone = 0
        var lastTotal = 2
        var second = 2.0
        // Grand is a nested stack inside the nested stack, with its own resource.
        for id in ["A", "B", "Grand", "Grand/Q", "C"] {
            let type = id == "Grand" ? Self.stackType : "AWS::SSM::Parameter"
            events.append(Self.event(second, "Network/\(id)", type, "CREATE_IN_PROGRESS"))
            forecast = estimator.forecast(events, now: Self.t0.addingTimeInterval(second))
            #expect(forecast.total > lastTotal, "\(id) joins the total")
            #expect(forecast.done == lastDone && forecast.done <= forecast.total)
            lastTotal = forecast.total
            if id != "Grand" {
                events.append(Self.event(second + 1, "Network/\(id)", type, "CREATE_COMPLETE"))
                forecast = estimator.forecast(events, now: Self.t0.addingTimeInterval(second + 1))
                #expect(forecast.done == lastDone + 1 && forecast.done <= forecast.total)
                lastDone = forecast.done
            }
            if id == "Grand/Q" {
                events.append(Self.event(second + 1.5, "Network/Grand", type, "CREATE_COMPLETE"))
                forecast = estimator.forecast(events, now: Self.t0.addingTimeInterval(second + 1.5))
                #expect(forecast.done == lastDone + 1)
                lastDone = forecast.done
            }
            second += 2
        }
        // Network, A, B, Grand, Grand/Q, C and Topic.
        #expect(forecast.total == 7)
        #expect(forecast.done == 5)
        events.append(Self.event(20, "Network", Self.stackType, "CREATE_COMPLETE"))
        forecast = estimator.forecast(events, now: Self.t0.addingTimeInterval(20))
        #expect(forecast.done == 6 && forecast.total == 7)
    }

    @Test func aRollbackInsideANestedStackIsTheBuildsRollback() throws {
        let estimator = try estimator()
        var events =
            Self.opening + [
                Self.event(3, "Network/A", "AWS::SQS::Queue", "CREATE_IN_PROGRESS"),
                Self.event(4, "Network/A", "AWS::SQS::Queue", "CREATE_COMPLETE"),
                Self.event(5, "Network/B", "AWS::SSM::Parameter", "CREATE_IN_PROGRESS"),
            ]
        let before = estimator.forecast(events, now: Self.t0.addingTimeInterval(6))
        #expect(before.done == 2 && before.total == 5 && !before.rollingBack)
        events += [
            Self.event(6, "Network/B", "AWS::SSM::Parameter", "CREATE_FAILED"),
            Self.event(7, "Network/\(Self.nestedName)", Self.stackType, "ROLLBACK_IN_PROGRESS"),
        ]
        var forecast = estimator.forecast(events, now: Self.t0.addingTimeInterval(7))
        #expect(forecast.rollingBack, "the nested stack's rollback is the build's")
        // Topic, Network, Network/A and Network/B were begun: the rollback undoes them.
        #expect(forecast.total == 4 && forecast.done == 0)
        var last = forecast.done
        var second = 8.0
        for (id, type) in [
            ("Network/B", "AWS::SSM::Parameter"), ("Network/A", "AWS::SQS::Queue"),
        ] {
            events.append(Self.event(second, id, type, "DELETE_IN_PROGRESS"))
            events.append(Self.event(second + 1, id, type, "DELETE_COMPLETE"))
            forecast = estimator.forecast(events, now: Self.t0.addingTimeInterval(second + 1))
            #expect(forecast.done == last + 1 && forecast.done <= forecast.total && forecast.rollingBack)
            last = forecast.done
            second += 2
        }
        events += [
            Self.event(13, "Network/\(Self.nestedName)", Self.stackType, "ROLLBACK_COMPLETE"),
            Self.event(14, "Network", Self.stackType, "CREATE_FAILED"),
            Self.event(15, "demo", Self.stackType, "ROLLBACK_IN_PROGRESS"),
        ]
        forecast = estimator.forecast(events, now: Self.t0.addingTimeInterval(15))
        #expect(forecast.rollingBack && forecast.done == last && forecast.remaining != 0)
        events += [
            Self.event(16, "Topic", "AWS::SNS::Topic", "DELETE_IN_PROGRESS"),
            Self.event(17, "Topic", "AWS::SNS::Topic", "DELETE_COMPLETE"),
            Self.event(18, "Network", Self.stackType, "DELETE_COMPLETE"),
        ]
        forecast = estimator.forecast(events, now: Self.t0.addingTimeInterval(18))
        #expect(forecast.done == 4 && forecast.total == 4)
        events.append(Self.event(19, "demo", Self.stackType, "ROLLBACK_COMPLETE"))
        forecast = estimator.forecast(events, now: Self.t0.addingTimeInterval(19))
        #expect(forecast.done == 4 && forecast.remaining == 0)
    }

    @Test func anUpdatesPlannedNestedChangesAreDoneByTheNestedStacksOwnEvents() throws {
        let plan = [
            PlannedChange(action: "Modify", logicalID: "Network", resourceType: Self.stackType),
            PlannedChange(
                action: "Modify", logicalID: "B", resourceType: "AWS::SSM::Parameter",
                nestedStack: ["Network"]),
            PlannedChange(
                action: "Remove", logicalID: "C", resourceType: "AWS::SSM::Parameter",
                nestedStack: ["Network"]),
        ]
        let estimator = BuildEstimator(
            graph: try BuildEstimateTests.graph(Self.root, nested: ["network.yaml": Self.network]),
            table: DurationTable(), operation: .update, stack: "demo", planned: plan)
        var events = [
            Self.event(0, "demo", Self.stackType, "UPDATE_IN_PROGRESS"),
            Self.event(1, "Network", Self.stackType, "UPDATE_IN_PROGRESS"),
            Self.event(2, "Network/\(Self.nestedName)", Self.stackType, "UPDATE_IN_PROGRESS"),
            Self.event(3, "Network/B", "AWS::SSM::Parameter", "UPDATE_IN_PROGRESS"),
        ]
        var forecast = estimator.forecast(events, now: Self.t0.addingTimeInterval(3))
        // Network, Network/B and Network/C: what the plan names.
        #expect(forecast.total == 3 && forecast.done == 0)
        events.append(Self.event(4, "Network/B", "AWS::SSM::Parameter", "UPDATE_COMPLETE"))
        forecast = estimator.forecast(events, now: Self.t0.addingTimeInterval(4))
        #expect(forecast.done == 1)
        // C is removed: done once deleted (at the nested stack's cleanup), not before.
        events += [
            Self.event(
                5, "Network/\(Self.nestedName)", Self.stackType, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"),
            Self.event(6, "Network/C", "AWS::SSM::Parameter", "DELETE_IN_PROGRESS"),
        ]
        forecast = estimator.forecast(events, now: Self.t0.addingTimeInterval(6))
        #expect(forecast.done == 1 && forecast.remaining.map { $0 > 0 } == true)
        events.append(Self.event(7, "Network/C", "AWS::SSM::Parameter", "DELETE_COMPLETE"))
        forecast = estimator.forecast(events, now: Self.t0.addingTimeInterval(7))
        #expect(forecast.done == 2 && forecast.total == 3)
        events.append(Self.event(8, "Network", Self.stackType, "UPDATE_COMPLETE"))
        forecast = estimator.forecast(events, now: Self.t0.addingTimeInterval(8))
        #expect(forecast.done == 3 && forecast.total == 3)
    }

    @Test func theEtaOfANestedStackAtWorkIsItsOwnRemainingPath() throws {
        var table = DurationTable()
        for _ in 0..<DurationTable.minimumSamples {
            // Learned from nested resources too (the nested stack's own rows are no resource).
            table.add(
                build: [
                    Self.event(0, "Net/Q", "AWS::SQS::Queue", "CREATE_IN_PROGRESS"),
                    Self.event(10, "Net/Q", "AWS::SQS::Queue", "CREATE_COMPLETE"),
                    Self.event(0, "Net/P", "AWS::SSM::Parameter", "CREATE_IN_PROGRESS"),
                    Self.event(20, "Net/P", "AWS::SSM::Parameter", "CREATE_COMPLETE"),
                    Self.event(0, "Net/demo-Net-X1", Self.stackType, "CREATE_IN_PROGRESS"),
                    Self.event(900, "Net/demo-Net-X1", Self.stackType, "CREATE_COMPLETE"),
                    Self.event(0, "Topic", "AWS::SNS::Topic", "CREATE_IN_PROGRESS"),
                    Self.event(5, "Topic", "AWS::SNS::Topic", "CREATE_COMPLETE"),
                ], stack: "demo")
        }
        #expect(table.stats("AWS::SQS::Queue", .create).0.median == 10)
        #expect(table.stats("AWS::SSM::Parameter", .create).1 == .learned)
        #expect(table.stats(Self.stackType, .create).1 != .learned, "a nested stack's own rows teach nothing")
        let estimator = BuildEstimator(
            graph: try BuildEstimateTests.graph(Self.root, nested: ["network.yaml": Self.network]),
            table: table,
            operation: .create, stack: "demo")
        var events = [
            Self.event(0, "demo", Self.stackType, "CREATE_IN_PROGRESS"),
            Self.event(0, "Topic", "AWS::SNS::Topic", "CREATE_IN_PROGRESS"),
            Self.event(0, "Network", Self.stackType, "CREATE_IN_PROGRESS"),
            Self.event(1, "Network/\(Self.nestedName)", Self.stackType, "CREATE_IN_PROGRESS"),
            Self.event(1, "Network/A", "AWS::SQS::Queue", "CREATE_IN_PROGRESS"),
            Self.event(4, "Topic", "AWS::SNS::Topic", "CREATE_COMPLETE"),
        ]
        // At 5 s: A has 6 s left (of 10 from 1 s), then B and C 20 s each.
        var forecast = estimator.forecast(events, now: Self.t0.addingTimeInterval(5))
        #expect(forecast.remaining == 46)
        events += [
            Self.event(11, "Network/A", "AWS::SQS::Queue", "CREATE_COMPLETE"),
            Self.event(11, "Network/B", "AWS::SSM::Parameter", "CREATE_IN_PROGRESS"),
        ]
        forecast = estimator.forecast(events, now: Self.t0.addingTimeInterval(21))
        #expect(forecast.remaining == 30)
        // B runs past its p90 (20 s: every sample was 20): overdue, named with its path.
        forecast = estimator.forecast(events, now: Self.t0.addingTimeInterval(51))
        #expect(forecast.overdue.map(\.logicalID) == ["Network/B"])
    }
}
