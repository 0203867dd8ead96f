import Foundation
import NephoHTTP
import NephoTestBench
import Testing

@testable import NephoAWS

/// Records the delays a retry policy asks for instead of sleeping.
final class RecordingSleeper: RetrySleeper, @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [Double] = []
    var delays: [Double] { lock.withLock { recorded } }
    func sleep(seconds: Double) async throws { lock.withLock { recorded.append(seconds) } }
}

/// A repeatable random source (SplitMix64) for jitter.
final class SeededRandom: @unchecked Sendable {
    private let lock = NSLock()
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    func next() -> Double {
        lock.withLock {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            return Double(z >> 11) / Double(1 << 53)
        }
    }
}

/// The standard retry mode against the bench's injected faults; sleeps are recorded,
/// not slept, so nothing here depends on timing.
@Suite(.serialized) struct RetryTests {
    static let benches = SharedCloudFormationBench()

    func fixture(maxAttempts: Int, random: @escaping @Sendable () -> Double = { 0.5 }) async throws
        -> (CloudFormationBench, CloudFormationClient, RetryPolicy, RecordingSleeper)
    {
        let bench = try await Self.benches.bench()
        try await bench.reset()
        let sleeper = RecordingSleeper()
        let policy = RetryPolicy(
            settings: RetrySettings(maxAttempts: maxAttempts), sleeper: sleeper, random: random)
        let client = try bench.session(
            retry: policy, http: CurlHTTPClient(limits: HTTPLimits(connectTimeout: 5, totalTimeout: 30))
        )
        .cloudFormation()
        return (bench, client, policy, sleeper)
    }

    @Test func throttlingIsRetriedWithGrowingJitteredDelaysWithinBounds() async throws {
        let random = SeededRandom(seed: 42)
        let (bench, client, _, sleeper) = try await fixture(maxAttempts: 8, random: { random.next() })
        try await bench.inject(.throttle(), into: "ListStacks", times: 7)
        _ = try await client.listStacks()
        let delays = sleeper.delays
        #expect(delays.count == 7)
        for (index, delay) in delays.enumerated() {
            let bound = min(pow(2, Double(index)), RetryPolicy.maxBackoff)
            #expect(delay >= 0 && delay < bound, "retry \(index + 1): \(delay) not in [0, \(bound))")
        }
        #expect(Set(delays.map { ($0 * 1000).rounded() }).count > 1, "delays are jittered")
        let calls = try await bench.calls("ListStacks")
        #expect(calls.map(\.fault) == Array(repeating: "throttle", count: 7) + [nil])
    }

    @Test func fixedRandomShowsTheExponentialCurveAndItsCap() {
        let policy = RetryPolicy(
            settings: RetrySettings(maxAttempts: 10), sleeper: RecordingSleeper(), random: { 0.999_999 })
        let delays = (1...7).map { policy.delay(beforeRetry: $0) }
        let expected = [1.0, 2, 4, 8, 16, 20, 20]
        for (delay, bound) in zip(delays, expected) { #expect(abs(delay - bound) < 0.001) }
    }

    @Test(arguments: [500, 502, 503, 504]) func serverErrorsAreRetried(status: Int) async throws {
        let (bench, client, _, sleeper) = try await fixture(maxAttempts: 3)
        try await bench.inject(.status(status), into: "DescribeStacks", times: 2)
        _ = try await client.describeStacks()
        #expect(sleeper.delays == [0.5, 1.0])
        #expect(try await bench.calls("DescribeStacks").count == 3)
    }

    @Test func givingUpAfterMaxAttemptsThrowsTheLastError() async throws {
        let (bench, client, _, sleeper) = try await fixture(maxAttempts: 3)
        try await bench.inject(.throttle(code: "RequestLimitExceeded"), into: "DescribeStacks", times: 5)
        let error = await #expect(throws: AWSError.self) { try await client.describeStacks() }
        #expect(error?.code == "RequestLimitExceeded")
        #expect(error?.requestId?.isEmpty == false)
        #expect(sleeper.delays.count == 2)
    }

    @Test func validationErrorsAreNotRetried() async throws {
        let (bench, client, _, sleeper) = try await fixture(maxAttempts: 5)
        let error = await #expect(throws: AWSError.self) { try await client.describeStacks("no-such-stack") }
        #expect(error?.code == "ValidationError")
        #expect(error?.isStackMissing == true)
        #expect(sleeper.delays.isEmpty)
        #expect(try await bench.calls("DescribeStacks").count == 1)
    }

    @Test func connectionResetsAndHangsAreRetried() async throws {
        let bench = try await Self.benches.bench()
        try await bench.reset()
        let sleeper = RecordingSleeper()
        let policy = RetryPolicy(settings: RetrySettings(maxAttempts: 3), sleeper: sleeper, random: { 0.5 })
        let http = CurlHTTPClient(limits: HTTPLimits(connectTimeout: 5, totalTimeout: 5))
        let client = try bench.session(retry: policy, http: http).cloudFormation()
        try await bench.inject(.reset, into: "ListStacks", times: 1)
        try await bench.inject(.hang(seconds: 30), into: "ListStacks", times: 1)
        _ = try await client.listStacks()
        #expect(try await bench.calls("ListStacks").map(\.fault) == ["reset", "hang", nil])
        #expect(sleeper.delays == [0.5, 1.0])
        // The reset cost 5, the timeout 10; the success gives back the last cost only (as botocore).
        #expect(policy.availableQuota == RetryPolicy.initialQuota - RetryPolicy.retryCost)
    }

    @Test func theRetryQuotaStopsAStorm() async throws {
        let (bench, client, policy, _) = try await fixture(maxAttempts: 3)
        try await bench.inject(.status(503), into: "DescribeStacks", times: -1)
        let failingCalls = RetryPolicy.initialQuota / (2 * RetryPolicy.retryCost)
        for _ in 0..<failingCalls {
            await #expect(throws: AWSError.self) { try await client.describeStacks() }
        }
        #expect(policy.availableQuota == 0)
        #expect(try await bench.calls("DescribeStacks").count == failingCalls * 3)
        // The quota is spent: the next failing call is tried once only.
        await #expect(throws: AWSError.self) { try await client.describeStacks() }
        #expect(try await bench.calls("DescribeStacks").count == failingCalls * 3 + 1)
        // Successes refill it a little.
        try await bench.reset()
        _ = try await client.describeStacks()
        #expect(policy.availableQuota == RetryPolicy.noRetryIncrement)
    }

    /// A try that may have reached the service without its answer (here a dropped answer)
    /// is recorded for the caller watching the call, whatever the later tries say.
    @Test func aLostAnswerIsRecordedThoughALaterTryFailsOtherwise() async throws {
        let (bench, client, _, _) = try await fixture(maxAttempts: 3)
        try await bench.inject(.dropAnswer, into: "CreateStack", times: 1)
        try await bench.inject(.throttle(), into: "CreateStack", times: -1)
        var request = StackRequest(
            stackName: "lost-answer", template: .body(#"{"Resources":{"T":{"Type":"AWS::SNS::Topic"}}}"#))
        request.clientRequestToken = "nepho-test-token-lost"
        let delivery = RetryPolicy.Delivery()
        let error = await #expect(throws: AWSError.self) {
            try await RetryPolicy.$delivery.withValue(delivery) { _ = try await client.createStack(request) }
        }
        #expect(error?.isThrottling == true)
        #expect(delivery.mayHaveActed)
        // Without a lost answer, nothing is recorded.
        try await bench.reset()
        try await bench.inject(.throttle(), into: "CreateStack", times: -1)
        let untouched = RetryPolicy.Delivery()
        await #expect(throws: AWSError.self) {
            try await RetryPolicy.$delivery.withValue(untouched) { _ = try await client.createStack(request) }
        }
        #expect(!untouched.mayHaveActed)
        try await bench.reset()
    }

    @Test func createStackRetryWithTheSameTokenActsOnce() async throws {
        let (bench, client, _, sleeper) = try await fixture(maxAttempts: 3)
        try await bench.inject(.dropAnswer, into: "CreateStack", times: 1)
        var request = StackRequest(
            stackName: "idempotent", template: .body(#"{"Resources":{"T":{"Type":"AWS::SNS::Topic"}}}"#))
        request.clientRequestToken = "nepho-test-token-1"
        let stackId = try await client.createStack(request)
        #expect(sleeper.delays.count == 1)
        #expect(try await bench.calls("CreateStack").map(\.fault) == ["drop", "idempotent-replay"])
        #expect(try await client.describeStacks("idempotent").map(\.stackId) == [stackId])
        // Without the token, the same call is a second create and fails.
        request.clientRequestToken = nil
        let error = await #expect(throws: AWSError.self) { try await client.createStack(request) }
        #expect(error?.code == "AlreadyExistsException")
    }
}
