import Foundation

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
    public var description: String { url.absoluteString }

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
