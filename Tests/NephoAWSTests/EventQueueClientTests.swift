import Foundation
import NephoTestBench
import Testing

@testable import NephoAWS

/// SNS and SQS against moto: a topic fanned out to a queue receives CloudFormation's
/// stack events for stacks created with the topic in NotificationARNs.
@Suite struct EventQueueClientTests {
    static let template = #"{"Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}}}"#

    @Test func stackEventsReachASubscribedQueueAndMatchDescribeStackEvents() async throws {
        let (_, session, cloudFormation) = try await BenchSupport.client()
        let sns = try session.sns()
        let sqs = try session.sqs()
        let name = BenchSupport.uniqueName("events")
        let topic = try await sns.createTopic(name: name, tags: [("CreatedBy", "nepho")])
        #expect(try await sns.createTopic(name: name, tags: [("CreatedBy", "nepho")]) == topic)
        let queue = try await sqs.createQueue(
            name: name, attributes: ["MessageRetentionPeriod": "1209600"], tags: ["CreatedBy": "nepho"])
        #expect(try await sqs.queueURL(name: name) == queue)
        #expect(try await sqs.queueURL(name: name + "-missing") == nil)
        let queueArn = try #require(
            try await sqs.queueAttributes(url: queue, names: ["QueueArn"])["QueueArn"])
        try await sqs.setQueueAttributes(url: queue, ["Policy": #"{"Version":"2012-10-17","Statement":[]}"#])
        #expect(try await sqs.queueAttributes(url: queue)["MessageRetentionPeriod"] == "1209600")
        let subscription = try await sns.subscribe(topicArn: topic, protocol: "sqs", endpoint: queueArn)
        #expect(try await sns.subscriptions(topicArn: topic).map(\.endpoint) == [queueArn])

        var request = StackRequest(stackName: name, template: .body(Self.template))
        request.notificationARNs = [topic]
        _ = try await cloudFormation.createStack(request)
        try await BenchSupport.waitFor(["CREATE_COMPLETE"], stack: name, client: cloudFormation)

        var pushed: [StackEvent] = []
        let deadline = Date().addingTimeInterval(30)
        while pushed.count < 2, Date() < deadline {
            for message in try await sqs.receiveMessages(url: queue, waitSeconds: 1) {
                #expect(message.receiveCount == 1)
                if case .event(let event, let namespace) = StackEventNotification.parse(body: message.body) {
                    #expect(namespace == "123456789012")
                    pushed.append(event)
                }
                try await sqs.deleteMessage(url: queue, receiptHandle: message.receiptHandle)
            }
        }
        let described = try await cloudFormation.describeStackEvents(name)
        #expect(Set(pushed.map(\.eventId)) == Set(described.map(\.eventId)))
        for event in pushed {
            let twin = try #require(described.first { $0.eventId == event.eventId })
            #expect(event.status == twin.status)
            #expect(event.stackId == twin.stackId)
            #expect(event.logicalResourceId == twin.logicalResourceId)
            #expect(abs(event.timestamp.timeIntervalSince(twin.timestamp)) < 0.01)
        }
        #expect(try await sqs.receiveMessages(url: queue, waitSeconds: 0).isEmpty)

        try await sns.unsubscribe(subscriptionArn: subscription)
        #expect(try await sns.subscriptions(topicArn: topic).isEmpty)
        try await sqs.deleteQueue(url: queue)
        try await sns.deleteTopic(arn: topic)
        #expect(try await sqs.queueURL(name: name) == nil)
    }

    /// The bench tells a scripted stack's lifecycle over time, removing some of moto's own
    /// events: what reaches the queue is exactly what DescribeStackEvents returns.
    @Test func aScriptedStacksPushedEventsAreExactlyItsEvents() async throws {
        let (bench, session, cloudFormation) = try await BenchSupport.client()
        let sns = try session.sns()
        let sqs = try session.sqs()
        let name = BenchSupport.uniqueName("scripted-events")
        let topic = try await sns.createTopic(name: name)
        let queue = try await sqs.createQueue(name: name)
        let queueArn = try #require(
            try await sqs.queueAttributes(url: queue, names: ["QueueArn"])["QueueArn"])
        _ = try await sns.subscribe(topicArn: topic, protocol: "sqs", endpoint: queueArn)
        try await bench.script(stack: name, stepSeconds: 0.1)
        var request = StackRequest(stackName: name, template: .body(TestBenchTests.threeResources))
        request.notificationARNs = [topic]
        let stackID = try await cloudFormation.createStack(request)
        try await BenchSupport.waitFor(["CREATE_COMPLETE"], stack: name, client: cloudFormation)
        try await cloudFormation.deleteStack(name)
        try await BenchSupport.waitFor(["DELETE_COMPLETE"], stack: stackID, client: cloudFormation)
        try await Task.sleep(nanoseconds: 1_500_000_000)  // the bench sends moto's held ones within a second

        var pushed: [String] = []
        while true {
            let messages = try await sqs.receiveMessages(url: queue, waitSeconds: 1)
            if messages.isEmpty { break }
            for message in messages {
                if case .event(let event, _) = StackEventNotification.parse(body: message.body) {
                    pushed.append(event.eventId)
                }
                try await sqs.deleteMessage(url: queue, receiptHandle: message.receiptHandle)
            }
        }
        let described = try await cloudFormation.describeStackEvents(stackID).map(\.eventId)
        #expect(pushed.count == Set(pushed).count)
        #expect(Set(pushed) == Set(described), "pushed \(pushed.count), described \(described.count)")
        try await sqs.deleteQueue(url: queue)
        try await sns.deleteTopic(arn: topic)
    }

    @Test func readsCloudFormationsMessageAsAWSWritesIt() throws {
        let message = """
            StackId='arn:aws:cloudformation:eu-west-1:111122223333:stack/web/5f6e'
            Timestamp='2026-12-04T10:15:02.123Z'
            EventId='Bucket-CREATE_IN_PROGRESS-2026-12-04T10:15:02.123Z'
            LogicalResourceId='Bucket'
            Namespace='111122223333'
            PhysicalResourceId=''
            PrincipalId='AIDAEXAMPLE'
            ResourceProperties='{"BucketName":"a
            b='c'"}
            '
            ResourceStatus='CREATE_IN_PROGRESS'
            ResourceStatusReason=''
            ResourceType='AWS::S3::Bucket'
            StackName='web'
            ClientRequestToken='null'
            """
        let envelope = try String(
            data: JSONSerialization.data(withJSONObject: ["Type": "Notification", "Message": message]),
            encoding: .utf8)!
        guard case .event(let event, let namespace) = StackEventNotification.parse(body: envelope) else {
            Issue.record("not read as an event")
            return
        }
        #expect(namespace == "111122223333")
        #expect(event.eventId == "Bucket-CREATE_IN_PROGRESS-2026-12-04T10:15:02.123Z")
        #expect(event.stackName == "web")
        #expect(event.physicalResourceId == nil)
        #expect(event.statusReason == nil)
        #expect(event.clientRequestToken == nil)
        #expect(event.status == "CREATE_IN_PROGRESS")
        #expect(
            StackEventNotification.fields(message)["ResourceProperties"] == "{\"BucketName\":\"a\nb='c'\"}\n")
        #expect(
            StackEventNotification.parse(body: #"{"Message": "hello"}"#)
                == .other(reason: "not a CloudFormation stack event"))
    }
}
