import Foundation
import NephoHTTP
import Testing

@testable import NephoAWS

/// Answers each request with what `answer` makes of its body.
final class ScriptedHTTPClient: HTTPClient, @unchecked Sendable {
    private let lock = NSLock()
    private(set) var bodies: [String] = []
    let answer: @Sendable (String) -> String

    init(answer: @escaping @Sendable (String) -> String) { self.answer = answer }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let body = String(decoding: request.body, as: UTF8.self)
        lock.withLock { bodies.append(body) }
        return HTTPResponse(status: 200, body: Data(answer(body).utf8))
    }
}

/// A change set made with IncludeNestedStacks: CloudFormation plans each nested stack's
/// changes in a change set of its own, named by `ChangeSetId` on the nested stack's
/// change. moto 5.2.1 makes none (it ignores IncludeNestedStacks), so these answers are
/// written after CloudFormation's API reference (DescribeChangeSet, ResourceChange).
@Suite struct NestedChangeSetTests {
    static let root = "arn:aws:cloudformation:us-east-1:123456789012:changeSet/nepho-update-1/aaaa"
    static let network =
        "arn:aws:cloudformation:us-east-1:123456789012:changeSet/nepho-update-1-Network-1/bbbb"
    static let subnets =
        "arn:aws:cloudformation:us-east-1:123456789012:changeSet/nepho-update-1-Subnets-2/cccc"

    static func change(
        _ action: String, _ id: String, _ type: String, nested: String? = nil
    ) -> String {
        """
        <member><Type>Resource</Type><ResourceChange><Action>\(action)</Action>\
        <LogicalResourceId>\(id)</LogicalResourceId><ResourceType>\(type)</ResourceType>\
        \(action == "Modify" ? "<Replacement>False</Replacement>" : "")\
        \(nested.map { "<ChangeSetId>\($0)</ChangeSetId>" } ?? "")</ResourceChange></member>
        """
    }

    static func answer(id: String, name: String, changes: [String]) -> String {
        """
        <DescribeChangeSetResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">
          <DescribeChangeSetResult>
            <ChangeSetId>\(id)</ChangeSetId><ChangeSetName>\(name)</ChangeSetName>
            <StackId>arn:aws:cloudformation:us-east-1:123456789012:stack/web/1</StackId><StackName>web</StackName>
            <Status>CREATE_COMPLETE</Status><ExecutionStatus>AVAILABLE</ExecutionStatus>
            <IncludeNestedStacks>true</IncludeNestedStacks>
            <Changes>\(changes.joined())</Changes>
          </DescribeChangeSetResult>
          <ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>
        </DescribeChangeSetResponse>
        """
    }

    func client(_ http: any HTTPClient) -> CloudFormationClient {
        CloudFormationClient(
            query: AWSQueryClient(
                service: .cloudFormation, apiVersion: CloudFormationClient.apiVersion,
                endpoint: URL(string: "https://cloudformation.us-east-1.amazonaws.com")!, region: "us-east-1",
                credentials: AWSCredentials(accessKeyId: "AKID", secretAccessKey: .init("s")), http: http,
                retry: RetryPolicy()))
    }

    @Test func nestedStacksChangesFollowTheirStacksChange() async throws {
        let http = ScriptedHTTPClient { body in
            if body.contains("Subnets-2") {
                return Self.answer(
                    id: Self.subnets, name: "nepho-update-1-Subnets-2",
                    changes: [Self.change("Add", "SubnetC", "AWS::EC2::Subnet")])
            }
            if body.contains("Network-1") {
                return Self.answer(
                    id: Self.network, name: "nepho-update-1-Network-1",
                    changes: [
                        Self.change("Modify", "Subnets", "AWS::CloudFormation::Stack", nested: Self.subnets),
                        Self.change("Modify", "RouteTable", "AWS::EC2::RouteTable"),
                    ])
            }
            return Self.answer(
                id: Self.root, name: "nepho-update-1",
                changes: [
                    Self.change("Modify", "Network", "AWS::CloudFormation::Stack", nested: Self.network),
                    Self.change("Add", "HelloFunctionRole", "AWS::IAM::Role"),
                ])
        }
        let cloudFormation = client(http)
        let plain = try await cloudFormation.describeChangeSet("nepho-update-1", stackName: "web")
        #expect(plain.changes.map(\.logicalResourceId) == ["Network", "HelloFunctionRole"])
        #expect(plain.changes.first?.changeSetId == Self.network)

        let described = try await cloudFormation.describeChangeSet(
            "nepho-update-1", stackName: "web", includingNested: true)
        #expect(
            described.changes.map(\.logicalResourceId) == [
                "Network", "Subnets", "SubnetC", "RouteTable", "HelloFunctionRole",
            ])
        #expect(
            described.changes.map(\.nestedStack) == [
                [], ["Network"], ["Network", "Subnets"], ["Network"], [],
            ])
        #expect(described.changeSetId == Self.root)
        #expect(http.bodies.count == 4)
    }

    @Test func aNestedChangeSetNamedTwiceIsReadOnce() async throws {
        // A change set that names itself would otherwise be read for ever.
        let http = ScriptedHTTPClient { _ in
            Self.answer(
                id: Self.root, name: "nepho-update-1",
                changes: [Self.change("Modify", "Loop", "AWS::CloudFormation::Stack", nested: Self.root)])
        }
        let described = try await client(http).describeChangeSet(
            "nepho-update-1", stackName: "web", includingNested: true)
        #expect(described.changes.count == 1)
        #expect(http.bodies.count == 1)
    }

    @Test func createChangeSetAsksForNestedStacks() async throws {
        let http = ScriptedHTTPClient { _ in
            """
            <CreateChangeSetResponse><CreateChangeSetResult><Id>\(Self.root)</Id>\
            <StackId>arn:aws:cloudformation:us-east-1:123456789012:stack/web/1</StackId>\
            </CreateChangeSetResult></CreateChangeSetResponse>
            """
        }
        var request = StackRequest(stackName: "web", template: .body("{}"))
        request.capabilities = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]
        _ = try await client(http).createChangeSet(request, changeSetName: "c", includeNestedStacks: true)
        _ = try await client(http).createChangeSet(request, changeSetName: "d")
        #expect(http.bodies[0].contains("IncludeNestedStacks=true"))
        #expect(http.bodies[0].contains("Capabilities.member.2=CAPABILITY_AUTO_EXPAND"))
        #expect(!http.bodies[1].contains("IncludeNestedStacks"))
    }
}
