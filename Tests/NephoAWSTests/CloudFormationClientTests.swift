import Foundation
import NephoHTTP
import NephoTestBench
import Testing

@testable import NephoAWS

/// Helpers shared by the tests that run against the bench.
enum BenchSupport {
    static func client() async throws -> (CloudFormationBench, AWSSession, CloudFormationClient) {
        let bench = try await SharedCloudFormationBench.instance.bench()
        let session = try bench.session()
        return (bench, session, try session.cloudFormation())
    }

    static func uniqueName(_ base: String) -> String {
        "\(base)-\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// Polls until the stack's status is one of `statuses` (generous limit; not a timing test).
    @discardableResult
    static func waitFor(
        _ statuses: Set<String>, stack: String, client: CloudFormationClient, limit: Double = 120
    )
        async throws -> Stack
    {
        let deadline = Date().addingTimeInterval(limit)
        while true {
            let stack = try #require(try await client.describeStacks(stack).first)
            if statuses.contains(stack.status) || Date() > deadline { return stack }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
    }

    static let template = """
        {
          "AWSTemplateFormatVersion": "2010-09-09",
          "Description": "nepho test stack",
          "Parameters": {
            "Env": {"Type": "String", "Default": "dev", "Description": "where it runs"},
            "Secret": {"Type": "String", "NoEcho": true, "Default": "x"}
          },
          "Resources": {
            "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": {"Fn::Sub": "${AWS::StackName}-topic"}, "DisplayName": {"Ref": "Secret"}}},
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Fn::Sub": "${AWS::StackName}-queue"}}}
          },
          "Outputs": {
            "TopicArn": {"Value": {"Ref": "Topic"}, "Description": "the topic"},
            "EnvName": {"Value": {"Ref": "Env"}}
          }
        }
        """
}

/// Every CloudFormation call nepho makes, against moto through the bench.
@Suite struct CloudFormationClientTests {
    @Test func stackLifecycleWithEveryOption() async throws {
        let (_, _, client) = try await BenchSupport.client()
        let name = BenchSupport.uniqueName("full")
        var request = StackRequest(stackName: name, template: .body(BenchSupport.template))
        request.parameters = [
            StackParameter(key: "Env", value: "prod"), StackParameter(key: "Secret", value: "hunter2"),
        ]
        request.tags = [
            StackTag(key: "CreatedBy", value: "nepho"), StackTag(key: "nepho:cloudlet", value: "demo"),
        ]
        request.capabilities = ["CAPABILITY_IAM"]
        request.onFailure = .delete
        request.timeoutInMinutes = 30
        let stackId = try await client.createStack(request)
        #expect(stackId.contains(":stack/\(name)/"))

        let stack = try #require(try await client.describeStacks(name).first)
        #expect(stack.stackId == stackId)
        #expect(stack.status == "CREATE_COMPLETE")
        #expect(stack.parameters["Env"] == "prod")
        #expect(stack.tags.contains(StackTag(key: "nepho:cloudlet", value: "demo")))
        #expect(stack.outputs.first { $0.key == "EnvName" }?.value == "prod")
        #expect(stack.outputs.first { $0.key == "TopicArn" }?.value.hasPrefix("arn:aws:sns:") == true)
        #expect(stack.description == "nepho test stack")

        #expect(try await client.getTemplate(name) == BenchSupport.template)
        let resources = try await client.listStackResources(name)
        #expect(Set(resources.map(\.logicalResourceId)) == ["Topic", "Queue"])
        #expect(resources.allSatisfy { $0.physicalResourceId?.isEmpty == false })
        #expect(
            Set(try await client.describeStackResources(name).map(\.resourceType)) == [
                "AWS::SNS::Topic", "AWS::SQS::Queue",
            ])

        // (moto answers HTTP 500 to UsePreviousTemplate; its encoding is checked without moto.)
        var update = StackRequest(stackName: name, template: .body(BenchSupport.template))
        update.parameters = [
            StackParameter(key: "Env", value: "staging"), StackParameter(keepingPreviousValueOf: "Secret"),
        ]
        try await client.updateStack(update)
        let updated = try #require(try await client.describeStacks(name).first)
        #expect(updated.status == "UPDATE_COMPLETE")
        #expect(updated.parameters["Env"] == "staging")
        #expect(updated.parameters["Secret"] != nil)

        let events = try await client.describeStackEvents(name)
        #expect(events.first?.status == "UPDATE_COMPLETE", "newest first")
        #expect(events.last?.status == "CREATE_IN_PROGRESS")
        #expect(Set(events.map(\.eventId)).count == events.count)

        try await client.deleteStack(name)
        let error = await #expect(throws: AWSError.self) { try await client.describeStacks(name) }
        #expect(error?.isStackMissing == true)
        #expect(try await client.describeStacks(stackId).first?.status == "DELETE_COMPLETE")
        let summary = try #require(
            try await client.listStacks(statusFilter: ["DELETE_COMPLETE"]).first { $0.stackId == stackId })
        #expect(summary.stackName == name)
    }

    @Test func validateTemplateAndSummary() async throws {
        let (_, _, client) = try await BenchSupport.client()
        // moto answers ValidateTemplate with empty lists; the parsing of a full answer is
        // checked in validateTemplateAnswerIsRead.
        _ = try await client.validateTemplate(.body(BenchSupport.template))

        let summary = try await client.getTemplateSummary(.body(BenchSupport.template))
        #expect(Set(summary.parameters.map(\.key)) == ["Env", "Secret"])
        #expect(Set(summary.resourceTypes) == ["AWS::SNS::Topic", "AWS::SQS::Queue"])

        let error = await #expect(throws: AWSError.self) {
            try await client.validateTemplate(.body("{ not a template"))
        }
        #expect(error?.code == "ValidationError")
    }

    @Test func validateTemplateAnswerIsRead() async throws {
        let answer = """
            <ValidateTemplateResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">
              <ValidateTemplateResult>
                <Description>nepho test stack</Description>
                <Parameters>
                  <member><NoEcho>false</NoEcho><ParameterKey>Env</ParameterKey><Description>where it runs</Description><DefaultValue>dev</DefaultValue></member>
                  <member><NoEcho>true</NoEcho><ParameterKey>Secret</ParameterKey><DefaultValue>x</DefaultValue></member>
                </Parameters>
                <Capabilities><member>CAPABILITY_IAM</member></Capabilities>
                <CapabilitiesReason>The following resource(s) require capabilities: [AWS::IAM::Role]</CapabilitiesReason>
              </ValidateTemplateResult>
              <ResponseMetadata><RequestId>0be7b6e8-e4a0-11e0-a5bd-9f8d5a7dbc91</RequestId></ResponseMetadata>
            </ValidateTemplateResponse>
            """
        let recorder = RecordingHTTPClient(answer: HTTPResponse(status: 200, body: Data(answer.utf8)))
        let client = CloudFormationClient(
            query: AWSQueryClient(
                service: .cloudFormation, apiVersion: CloudFormationClient.apiVersion,
                endpoint: URL(string: "https://cloudformation.us-east-1.amazonaws.com")!, region: "us-east-1",
                credentials: AWSCredentials(accessKeyId: "AKID", secretAccessKey: .init("s")), http: recorder,
                retry: RetryPolicy()))
        let validated = try await client.validateTemplate(.body("{}"))
        #expect(validated.description == "nepho test stack")
        #expect(validated.parameters.map(\.key) == ["Env", "Secret"])
        #expect(validated.parameters[0].defaultValue == "dev")
        #expect(validated.parameters[0].description == "where it runs")
        #expect(validated.parameters[1].noEcho)
        #expect(validated.capabilities == ["CAPABILITY_IAM"])
        #expect(validated.capabilitiesReason?.contains("AWS::IAM::Role") == true)
    }

    @Test func changeSets() async throws {
        let (_, _, client) = try await BenchSupport.client()
        let name = BenchSupport.uniqueName("changes")
        let created = try await client.createChangeSet(
            StackRequest(stackName: name, template: .body(BenchSupport.template)), changeSetName: "first",
            type: "CREATE")
        #expect(created.changeSetId.contains(":changeSet/first/"))
        let described = try await client.describeChangeSet("first", stackName: name)
        #expect(described.stackId == created.stackId)
        #expect(described.status == "CREATE_COMPLETE")
        #expect(Set(described.changes.map(\.logicalResourceId)) == ["Topic", "Queue"])
        #expect(described.changes.allSatisfy { $0.action == "Add" })
        try await client.executeChangeSet("first", stackName: name)
        #expect(try await client.describeStacks(name).first?.status == "CREATE_COMPLETE")

        var change = StackRequest(stackName: name, template: .body(BenchSupport.template))
        change.parameters = [StackParameter(key: "Env", value: "prod")]
        _ = try await client.createChangeSet(change, changeSetName: "second")
        try await client.deleteChangeSet("second", stackName: name)
        await #expect(throws: AWSError.self) { try await client.describeChangeSet("second", stackName: name) }
        try await client.deleteStack(name)
    }

    @Test func listsFollowNextToken() async throws {
        let (bench, session, client) = try await BenchSupport.client()
        // moto answers these whole; the bench pages them (docs/testbench.md).
        for action in ["ListStacks", "DescribeStacks", "DescribeStackEvents", "ListStackResources"] {
            try await bench.page(action, size: 2)
        }
        let prefix = BenchSupport.uniqueName("paged")
        var ids: [String] = []
        for index in 0..<5 {
            ids.append(
                try await client.createStack(
                    StackRequest(stackName: "\(prefix)-\(index)", template: .body(BenchSupport.template))))
        }
        let before = try await bench.calls("DescribeStackEvents").count
        let events = try await client.describeStackEvents("\(prefix)-0")
        // moto itself, unpaged, is the reference.
        let direct = try CloudFormationClient(
            configuration: try bench.configuration(["AWS_ENDPOINT_URL": bench.motoEndpoint.absoluteString]),
            http: CurlHTTPClient(), retry: session.retry)
        #expect(events == (try await direct.describeStackEvents("\(prefix)-0")))
        #expect(try await bench.calls("DescribeStackEvents").count - before >= (events.count + 1) / 2)

        let listed = Set(try await client.listStacks().map(\.stackId))
        #expect(Set(ids).isSubset(of: listed))
        let described = Set(try await client.describeStacks().map(\.stackId))
        #expect(Set(ids).isSubset(of: described))
        #expect(try await client.listStackResources("\(prefix)-1").count == 2)

        // Stopping at a known event returns only newer ones.
        try await client.updateStack(
            {
                var update = StackRequest(stackName: "\(prefix)-0", template: .body(BenchSupport.template))
                update.parameters = [StackParameter(key: "Env", value: "next")]
                return update
            }())
        let newer = try await client.describeStackEvents("\(prefix)-0", stopAt: events[0].eventId)
        #expect(newer.map(\.status) == ["UPDATE_COMPLETE", "UPDATE_IN_PROGRESS"])
        for index in 0..<5 { try await client.deleteStack("\(prefix)-\(index)") }
    }

    @Test func errorsCarryCodeMessageAndRequestId() async throws {
        let (_, _, client) = try await BenchSupport.client()
        let name = BenchSupport.uniqueName("twice")
        try await client.createStack(StackRequest(stackName: name, template: .body(BenchSupport.template)))
        let error = await #expect(throws: AWSError.self) {
            try await client.createStack(
                StackRequest(stackName: name, template: .body(BenchSupport.template)))
        }
        #expect(error?.code == "AlreadyExistsException")
        #expect(error?.message.contains(name) == true)
        #expect(error?.requestId?.isEmpty == false)
        #expect(error?.httpStatus == 400)
        #expect("\(error!)".contains("AlreadyExistsException"))
        try await client.deleteStack(name)
    }

    @Test func largeTemplateGoesThroughS3() async throws {
        let (_, session, client) = try await BenchSupport.client()
        let padding = String(repeating: "nepho ", count: 10_000)
        let large = """
            {"Metadata": {"Padding": "\(padding)"},
             "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}
            """
        #expect(large.utf8.count > CloudFormationClient.maxTemplateBodyBytes)
        await #expect(throws: TemplateTooLargeError.self) {
            try await client.createStack(StackRequest(stackName: "too-large", template: .body(large)))
        }
        let uploader = try session.templateUploader()
        #expect(try await uploader.source(for: BenchSupport.template) == .body(BenchSupport.template))
        let source = try await uploader.source(for: large)
        guard case .url(let url) = source else {
            Issue.record("expected a TemplateURL, got \(source)")
            return
        }
        #expect(url.path.hasPrefix("/nepho-templates-123456789012-us-east-1/templates/"))
        let name = BenchSupport.uniqueName("large")
        try await client.createStack(StackRequest(stackName: name, template: source))
        #expect(try await client.getTemplate(name) == large)
        // Uploading the same template again is harmless (same key, bucket already ours).
        #expect(try await uploader.upload(large) == url)
        try await client.deleteStack(name)
    }

    @Test func optionsAreEncodedAsTheQueryAPIWantsThem() async throws {
        let recorder = RecordingHTTPClient(
            answer: HTTPResponse(
                status: 200,
                body: Data(
                    #"<CreateStackResponse><CreateStackResult><StackId>id</StackId></CreateStackResult></CreateStackResponse>"#
                        .utf8)))
        let client = CloudFormationClient(
            query: AWSQueryClient(
                service: .cloudFormation, apiVersion: CloudFormationClient.apiVersion,
                endpoint: URL(string: "https://cloudformation.us-east-1.amazonaws.com")!, region: "us-east-1",
                credentials: AWSCredentials(accessKeyId: "AKID", secretAccessKey: .init("s")), http: recorder,
                retry: RetryPolicy()))
        var request = StackRequest(
            stackName: "s", template: .url(URL(string: "https://b.s3.amazonaws.com/t")!))
        request.notificationARNs = ["arn:aws:sns:us-east-1:1:topic"]
        request.disableRollback = true
        request.timeoutInMinutes = 5
        request.clientRequestToken = "token-1"
        request.capabilities = ["CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
        request.parameters = [
            StackParameter(keepingPreviousValueOf: "Old"), StackParameter(key: "New", value: "a b&c"),
        ]
        try await client.createStack(request)
        var update = StackRequest(stackName: "s", template: nil)
        update.usePreviousTemplate = true
        _ = try? await client.updateStack(update)
        let updateBody = String(decoding: try #require(recorder.requests.last).body, as: UTF8.self)
        #expect(updateBody.contains("UsePreviousTemplate=true"))
        #expect(!updateBody.contains("TemplateBody"))
        let body = String(decoding: try #require(recorder.requests.first).body, as: UTF8.self)
        for part in [
            "Action=CreateStack", "Version=2010-05-15",
            "NotificationARNs.member.1=arn%3Aaws%3Asns%3Aus-east-1%3A1%3Atopic",
            "DisableRollback=true", "TimeoutInMinutes=5", "ClientRequestToken=token-1",
            "Capabilities.member.2=CAPABILITY_AUTO_EXPAND",
            "TemplateURL=https%3A%2F%2Fb.s3.amazonaws.com%2Ft",
            "Parameters.member.1.ParameterKey=Old", "Parameters.member.1.UsePreviousValue=true",
            "Parameters.member.2.ParameterKey=New", "Parameters.member.2.ParameterValue=a%20b%26c",
        ] {
            #expect(body.contains(part), "\(part) in \(body)")
        }
    }
}
