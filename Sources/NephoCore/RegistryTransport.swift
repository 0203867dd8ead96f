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

/// A registry's URL: `https://…`, `http://…`, `file:///…` or an absolute path.
public struct RegistryLocation: Sendable, Equatable, Hashable, CustomStringConvertible {
    public let url: URL
    /// True for `file:` registries, which are read directly and never cached.
    public var isLocal: Bool { url.isFileURL }
    /// True for `file:` registries and registries served from this machine (loopback),
    /// whose entries may point at local repositories.
    public var allowsLocalSources: Bool {
        isLocal || ["127.0.0.1", "localhost", "::1", "[::1]"].contains(url.host?.lowercased() ?? "")
    }
    public var description: String { url.isFileURL ? url.absoluteString : url.absoluteString }

    public init(_ text: String) throws(RegistryLocationError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("/") {
            url = URL(fileURLWithPath: trimmed).standardizedFileURL
            return
        }
        guard let parsed = URL(string: trimmed), let scheme = parsed.scheme?.lowercased() else {
            throw RegistryLocationError(text: text, reason: "it is not a URL")
        }
        switch scheme {
        case "https", "http":
            guard let host = parsed.host, !host.isEmpty else {
                throw RegistryLocationError(text: text, reason: "it names no host")
            }
            url = parsed
        case "file":
            guard parsed.host == nil || parsed.host == "" || parsed.host == "localhost",
                parsed.path.hasPrefix("/")
            else {
                throw RegistryLocationError(
                    text: text, reason: "a file URL must name an absolute path (file:///…)")
            }
            url = URL(fileURLWithPath: parsed.path).standardizedFileURL
        default:
            throw RegistryLocationError(
                text: text, reason: "the '\(scheme)' scheme is not allowed (use https, http, file or a path)")
        }
    }
}

public struct RegistryLocationError: Error, Sendable, CustomStringConvertible {
    public var text: String
    public var reason: String
    public var description: String { "'\(text)' is not a registry URL: \(reason)" }
}
