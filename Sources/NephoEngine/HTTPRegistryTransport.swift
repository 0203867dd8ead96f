import Foundation
import NephoCore
import NephoHTTP

/// Fetches registry indexes with NephoHTTP (libcurl): a conditional GET, a size limit,
/// a time limit, no redirects.
public struct HTTPRegistryTransport: RegistryTransport {
    public let client: any HTTPClient

    public init(client: (any HTTPClient)? = nil) {
        self.client =
            client
            ?? CurlHTTPClient(
                limits: HTTPLimits(
                    connectTimeout: 10, totalTimeout: 120, maxResponseBytes: RegistryLimits.indexBytes))
    }

    public func get(_ url: URL, validators: RegistryValidators, maxBytes: Int) async throws
        -> RegistryTransportResponse
    {
        var request = HTTPRequest(method: "GET", url: url, headers: [("Accept", "application/json")])
        if let etag = validators.etag { request.setHeader("If-None-Match", etag) }
        if let lastModified = validators.lastModified { request.setHeader("If-Modified-Since", lastModified) }
        let response: HTTPResponse
        do {
            response = try await client.send(request)
        } catch let error as HTTPError where error.kind == .tooLarge {
            throw RegistryIndexError(
                origin: url.absoluteString,
                message: "the index is larger than the limit of \(maxBytes) bytes",
                details: [])
        }
        let answered = RegistryValidators(
            etag: response.header("ETag"), lastModified: response.header("Last-Modified"))
        switch response.status {
        case 304:
            return .notModified(answered)
        case 200:
            if response.body.count > maxBytes {
                throw RegistryIndexError(
                    origin: url.absoluteString,
                    message: "the index is larger than the limit of \(maxBytes) bytes",
                    details: [])
            }
            if let length = response.header("Content-Length").flatMap(Int.init), length != response.body.count
            {
                throw RegistryIndexError(
                    origin: url.absoluteString,
                    message: "the download is truncated: \(response.body.count) of \(length) bytes",
                    details: [])
            }
            return .body(response.body, answered)
        default:
            throw RegistryFetchError(
                location: try RegistryLocation(url.absoluteString),
                reason: "the server answered HTTP \(response.status)")
        }
    }
}
