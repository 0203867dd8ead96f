import Crypto
import Foundation

/// AWS Signature Version 4 in the query string: a presigned URL that lets whoever holds
/// it make one kind of request (a `PUT` of one S3 object, say) until it expires, without
/// credentials of its own.
///
/// Only the `host` header is signed and the payload is `UNSIGNED-PAYLOAD`, as botocore's
/// S3 presigner does, so any body and `Content-Type` may be sent. A session token is
/// signed as `X-Amz-Security-Token`. The URL is a bearer secret: hand it on as a
/// `Secret` and never log it.
public struct SigV4Presigner: Sendable {
    public var credentials: AWSCredentials
    public var region: String
    public var service: String

    /// The longest expiry SigV4 allows: 7 days.
    public static let maximumExpiry = 7 * 24 * 3600
    /// The expiry with temporary credentials: the longest role session STS grants
    /// (12 hours); the URL stops working when the session does in any case.
    public static let temporaryCredentialsExpiry = 12 * 3600

    public init(credentials: AWSCredentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// The expiry nepho uses with these credentials: 7 days, or 12 hours with a session token.
    public var defaultExpiry: Int {
        credentials.sessionToken == nil ? Self.maximumExpiry : Self.temporaryCredentialsExpiry
    }

    /// Presigns `method` on `url` (its path as sent, percent-encoded once, as
    /// `S3Client.url(bucket:key:)` makes it) for `expires` seconds from `date`.
    public func presign(method: String, url: URL, date: Date = Date(), expires: Int? = nil) -> URL {
        let stamp = SigV4Signer.timestamp(date)
        let day = String(stamp.prefix(8))
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let components = URLComponents(url: url, resolvingAgainstBaseURL: false)
        var host = url.host ?? ""
        if let port = url.port { host += ":\(port)" }
        var query: [(String, String)] = [
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            ("X-Amz-Credential", "\(credentials.accessKeyId)/\(scope)"),
            ("X-Amz-Date", stamp),
            ("X-Amz-Expires", String(min(max(expires ?? defaultExpiry, 1), Self.maximumExpiry))),
            ("X-Amz-SignedHeaders", "host"),
        ]
        if let token = credentials.sessionToken { query.append(("X-Amz-Security-Token", token.reveal())) }
        var existing = components?.percentEncodedQuery ?? ""
        let added = query.map { "\(SigV4Signer.encode($0.0))=\(SigV4Signer.encode($0.1))" }.joined(
            separator: "&")
        existing = existing.isEmpty ? added : existing + "&" + added
        // The path is already encoded once (S3 keys): decode it so the canonical form encodes it once.
        let path = components?.percentEncodedPath ?? "/"
        let decodedPath = path.isEmpty ? "/" : (path.removingPercentEncoding ?? path)
        let canonicalRequest = [
            method.uppercased(),
            SigV4Signer.encode(decodedPath, keepSlash: true),
            SigV4Signer.canonicalQuery(existing),
            "host:\(host)\n",
            "host",
            "UNSIGNED-PAYLOAD",
        ].joined(separator: "\n")
        let signature = SigV4Signer.signature(
            SigV4Signer.stringToSign(canonicalRequest: canonicalRequest, stamp: stamp, scope: scope),
            day: day,
            region: region, service: service, secretKey: credentials.secretAccessKey)
        var result = components ?? URLComponents()
        result.percentEncodedQuery = existing + "&X-Amz-Signature=\(signature)"
        return result.url ?? url
    }
}
