import Foundation
import NephoTestBench
import Testing

@testable import NephoAWS

/// CloudFormation's events on EventBridge: reading them as AWS documents them, and the
/// rule calls against moto's EventBridge, which hands matching events to an SQS target.
@Suite struct EventBridgeClientTests {
    static let stackId =
        "arn:aws:cloudformation:us-east-1:123456789012:stack/teststack/a1b2c3d4-0000-1111-2222-333344445555"

    /// The shapes of the CloudFormation User Guide ("Stack Status Change event detail",
    /// "Resource Status Change event detail"), with the envelope EventBridge gives every event.
    static func message(
        _ detailType: String, _ detail: String, id: String = "6a7e8feb-b491-4cf7-a9f1-bf3703467718"
    )
        -> String
    {
        """
        {"version": "0", "id": "\(id)", "detail-type": "\(detailType)", "source": "aws.cloudformation",
         "account": "123456789012", "time": "2021-09-14T22:27:22Z", "region": "us-east-1",
         "resources": ["\(stackId)"], "detail": \(detail)}
        """
    }

    @Test func stackAndResourceStatusChangesReadAsStackEvents() throws {
        let stack = Self.message(
            "CloudFormation Stack Status Change",
            #"{"stack-id": "\#(Self.stackId)", "status-details": {"status": "CREATE_COMPLETE", "status-reason": ""}, "client-request-token": ""}"#
        )
        guard case .event(let event, let account) = StackEventNotification.parse(body: stack) else {
            Issue.record("not read: \(stack)")
            return
        }
        #expect(event.eventId == "eventbridge:6a7e8feb-b491-4cf7-a9f1-bf3703467718")
        #expect(event.stackName == "teststack" && event.logicalResourceId == "teststack")
        #expect(
            event.resourceType == "AWS::CloudFormation::Stack" && event.physicalResourceId == Self.stackId)
        #expect(
            event.status == "CREATE_COMPLETE" && event.statusReason == nil && event.clientRequestToken == nil)
        #expect(event.timestamp == Date(timeIntervalSince1970: 1_631_658_442))
        #expect(account == "123456789012")

        let resource = Self.message(
            "CloudFormation Resource Status Change",
            #"{"stack-id": "\#(Self.stackId)", "logical-resource-id": "MyBucket", "physical-resource-id": "teststack-mybucket-1x", "status-details": {"status": "CREATE_IN_PROGRESS", "status-reason": "Resource creation Initiated"}, "resource-type": "AWS::S3::Bucket", "client-request-token": "Console-CreateStack-1"}"#,
            id: "e0b6d6c4-1111-2222-3333-444455556666")
        guard case .event(let event, _) = StackEventNotification.parse(body: resource) else {
            Issue.record("not read: \(resource)")
            return
        }
        #expect(event.eventId == "eventbridge:e0b6d6c4-1111-2222-3333-444455556666")
        #expect(event.logicalResourceId == "MyBucket" && event.resourceType == "AWS::S3::Bucket")
        #expect(event.physicalResourceId == "teststack-mybucket-1x" && event.stackName == "teststack")
        #expect(event.statusReason == "Resource creation Initiated")
        #expect(event.clientRequestToken == "Console-CreateStack-1")
    }

    @Test func otherEventsAreNotTakenForStackEvents() {
        let drift = Self.message(
            "CloudFormation Drift Detection Status Change",
            #"{"stack-id": "\#(Self.stackId)", "status-details": {"stack-drift-status": "DRIFTED"}}"#)
        if case .event = StackEventNotification.parse(body: drift) {
            Issue.record("a drift event read as a stack event")
        }
        let other =
            #"{"version": "0", "id": "1", "detail-type": "EC2 Instance State-change Notification", "source": "aws.ec2", "time": "2021-09-14T22:27:22Z", "detail": {}}"#
        if case .event = StackEventNotification.parse(body: other) {
            Issue.record("an EC2 event read as a stack event")
        }
        let noStatus = Self.message(
            "CloudFormation Stack Status Change", #"{"stack-id": "\#(Self.stackId)"}"#)
        if case .event = StackEventNotification.parse(body: noStatus) {
            Issue.record("an event without status")
        }
        let badStack = Self.message(
            "CloudFormation Stack Status Change",
            #"{"stack-id": "not-an-arn", "status-details": {"status": "CREATE_COMPLETE"}}"#)
        if case .event = StackEventNotification.parse(body: badStack) {
            Issue.record("a stack id that is no ARN")
        }
    }

    @Test func aRuleOnTheDefaultBusSendsCloudFormationEventsToTheQueue() async throws {
        let (bench, session, cloudFormation) = try await BenchSupport.client()
        let events = try session.eventBridge()
        let sqs = try session.sqs()
        let name = BenchSupport.uniqueName("eb")
        let queue = try await sqs.createQueue(name: name)
        let queueArn = try #require(
            try await sqs.queueAttributes(url: queue, names: ["QueueArn"])["QueueArn"])
        let pattern =
            #"{"detail-type":["CloudFormation Stack Status Change","CloudFormation Resource Status Change"],"source":["aws.cloudformation"]}"#
        let rule = try await events.putRule(
            name: name, eventPattern: pattern, description: "test", tags: [("CreatedBy", "nepho")])
        #expect(rule.hasSuffix(":rule/\(name)"))
        #expect(try await events.putRule(name: name, eventPattern: pattern, description: "test") == rule)
        try await events.putTargets(rule: name, targets: [("nepho-queue", queueArn)])
        #expect(try await events.targets(rule: name) == ["nepho-queue": queueArn])
        #expect(try await events.describeRule(name: name)?.arn == rule)
        #expect(try await events.describeRule(name: name + "-missing") == nil)
        #expect(
            try await bench.calls("PutRule").count >= 2, "the bench names JSON-protocol calls by X-Amz-Target"
        )

        try await bench.sendEventBridgeEvents()
        defer { Task { try? await bench.sendEventBridgeEvents(false) } }
        let stack = BenchSupport.uniqueName("eb")
        _ = try await cloudFormation.createStack(
            StackRequest(stackName: stack, template: .body(EventQueueClientTests.template)))
        try await BenchSupport.waitFor(["CREATE_COMPLETE"], stack: stack, client: cloudFormation)
        let described = try await cloudFormation.describeStackEvents(stack)
        var pushed: [StackEvent] = []
        let deadline = Date().addingTimeInterval(30)
        while pushed.count < described.count, Date() < deadline {
            for message in try await sqs.receiveMessages(url: queue, waitSeconds: 1) {
                if case .event(let event, _) = StackEventNotification.parse(body: message.body),
                    event.stackName == stack
                {
                    pushed.append(event)
                }
                try await sqs.deleteMessage(url: queue, receiptHandle: message.receiptHandle)
            }
        }
        func key(_ event: StackEvent) -> String {
            "\(event.logicalResourceId) \(event.resourceType) \(event.status)"
        }
        #expect(pushed.map(key).sorted() == described.map(key).sorted())
        for event in pushed {
            #expect(event.eventId.hasPrefix("eventbridge:"))
            let twin = try #require(described.first { key($0) == key(event) })
            #expect(abs(event.timestamp.timeIntervalSince(twin.timestamp)) < 1)
        }

        try await events.removeTargets(rule: name, ids: ["nepho-queue"])
        try await events.deleteRule(name: name)
        #expect(try await events.describeRule(name: name) == nil)
        try await sqs.deleteQueue(url: queue)
    }
}
