import Crypto
import Foundation
import NephoHTTP

/// The little of S3 nepho needs: make a bucket, put an object, name its URL.
///
/// With a configured endpoint (`AWS_ENDPOINT_URL_S3`, …) requests use path-style
/// addresses (`endpoint/bucket/key`); against AWS, virtual-hosted ones
/// (`https://bucket.s3.region.amazonaws.com/key`).
public struct S3Client: Sendable {
    public var endpoint: URL?
    public var region: String
    public var credentials: AWSCredentials
    public var http: any HTTPClient
    public var retry: RetryPolicy

    public init(
        endpoint: URL?, region: String, credentials: AWSCredentials, http: any HTTPClient, retry: RetryPolicy
    ) {
        self.endpoint = endpoint
        self.region = region
        self.credentials = credentials
        self.http = http
        self.retry = retry
    }

    /// The URL of `key` in `bucket` (no key: the bucket itself).
    public func url(bucket: String, key: String? = nil) -> URL {
        let encodedKey = key.map { SigV4Signer.encode($0, keepSlash: true) }
        if let endpoint {
            var base = endpoint.absoluteString
            while base.hasSuffix("/") { base.removeLast() }
            return URL(string: "\(base)/\(bucket)" + (encodedKey.map { "/\($0)" } ?? ""))!
        }
        let domain = region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
        return URL(string: "https://\(bucket).s3.\(region).\(domain)/" + (encodedKey ?? ""))!
    }

    /// Creates `bucket` in our region; a bucket we already own is fine.
    public func createBucket(_ bucket: String) async throws {
        var body = Data()
        if region != "us-east-1" {
            body = Data(
                ("<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                    + "<LocationConstraint>\(region)</LocationConstraint></CreateBucketConfiguration>").utf8)
        }
        do {
            _ = try await send(
                "CreateBucket", method: "PUT", url: url(bucket: bucket), body: body, contentType: nil)
        } catch let error as AWSError where error.code == "BucketAlreadyOwnedByYou" {
            return
        }
    }

    /// Stores `body` as `key`.
    public func putObject(
        bucket: String, key: String, body: Data, contentType: String = "application/octet-stream"
    )
        async throws
    {
        _ = try await send(
            "PutObject", method: "PUT", url: url(bucket: bucket, key: key), body: body,
            contentType: contentType)
    }

    /// Reads `key` (used by tests and by `nepho` to check an upload).
    public func getObject(bucket: String, key: String) async throws -> Data {
        try await send(
            "GetObject", method: "GET", url: url(bucket: bucket, key: key), body: Data(), contentType: nil
        ).body
    }

    private func send(_ action: String, method: String, url: URL, body: Data, contentType: String?)
        async throws
        -> HTTPResponse
    {
        try await retry.run(
            { _ in
                var request = HTTPRequest(method: method, url: url, body: body)
                if let contentType { request.setHeader("Content-Type", contentType) }
                SigV4Signer(credentials: credentials, region: region, service: "s3")
                    .sign(&request, date: Date(), signBody: true, normalizePath: false)
                let response = try await http.send(request)
                guard (200..<300).contains(response.status) else {
                    throw AWSError.from(
                        response: response.status, body: response.body, headers: response.headers,
                        service: "s3",
                        action: action)
                }
                return response
            },
            classify: { RetryPolicy.outcome($0) })
    }
}
