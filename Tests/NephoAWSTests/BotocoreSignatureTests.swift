import Foundation
import NephoHTTP
import NephoSupport
import Testing

@testable import NephoAWS

/// An `HTTPClient` double that records requests and answers with a fixed document:
/// used only where the test is about the bytes nepho sends, not about a server.
final class RecordingHTTPClient: HTTPClient, @unchecked Sendable {
    private let lock = NSLock()
    private(set) var requests: [HTTPRequest] = []
    let answer: HTTPResponse

    init(answer: HTTPResponse) { self.answer = answer }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        lock.withLock { requests.append(request) }
        return answer
    }
}

/// nepho's signature of a CloudFormation call equals botocore's for the same request.
@Suite struct BotocoreSignatureTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/testbench/botocore_sign.py").path

    @Test(arguments: [false, true]) func describeStacksMatchesBotocore(withSessionToken: Bool) async throws {
        let answer = HTTPResponse(
            status: 200,
            body: Data(
                """
                <DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">
                <DescribeStacksResult><Stacks/></DescribeStacksResult></DescribeStacksResponse>
                """.utf8))
        let recorder = RecordingHTTPClient(answer: answer)
        let credentials = AWSCredentials(
            accessKeyId: "AKIDEXAMPLE", secretAccessKey: Secret("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            sessionToken: withSessionToken ? Secret("FwoGZXIvYXdzEXAMPLE/token+with=chars") : nil)
        let date = ISO8601DateFormatter().date(from: "2026-11-29T01:02:03Z")!
        let query = AWSQueryClient(
            service: .cloudFormation, apiVersion: CloudFormationClient.apiVersion,
            endpoint: URL(string: "https://cloudformation.eu-west-1.amazonaws.com")!, region: "eu-west-1",
            credentials: credentials, http: recorder, retry: RetryPolicy(), now: { date })
        _ = try await CloudFormationClient(query: query).describeStacks("my stack/with ünïcode")
        let sent = try #require(recorder.requests.first)

        let unsigned = sent.headers.filter {
            !["authorization", "x-amz-date", "x-amz-security-token"].contains($0.name.lowercased())
        }
        var spec: [String: Any] = [
            "access_key_id": credentials.accessKeyId,
            "secret_access_key": credentials.secretAccessKey.reveal(),
            "region": "eu-west-1", "service": "cloudformation", "method": sent.method,
            "url": sent.url.absoluteString,
            "headers": unsigned.map { [$0.name, $0.value] },
            "body": String(decoding: sent.body, as: UTF8.self),
            "timestamp": "2026-11-29T01:02:03Z",
        ]
        if let token = credentials.sessionToken { spec["session_token"] = token.reveal() }
        let result = try await ProcessRunner.check(
            "python3", [Self.script], input: try JSONSerialization.data(withJSONObject: spec), timeout: 120)
        let botocore = try JSONSerialization.jsonObject(with: result.standardOutput) as! [String: String]
        #expect(sent.header("Authorization") == botocore["Authorization"])
        #expect(sent.header("X-Amz-Date") == botocore["X-Amz-Date"])
        #expect(sent.header("X-Amz-Security-Token") == botocore["X-Amz-Security-Token"])
    }
}
