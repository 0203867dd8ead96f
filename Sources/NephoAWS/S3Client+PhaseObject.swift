import Foundation
import NephoHTTP
import NephoSupport

/// What a conditional read of an object found.
public enum ConditionalObject: Sendable, Equatable {
    /// The object's body and its ETag.
    case changed(Data, etag: String?)
    /// The object still has the ETag asked about (HTTP 304).
    case unchanged
    /// No such object (yet).
    case missing
}

extension S3Client {
    /// A presigned URL that lets its holder PUT `key` in `bucket` for `expires` seconds
    /// (7 days, or 12 hours with temporary credentials, when nil). A bearer secret.
    public func presignedPut(bucket: String, key: String, expires: Int? = nil, date: Date = Date()) -> Secret
    {
        let presigner = SigV4Presigner(credentials: credentials, region: region)
        let url = presigner.presign(
            method: "PUT", url: url(bucket: bucket, key: key), date: date, expires: expires)
        return Secret(url.absoluteString)
    }

    /// Reads `key` unless its ETag is still `etag` (`If-None-Match`). One attempt: the
    /// caller looks again later. A missing object is `.missing`, not an error.
    public func getObject(bucket: String, key: String, ifNoneMatch etag: String?) async throws
        -> ConditionalObject
    {
        var request = HTTPRequest(method: "GET", url: url(bucket: bucket, key: key), body: Data())
        if let etag { request.setHeader("If-None-Match", etag) }
        SigV4Signer(credentials: credentials, region: region, service: "s3")
            .sign(&request, date: Date(), signBody: true, normalizePath: false)
        let response = try await http.send(request)
        switch response.status {
        case 200..<300: return .changed(response.body, etag: response.header("ETag"))
        case 304: return .unchanged
        case 404: return .missing
        default:
            throw AWSError.from(
                response: response.status, body: response.body, headers: response.headers, service: "s3",
                action: "GetObject")
        }
    }
}
