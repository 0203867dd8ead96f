import Foundation
import NephoAWS
import NephoProtocol
import NephoStore
import NephoSupport
import Testing

@testable import NephoEngine

/// What the daemon's queue poller stores for a pushed stack event.
@Suite struct EventQueueTests {
    func store() throws -> StateStore {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "nepho-eq-\(UUID().uuidString)")
        return try StateStore(path: folder.appendingPathComponent("state.db").path)
    }

    /// A stack event as CloudFormation pushes it, `seconds` from now.
    func event(_ id: String, _ status: String, at seconds: Double, logical: String = "web") throws
        -> StackEvent
    {
        let type = logical == "web" ? "AWS::CloudFormation::Stack" : "AWS::SNS::Topic"
        let message = """
            StackId='arn:stack/web/1'
            Timestamp='\(Timestamp.string(Date().addingTimeInterval(seconds)))'
            EventId='\(id)'
            LogicalResourceId='\(logical)'
            ResourceStatus='\(status)'
            ResourceType='\(type)'
            StackName='web'
            """
        guard case .event(let event, _) = StackEventNotification.parse(message: message) else {
            throw CancellationError()
        }
        return event
    }

    @Test func eventsAreStoredOnceAndAnOlderStackStatusDoesNotOverwriteANewerOne() throws {
        let store = try store()
        let formation = try store.insertFormation(
            FormationRecord(
                name: "web", provider: "aws", cloudlet: "c", scenario: "s", stackID: "arn:stack/web/1",
                status: "CREATE_IN_PROGRESS"))
        let build = try store.insertBuild(
            BuildRecord(formationID: formation.id, operation: .create, status: "CREATE_IN_PROGRESS"))
        let complete = try event("e3", "CREATE_COMPLETE", at: 2)
        try EventQueue.record(complete, formation: formation, store: store)
        try EventQueue.record(complete, formation: formation, store: store)  // redelivered
        try EventQueue.record(
            try event("e2", "CREATE_COMPLETE", at: 1, logical: "Topic"), formation: formation, store: store)
        try EventQueue.record(
            try event("e1", "CREATE_IN_PROGRESS", at: 0), formation: formation, store: store)
        #expect(try store.events(buildID: build.id).map(\.providerEventID) == ["e3", "e2", "e1"])
        #expect(try store.build(id: build.id)?.status == "CREATE_COMPLETE")
        #expect(try store.formation(id: formation.id)?.status == "CREATE_COMPLETE")
    }

    /// The first events of a stack another process is creating (its CreateStack not yet
    /// answered, so its formation has no stack id) wait for the stack id instead of being
    /// dropped: the create's intent in the store says the stack is expected, whichever
    /// process made the call (a `--foreground` command beside the daemon).
    @Test func anEventOfAStackBeingCreatedElsewhereWaitsForItsStackID() async throws {
        let store = try store()
        let home = URL(fileURLWithPath: (store.path as NSString).deletingLastPathComponent)
        let paths = NephoPaths(home: home, runtimeDirectory: home)
        let (formation, build) = try store.insertFormation(
            FormationRecord(
                name: "web", provider: "aws", cloudlet: "c", scenario: "s", status: "CREATE_IN_PROGRESS"),
            firstBuild: BuildRecord(
                formationID: 0, operation: .create, status: "CREATE_IN_PROGRESS", requestToken: "t",
                launcherPID: 1))
        let body = """
            StackId='arn:stack/web/1'
            Timestamp='\(Timestamp.string(Date()))'
            EventId='first'
            LogicalResourceId='web'
            ResourceStatus='CREATE_IN_PROGRESS'
            ResourceType='AWS::CloudFormation::Stack'
            StackName='web'
            """
        let message = SQSMessage(messageId: "m", receiptHandle: "r", body: body, receiveCount: 1)
        let stored = Task { try await EventQueue.store(message, in: store, paths: paths) }
        try await Task.sleep(nanoseconds: 500_000_000)
        try store.launched(
            build: build.id,
            formation: LaunchedFormation(
                id: formation.id, stackID: "arn:stack/web/1", region: nil, outputs: nil, parameters: nil))
        try await stored.value
        #expect(try store.events(buildID: build.id).map(\.providerEventID) == ["first"])
    }

    /// A nested stack's events pushed (EventBridge brings every stack's): stored in the
    /// root's build under the nested stack's path once its parent's event named its ARN;
    /// its own CREATE_COMPLETE sets neither the build's status nor the formation's.
    @Test func aNestedStacksEventsGoToTheRootsBuildAndNeverSetItsStatus() throws {
        let store = try store()
        let formation = try store.insertFormation(
            FormationRecord(
                name: "web", provider: "aws", cloudlet: "c", scenario: "s", stackID: "arn:stack/web/1",
                status: "CREATE_IN_PROGRESS"))
        let build = try store.insertBuild(
            BuildRecord(formationID: formation.id, operation: .create, status: "CREATE_IN_PROGRESS"))
        let nestedARN = "arn:stack/web-Net-1AB/2"
        func parse(_ lines: String) throws -> StackEvent {
            guard case .event(let event, _) = StackEventNotification.parse(message: lines) else {
                throw CancellationError()
            }
            return event
        }
        let now = Timestamp.string(Date().addingTimeInterval(1))
        // The root's resource Net, naming the nested stack's ARN.
        try EventQueue.record(
            try parse(
                """
                StackId='arn:stack/web/1'
                Timestamp='\(now)'
                EventId='r1'
                LogicalResourceId='Net'
                PhysicalResourceId='\(nestedARN)'
                ResourceStatus='CREATE_IN_PROGRESS'
                ResourceType='AWS::CloudFormation::Stack'
                StackName='web'
                """), formation: formation, store: store)
        let nested = try #require(try store.nestedStack(stackID: nestedARN))
        #expect(nested.path == "Net" && nested.buildID == build.id && nested.inProgress)
        for (id, logical, type, status) in [
            ("n1", "Queue", "AWS::SQS::Queue", "CREATE_COMPLETE"),
            ("n2", "web-Net-1AB", "AWS::CloudFormation::Stack", "CREATE_COMPLETE"),
        ] {
            try EventQueue.recordNested(
                try parse(
                    """
                    StackId='\(nestedARN)'
                    Timestamp='\(now)'
                    EventId='\(id)'
                    LogicalResourceId='\(logical)'
                    PhysicalResourceId='\(logical == "web-Net-1AB" ? nestedARN : "q")'
                    ResourceStatus='\(status)'
                    ResourceType='\(type)'
                    StackName='web-Net-1AB'
                    """), nested: nested, store: store)
        }
        #expect(
            try store.events(buildID: build.id).map { $0.logicalID ?? "" } == [
                "Net", "Net/Queue", "Net/web-Net-1AB",
            ])
        #expect(try store.build(id: build.id)?.status == "CREATE_IN_PROGRESS")
        #expect(try store.formation(id: formation.id)?.status == "CREATE_IN_PROGRESS")
        #expect(try store.nestedStack(stackID: nestedARN)?.status == "CREATE_COMPLETE")

        // The root starts work on it again (a rollback deletes it): it is followed again.
        func root(_ id: String, _ status: String, at seconds: Double) throws {
            try EventQueue.record(
                try parse(
                    """
                    StackId='arn:stack/web/1'
                    Timestamp='\(Timestamp.string(Date().addingTimeInterval(seconds)))'
                    EventId='\(id)'
                    LogicalResourceId='Net'
                    PhysicalResourceId='\(nestedARN)'
                    ResourceStatus='\(status)'
                    ResourceType='AWS::CloudFormation::Stack'
                    StackName='web'
                    """), formation: formation, store: store)
        }
        // An IN_PROGRESS of the parent older than the nested stack's own end changes nothing
        // (SQS may deliver late).
        try root("r0", "CREATE_IN_PROGRESS", at: 0)
        #expect(try store.nestedStack(stackID: nestedARN)?.inProgress == false)
        try root("r2", "DELETE_IN_PROGRESS", at: 5)
        #expect(try store.nestedStack(stackID: nestedARN)?.status == "DELETE_IN_PROGRESS")
        #expect(try store.build(id: build.id)?.status == "CREATE_IN_PROGRESS")
    }

    @Test func aChangeAfterTheLastBuildShowsInTheFormationOnly() throws {
        let store = try store()
        let formation = try store.insertFormation(
            FormationRecord(
                name: "web", provider: "aws", cloudlet: "c", scenario: "s", stackID: "arn:stack/web/1",
                status: "CREATE_COMPLETE"))
        let build = try store.insertBuild(
            BuildRecord(formationID: formation.id, operation: .create, status: "CREATE_IN_PROGRESS"))
        try store.updateBuild(id: build.id, status: "CREATE_COMPLETE", finished: true)
        try EventQueue.record(try event("d1", "DELETE_COMPLETE", at: 5), formation: formation, store: store)
        #expect(try store.formation(id: formation.id)?.status == "DELETE_COMPLETE")
        #expect(try store.events(buildID: build.id).isEmpty)
    }
}

@Suite struct EventBridgeIdTests {
    /// The store recognises an EventBridge event's id by the prefix the parser gives it.
    @Test func theStoreAndTheParserAgreeOnThePrefix() {
        #expect(StateStore.eventBridgePrefix == StackEventNotification.eventBridgePrefix)
    }

    /// A stack with five NotificationARNs: the command fails without the rule, goes ahead
    /// without nepho's topic with it.
    @Test func noRoomForTheTopicIsFineWhenTheRuleIsInPlace() throws {
        var request = StackRequest(stackName: "full", template: .body("{}"))
        request.notificationARNs = (1...5).map { "arn:aws:sns:us-east-1:123456789012:user-\($0)" }
        #expect(throws: NephoError.self) { try EventChannel.adding("arn:nepho", to: request) }
        let kept = try EventChannel.adding("arn:nepho", to: request, ruleInPlace: true)
        #expect(kept.notificationARNs == request.notificationARNs)
        request.notificationARNs.removeLast()
        #expect(
            try EventChannel.adding("arn:nepho", to: request, ruleInPlace: true).notificationARNs.last
                == "arn:nepho")
    }

    @Test func theRuleMatchesCloudFormationsStatusChangesAndIsNamedAfterTheQueue() throws {
        let paths = NephoPaths(environment: ["NEPHO_HOME": "/tmp/nepho-rule-test", "HOME": "/tmp"])
        let queue = EventChannel.queueName(paths: paths)
        #expect(
            EventChannel.ruleName(paths: paths) == "nepho-stack-events-"
                + queue.dropFirst("nepho-events-".count))
        let pattern =
            try JSONSerialization.jsonObject(with: Data(EventChannel.eventPattern.utf8))
            as? [String: [String]]
        #expect(pattern?["source"] == ["aws.cloudformation"])
        #expect(
            pattern?["detail-type"] == [
                "CloudFormation Stack Status Change", "CloudFormation Resource Status Change",
            ])
        let policy = EventChannel.policy(queueArn: "arn:q", topicArn: "arn:t", ruleArn: "arn:r")
        let document = try JSONSerialization.jsonObject(with: Data(policy.utf8)) as? [String: Any]
        let statements = document?["Statement"] as? [[String: Any]] ?? []
        #expect(statements.count == 2)
        #expect((statements.last?["Principal"] as? [String: String])?["Service"] == "events.amazonaws.com")
        #expect(
            ((statements.last?["Condition"] as? [String: Any])?["ArnEquals"] as? [String: String])?[
                "aws:SourceArn"]
                == "arn:r")
    }
}
