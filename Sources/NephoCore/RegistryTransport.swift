import Foundation

/// Fetches a registry index over the network (NephoEngine adapts the libcurl client).
public protocol RegistryTransport: Sendable {
    /// GETs `url`, sending `If-None-Match` / `If-Modified-Since` from `validators`.
    /// Throws when the server cannot be reached, answers other than 200 or 304, or
    /// sends more than `maxBytes` or fewer bytes than it announced.
    func get(_ url: URL, validators: RegistryValidators, maxBytes: Int) async throws
        -> RegistryTransportResponse
}

/// What a server said about the cached copy: its ETag and Last-Modified.
public struct RegistryValidators: Codable, Sendable, Equatable {
    public var etag: String?
    public var lastModified: String?

    public init(etag: String? = nil, lastModified: String? = nil) {
        self.etag = etag
        self.lastModified = lastModified
    }

    enum CodingKeys: String, CodingKey {
        case etag
        case lastModified = "last_modified"
    }
}

public enum RegistryTransportResponse: Sendable {
    /// 304: the cached copy is current.
    case notModified(RegistryValidators)
    /// 200 with the whole body.
    case body(Data, RegistryValidators)
}
