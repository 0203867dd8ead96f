import Foundation
import NephoHTTP
import NephoSupport
import NephoTestBench
import Testing

@testable import NephoAWS

/// The bench's lifecycles and held builds, seen through nepho's own client.
@Suite struct TestBenchTests {
    static let threeResources = """
        {"Resources": {
          "Network": {"Type": "AWS::SNS::Topic"},
          "Queue": {"Type": "AWS::SQS::Queue"},
          "Alarm": {"Type": "AWS::SNS::Topic"}}}
        """

    /// Events oldest first, as (logical id, status).
    func history(_ client: CloudFormationClient, _ stack: String) async throws -> [String] {
        try await client.describeStackEvents(stack).reversed().map { "\($0.logicalResourceId) \($0.status)" }
    }

    @Test func createUpdateDeleteRunOverTimeWithPerResourceEvents() async throws {
        let (bench, _, client) = try await BenchSupport.client()
        let name = BenchSupport.uniqueName("life")
        try await bench.script(stack: name, stepSeconds: 0.05)
        let stackId = try await client.createStack(
            StackRequest(stackName: name, template: .body(Self.threeResources)))
        #expect(try await client.describeStacks(name).first?.status == "CREATE_IN_PROGRESS")
        try await BenchSupport.waitFor(["CREATE_COMPLETE"], stack: name, client: client)
        #expect(
            try await history(client, name) == [
                "\(name) CREATE_IN_PROGRESS", "Network CREATE_IN_PROGRESS", "Network CREATE_COMPLETE",
                "Queue CREATE_IN_PROGRESS", "Queue CREATE_COMPLETE", "Alarm CREATE_IN_PROGRESS",
                "Alarm CREATE_COMPLETE",
                "\(name) CREATE_COMPLETE",
            ])

        var update = StackRequest(
            stackName: name,
            template: .body(
                Self.threeResources.replacingOccurrences(
                    of: "\"Alarm\": {\"Type\": \"AWS::SNS::Topic\"}",
                    with:
                        "\"Alarm\": {\"Type\": \"AWS::SNS::Topic\", \"Properties\": {\"DisplayName\": \"x\"}}"
                )))
        update.clientRequestToken = "update-1"
        try await client.updateStack(update)
        try await BenchSupport.waitFor(["UPDATE_COMPLETE"], stack: name, client: client)
        let afterUpdate = try await history(client, name).dropFirst(8)
        #expect(afterUpdate.first == "\(name) UPDATE_IN_PROGRESS")
        #expect(afterUpdate.contains("Queue UPDATE_COMPLETE"))
        #expect(
            Array(afterUpdate.suffix(2)) == [
                "\(name) UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "\(name) UPDATE_COMPLETE",
            ])

        try await client.deleteStack(name)
        #expect(try await client.describeStacks(stackId).first?.status == "DELETE_IN_PROGRESS")
        try await BenchSupport.waitFor(["DELETE_COMPLETE"], stack: stackId, client: client)
        let afterDelete = try await history(client, stackId).suffix(8)
        #expect(
            Array(afterDelete) == [
                "\(name) DELETE_IN_PROGRESS", "Alarm DELETE_IN_PROGRESS", "Alarm DELETE_COMPLETE",
                "Queue DELETE_IN_PROGRESS", "Queue DELETE_COMPLETE", "Network DELETE_IN_PROGRESS",
                "Network DELETE_COMPLETE", "\(name) DELETE_COMPLETE",
            ])
    }

    @Test func aFailingResourceRollsTheCreateBack() async throws {
        let (bench, _, client) = try await BenchSupport.client()
        let name = BenchSupport.uniqueName("fails")
        try await bench.script(stack: name, stepSeconds: 0.05, failing: [.create: "Queue"])
        try await client.createStack(StackRequest(stackName: name, template: .body(Self.threeResources)))
        let stack = try await BenchSupport.waitFor(["ROLLBACK_COMPLETE"], stack: name, client: client)
        #expect(stack.status == "ROLLBACK_COMPLETE")
        let events = try await history(client, name)
        #expect(
            events == [
                "\(name) CREATE_IN_PROGRESS", "Network CREATE_IN_PROGRESS", "Network CREATE_COMPLETE",
                "Queue CREATE_IN_PROGRESS", "Queue CREATE_FAILED", "\(name) ROLLBACK_IN_PROGRESS",
                "Network DELETE_IN_PROGRESS", "Network DELETE_COMPLETE", "Queue DELETE_COMPLETE",
                "\(name) ROLLBACK_COMPLETE",
            ])
        let failed = try #require(
            try await client.describeStackEvents(name).first { $0.status == "CREATE_FAILED" })
        #expect(failed.statusReason?.isEmpty == false)
    }

    @Test func cancelUpdateStackRollsTheUpdateBack() async throws {
        let (bench, _, client) = try await BenchSupport.client()
        let name = BenchSupport.uniqueName("cancel")
        try await client.createStack(StackRequest(stackName: name, template: .body(Self.threeResources)))
        let error = await #expect(throws: AWSError.self) { try await client.cancelUpdateStack(name) }
        #expect(error?.code == "ValidationError")
        try await bench.script(stack: name, stepSeconds: 0.3)
        try await client.updateStack(StackRequest(stackName: name, template: .body(BenchSupport.template)))
        try await client.cancelUpdateStack(name)
        try await BenchSupport.waitFor(["UPDATE_ROLLBACK_COMPLETE"], stack: name, client: client)
        let events = try await history(client, name)
        #expect(events.contains("\(name) UPDATE_ROLLBACK_IN_PROGRESS"))
        #expect(events.last == "\(name) UPDATE_ROLLBACK_COMPLETE")
    }

    @Test func aHeldBuildWaitsForItsRelease() async throws {
        let (bench, _, client) = try await BenchSupport.client()
        let function = try await bench.holdFunction()
        let name = BenchSupport.uniqueName("held")
        let template = bench.holdingTemplate(
            functionArn: function, extraResources: #""Topic": {"Type": "AWS::SNS::Topic"}"#)
        let stackId = try await client.createStack(StackRequest(stackName: name, template: .body(template)))
        // Still held after several looks.
        for _ in 0..<3 {
            #expect(try await client.describeStacks(name).first?.status == "CREATE_IN_PROGRESS")
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        #expect(try await bench.pendingCustomResources(stackId: stackId) == ["Hold"])
        try await bench.release(stackId: stackId, data: ["Message": "all done"])
        let stack = try await BenchSupport.waitFor(["CREATE_COMPLETE"], stack: name, client: client)
        #expect(stack.status == "CREATE_COMPLETE")
        #expect(stack.outputs.first { $0.key == "Released" }?.value == "all done")
        #expect(try await bench.pendingCustomResources(stackId: stackId).isEmpty)
    }

    @Test func otherProcessesReachTheBenchThroughTheEnvironment() async throws {
        let (bench, _, client) = try await BenchSupport.client()
        let name = BenchSupport.uniqueName("cli")
        try await client.createStack(StackRequest(stackName: name, template: .body(Self.threeResources)))
        let result = try await NephoSupportRunner.awsCLI(
            [
                "cloudformation", "describe-stacks", "--stack-name", name, "--query", "Stacks[0].StackStatus",
                "--output", "text",
            ],
            environment: bench.environment)
        #expect(result == "CREATE_COMPLETE")
    }
}

/// Proxies come from the environment: a child process (nepho-bench-aws) told to use the
/// bench's proxy port as `http_proxy` reaches moto through it.
@Suite struct ProxyEnvironmentTests {
    static var benchBinary: String {
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for folder in [here, here.deletingLastPathComponent()] {
            let candidate = folder.appendingPathComponent("nepho-bench-aws").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return CloudFormationBench.repositoryRoot.appendingPathComponent(".build/debug/nepho-bench-aws").path
    }

    @Test func httpProxyVariableIsHonoured() async throws {
        let (bench, _, _) = try await BenchSupport.client()
        let direct = try CloudFormationClient(
            configuration: try bench.configuration(["AWS_ENDPOINT_URL": bench.motoEndpoint.absoluteString]),
            http: CurlHTTPClient(), retry: RetryPolicy())
        let name = BenchSupport.uniqueName("proxied")
        try await direct.createStack(
            StackRequest(stackName: name, template: .body(TestBenchTests.threeResources)))
        var environment = bench.environment
        environment["AWS_ENDPOINT_URL"] = bench.motoEndpoint.absoluteString
        environment["http_proxy"] = bench.endpoint.absoluteString
        environment["PATH"] = ProcessInfo.processInfo.environment["PATH"]
        let result = try await ProcessRunner.run(
            Self.benchBinary, [name, "1"], environment: environment, timeout: 120)
        #expect(result.status == 0, "\(result.errorOutput)")
        // Only a request sent to a proxy has an absolute URL as its target.
        let proxied = try await bench.calls("DescribeStacks").filter { $0.path.hasPrefix("http://") }
        #expect(proxied.count == 1)
    }
}
