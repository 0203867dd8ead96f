import Crypto
import Foundation

/// Puts a template too large for an inline body into S3 and names it by URL.
///
/// The bucket is `nepho-templates-<account>-<region>`, made on first use; the key is
/// `templates/<sha256 of the template>.template`, so uploading the same template again
/// is harmless.
public struct TemplateUploader: Sendable {
    public var s3: S3Client
    public var sts: STSClient

    public init(s3: S3Client, sts: STSClient) {
        self.s3 = s3
        self.sts = sts
    }

    /// The bucket for `account` in `region`.
    public static func bucketName(account: String, region: String) -> String {
        "nepho-templates-\(account)-\(region)"
    }

    /// `.body` for a template that fits inline, else the URL of an uploaded copy.
    public func source(for template: String) async throws -> TemplateSource {
        if template.utf8.count <= CloudFormationClient.maxTemplateBodyBytes { return .body(template) }
        return .url(try await upload(template))
    }

    /// Uploads `template` and returns its URL.
    public func upload(_ template: String) async throws -> URL {
        try await upload(template, into: try await bucket())
    }

    /// nepho's bucket of this account and region, made when missing.
    public func bucket() async throws -> String {
        let account = try await sts.getCallerIdentity().account
        let bucket = Self.bucketName(account: account, region: s3.region)
        try await s3.createBucket(bucket)
        return bucket
    }

    /// Uploads `template` into `bucket` (from `bucket()`) and returns its URL.
    public func upload(_ template: String, into bucket: String) async throws -> URL {
        let digest = SHA256.hash(data: Data(template.utf8)).map { String(format: "%02x", $0) }.joined()
        let key = "templates/\(digest).template"
        try await s3.putObject(bucket: bucket, key: key, body: Data(template.utf8), contentType: "text/plain")
        return s3.url(bucket: bucket, key: key)
    }
}
