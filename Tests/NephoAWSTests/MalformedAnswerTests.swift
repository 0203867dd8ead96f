import Foundation
import NephoHTTP
import NephoTestBench
import Testing

@testable import NephoAWS

/// Answers that are not complete documents are errors, never empty results.
extension RetryTests {
    @Test(arguments: [
        "<DescribeStacksResponse><DescribeStacksResult><Stacks><member><StackName>x",
        "",
        "not xml at all",
        "<html><body>a captive portal</body></html>",
        "<DescribeStacksResponse><DescribeStacksResult><Stacks><member><StackName>x</StackName></member></Stacks></DescribeStacksResult></DescribeStacksResponse>",
    ])
    func truncatedOrMalformedAnswersAreErrors(body: String) async throws {
        let (bench, client, _, sleeper) = try await fixture(maxAttempts: 3)
        try await bench.inject(.answer(status: 200, body: body), into: "DescribeStacks", times: 1)
        let error = await #expect(throws: AWSResponseError.self) { try await client.describeStacks() }
        #expect(error?.action == "DescribeStacks")
        #expect(sleeper.delays.isEmpty)
    }

    @Test func anErrorWithoutADocumentStillSaysWhatHappened() async throws {
        let (bench, client, _, _) = try await fixture(maxAttempts: 1)
        try await bench.inject(
            .answer(status: 403, body: "<html>forbidden</html>"), into: "ListStacks", times: 1)
        let error = await #expect(throws: AWSError.self) { try await client.listStacks() }
        #expect(error?.code == "HTTP403")
        #expect(error?.httpStatus == 403)
    }
}

/// Added latency: answers that come late still count; answers later than the client's
/// time limit are timeouts, and retried.
extension RetryTests {
    @Test func slowAnswersArriveAndTooSlowOnesAreRetried() async throws {
        let bench = try await Self.benches.bench()
        try await bench.reset()
        let sleeper = RecordingSleeper()
        let policy = RetryPolicy(settings: RetrySettings(maxAttempts: 3), sleeper: sleeper, random: { 0.5 })
        // Limits far from the injected delays, so a loaded machine cannot blur the two cases.
        let patient = try bench.session(
            retry: policy, http: CurlHTTPClient(limits: HTTPLimits(totalTimeout: 60))
        )
        .cloudFormation()
        try await bench.inject(.latency(seconds: 0.5), into: "ListStacks", times: 1)
        _ = try await patient.listStacks()
        #expect(try await bench.calls("ListStacks").first?.fault == "latency")
        #expect(sleeper.delays.isEmpty)

        let hasty = try bench.session(
            retry: policy, http: CurlHTTPClient(limits: HTTPLimits(totalTimeout: 5))
        )
        .cloudFormation()
        try await bench.inject(.latency(seconds: 60), into: "DescribeStacks", times: 1)
        _ = try await hasty.describeStacks()
        #expect(try await bench.calls("DescribeStacks").first?.fault == "latency")
        #expect(sleeper.delays.first == 0.5)
    }
}
