import Foundation
import NephoHTTP
import NephoSupport
import NephoTestBench
import Testing

@testable import NephoAWS

/// Presigned S3 PUT URLs (the phase record's channel, docs/provisioners.md): the same
/// URL botocore makes, usable without credentials against moto's S3, and read back with
/// a conditional GET.
@Suite struct PresignedURLTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/testbench/botocore_sign.py").path

    /// moto does not check presigned signatures (any signature, even an expired date, is
    /// accepted), so the signature itself is checked against botocore's presigner.
    @Test(arguments: [false, true]) func presignedURLEqualsBotocores(withSessionToken: Bool) async throws {
        let credentials = AWSCredentials(
            accessKeyId: "AKIDEXAMPLE", secretAccessKey: Secret("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            sessionToken: withSessionToken ? Secret("FwoGZXIvYXdzEXAMPLE/token+with=chars") : nil)
        let s3 = S3Client(
            endpoint: nil, region: "eu-west-1", credentials: credentials, http: CurlHTTPClient(),
            retry: RetryPolicy())
        let date = ISO8601DateFormatter().date(from: "2026-11-29T01:02:03Z")!
        let key = "phases/my stack/ünïcode+key"
        let url = s3.presignedPut(bucket: "nepho-templates-1-eu-west-1", key: key, date: date).reveal()
        var spec: [String: Any] = [
            "access_key_id": credentials.accessKeyId,
            "secret_access_key": credentials.secretAccessKey.reveal(),
            "presign": true, "region": "eu-west-1", "method": "PUT",
            "url": s3.url(bucket: "nepho-templates-1-eu-west-1", key: key).absoluteString,
            "expires": withSessionToken
                ? SigV4Presigner.temporaryCredentialsExpiry : SigV4Presigner.maximumExpiry,
            "timestamp": "2026-11-29T01:02:03Z",
        ]
        if let token = credentials.sessionToken { spec["session_token"] = token.reveal() }
        let result = try await ProcessRunner.check(
            "python3", [Self.script], input: try JSONSerialization.data(withJSONObject: spec), timeout: 120)
        let botocore = String(decoding: result.standardOutput, as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(url == botocore)
        #expect(url.contains("X-Amz-Expires=\(withSessionToken ? 43200 : 604800)&"))
        #expect(url.contains("X-Amz-Security-Token=") == withSessionToken)
    }

    @Test func expiryIsSevenDaysAtMost() {
        let presigner = SigV4Presigner(
            credentials: AWSCredentials(accessKeyId: "AKID", secretAccessKey: Secret("s")),
            region: "us-east-1")
        let url = presigner.presign(
            method: "PUT", url: URL(string: "https://b.s3.us-east-1.amazonaws.com/k")!, expires: 30 * 86400)
        #expect(url.absoluteString.contains("X-Amz-Expires=604800&"))
        #expect(presigner.defaultExpiry == 604800)
    }

    /// A PUT to the presigned URL, with no credentials, stores the object in moto's S3;
    /// the conditional GET reads it, then answers "unchanged" for its ETag.
    @Test func presignedPutThenConditionalGetOnMoto() async throws {
        let bench = try await SharedCloudFormationBench.instance.bench()
        let s3 = try bench.session().s3()
        let bucket = "nepho-presign-\(UUID().uuidString.prefix(8).lowercased())"
        try await s3.createBucket(bucket)
        let key = "phases/stack-a/\(UUID().uuidString)"
        #expect(try await s3.getObject(bucket: bucket, key: key, ifNoneMatch: nil) == .missing)

        let url = try #require(URL(string: s3.presignedPut(bucket: bucket, key: key).reveal()))
        #expect(url.query?.contains("X-Amz-Signature=") == true)
        let body = "NEPHO_PHASE 1/2 one\nNEPHO_PHASE 2/2 two\nNEPHO_RESULT SUCCESS bootstrap finished"
        var put = HTTPRequest(method: "PUT", url: url, body: Data(body.utf8))
        put.setHeader("Content-Type", "text/plain")
        let answer = try await CurlHTTPClient().send(put)
        #expect(answer.status == 200, "\(String(decoding: answer.body, as: UTF8.self))")

        #expect(try await s3.getObject(bucket: bucket, key: key) == Data(body.utf8))
        guard
            case .changed(let data, let etag) = try await s3.getObject(
                bucket: bucket, key: key, ifNoneMatch: nil)
        else {
            Issue.record("the object was not read")
            return
        }
        #expect(data == Data(body.utf8))
        let tag = try #require(etag)
        #expect(try await s3.getObject(bucket: bucket, key: key, ifNoneMatch: tag) == .unchanged)
    }
}
