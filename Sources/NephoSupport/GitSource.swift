import Foundation

/// A git repository location that passed nepho's safe-git rules, ready to hand to git.
///
/// Accepted forms: `https://host/path`, `ssh://[user@]host[:port]/path`, scp-like
/// `[user@]host:path`, `file:///absolute/path` and plain local paths. Everything else
/// is refused before git runs: other schemes (`http`, `git`, `ext::…`, `fd::…`, any
/// `transport::address`), hosts, users or paths that look like options
/// (`ssh://-oProxyCommand=…`, `-u…@host:path`), percent-escapes in a host, control
/// characters and white space. See docs/registry.md, "Safe git".
public struct GitSource: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        case https, ssh, scp, file, localPath
    }

    public var kind: Kind
    /// What git receives (after `--`). Local paths are absolute.
    public var argument: String

    /// True for sources on this machine (`file://` URLs and plain paths).
    public var isLocal: Bool { kind == .file || kind == .localPath }

    /// The location with any password or token replaced, for messages and logs.
    public var description: String { GitSource.redacted(argument) }

    /// Checks `text` against the rules; relative paths are resolved against `base`.
    public init(_ text: String, relativeTo base: URL? = nil) throws(GitSourceError) {
        func refuse(_ reason: String) -> GitSourceError {
            GitSourceError(source: GitSource.redacted(text), reason: reason)
        }
        if text.isEmpty { throw refuse("it is empty") }
        if text.unicodeScalars.contains(where: {
            $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7f
        }) {
            throw refuse("it contains white space or control characters")
        }
        if text.hasPrefix("-") { throw refuse("it starts with '-' and would be read as an option") }
        if let range = text.range(of: "::"), !text[..<range.lowerBound].contains("/"),
            text[..<range.lowerBound].allSatisfy({ $0.isLetter || $0.isNumber || "+-.".contains($0) })
        {
            let transport = String(text[..<range.lowerBound])
            throw refuse("the '\(transport)::' transport is not allowed (only https, ssh and local paths)")
        }
        if let schemeEnd = text.range(of: "://") {
            let scheme = text[..<schemeEnd.lowerBound].lowercased()
            let rest = String(text[schemeEnd.upperBound...])
            switch scheme {
            case "https":
                try GitSource.checkAuthority(rest, allowUser: true, refuse)
                kind = .https
                argument = text
            case "ssh", "git+ssh", "ssh+git":
                try GitSource.checkAuthority(rest, allowUser: true, refuse)
                kind = .ssh
                argument = text
            case "file":
                guard rest.hasPrefix("/") || rest.hasPrefix("localhost/") else {
                    throw refuse("a file URL must name an absolute path on this machine (file:///path)")
                }
                let path = rest.hasPrefix("/") ? rest : String(rest.dropFirst("localhost".count))
                try GitSource.checkPath(path, refuse)
                kind = .file
                argument = "file://" + path
            default:
                throw refuse(
                    "the '\(scheme)' scheme is not allowed (only https, ssh, file URLs and local paths)")
            }
            return
        }
        // git reads "host:path" (a colon before any slash) as scp-like ssh.
        if let colon = text.firstIndex(of: ":"), !text[..<colon].contains("/") {
            let target = String(text[..<colon])
            let path = String(text[text.index(after: colon)...])
            try GitSource.checkUserHost(target, allowPort: false, refuse)
            if path.isEmpty { throw refuse("it names no repository path after ':'") }
            if path.hasPrefix("-") { throw refuse("its path starts with '-' and would be read as an option") }
            kind = .scp
            argument = text
            return
        }
        let absolute =
            text.hasPrefix("/")
            ? text
            : (base ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
                .appendingPathComponent(text).path
        try GitSource.checkPath(absolute, refuse)
        kind = .localPath
        argument = URL(fileURLWithPath: absolute).standardizedFileURL.path
    }

    private static func checkAuthority(
        _ rest: String, allowUser: Bool, _ refuse: (String) -> GitSourceError
    ) throws(GitSourceError) {
        let authority = String(rest.prefix { $0 != "/" })
        if authority.isEmpty { throw refuse("it names no host") }
        try checkUserHost(authority, allowPort: true, refuse)
        let path = rest.dropFirst(authority.count)
        if path.count <= 1 { throw refuse("it names no repository path") }
    }

    private static func checkUserHost(
        _ authority: String, allowPort: Bool, _ refuse: (String) -> GitSourceError
    ) throws(GitSourceError) {
        if authority.contains("%") { throw refuse("percent-escapes are not allowed in the host or user") }
        var hostPart = Substring(authority)
        if let at = authority.lastIndex(of: "@") {
            let user = authority[..<at]
            if user.isEmpty || user.hasPrefix("-") {
                throw refuse("its user name is empty or starts with '-' and would be read as an option")
            }
            hostPart = authority[authority.index(after: at)...]
        }
        if hostPart.hasPrefix("[") {
            guard let close = hostPart.firstIndex(of: "]") else { throw refuse("its IPv6 host has no ']'") }
            let inner = hostPart[hostPart.index(after: hostPart.startIndex)..<close]
            if inner.isEmpty || !inner.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) {
                throw refuse("its IPv6 host is malformed")
            }
            hostPart = hostPart[hostPart.index(after: close)...]
            if !hostPart.isEmpty {
                guard allowPort, hostPart.hasPrefix(":"), hostPart.dropFirst().allSatisfy(\.isNumber) else {
                    throw refuse("its port is malformed")
                }
            }
            return
        }
        var host = hostPart
        if allowPort, let colon = hostPart.lastIndex(of: ":") {
            let port = hostPart[hostPart.index(after: colon)...]
            guard !port.isEmpty, port.allSatisfy(\.isNumber) else { throw refuse("its port is malformed") }
            host = hostPart[..<colon]
        }
        if host.isEmpty { throw refuse("it names no host") }
        if host.hasPrefix("-") {
            throw refuse("its host '\(host)' starts with '-' and would be read as an option")
        }
        let allowed = host.unicodeScalars.allSatisfy {
            ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains(Character($0)))) || $0 == "."
                || $0 == "-" || $0 == "_"
        }
        if !allowed { throw refuse("its host '\(host)' has characters a host name cannot have") }
    }

    private static func checkPath(_ path: String, _ refuse: (String) -> GitSourceError) throws(GitSourceError)
    {
        if path.hasPrefix("-") { throw refuse("its path starts with '-' and would be read as an option") }
        if path.split(separator: "/").contains(where: { $0.hasPrefix("-") }) {
            throw refuse("a folder in its path starts with '-'")
        }
    }

    /// An `http(s)://user:secret@host/…` URL split into the URL without its user part and
    /// that part; nil for any other text (ssh logins are not secrets).
    public static func credentials(in text: String) -> (plain: String, userInfo: String)? {
        let lower = text.lowercased()
        guard lower.hasPrefix("https://") || lower.hasPrefix("http://"),
            let schemeEnd = text.range(of: "://")
        else { return nil }
        let rest = text[schemeEnd.upperBound...]
        let authority = rest.prefix { $0 != "/" }
        guard let at = authority.lastIndex(of: "@") else { return nil }
        return (
            String(text[..<schemeEnd.upperBound]) + String(rest[rest.index(after: at)...]),
            String(authority[..<at])
        )
    }

    /// `text` with the password (or token) of an `https://user:secret@host` URL replaced.
    public static func redacted(_ text: String) -> String {
        guard let schemeEnd = text.range(of: "://") else { return text }
        let rest = text[schemeEnd.upperBound...]
        let authority = rest.prefix { $0 != "/" }
        guard let at = authority.lastIndex(of: "@") else { return text }
        let user = authority[..<at]
        let name = user.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
        let hidden = user.contains(":") ? "\(name):<redacted>" : "<redacted>"
        // A lone user name in an https URL is usually a token; in ssh it is just a login.
        let keep = text.lowercased().hasPrefix("ssh") && !user.contains(":")
        if keep { return text }
        return String(text[..<schemeEnd.upperBound]) + hidden + String(rest[at...])
    }
}

/// A repository location refused by the safe-git rules, before git ran.
public struct GitSourceError: Error, Sendable, Equatable, CustomStringConvertible {
    public var source: String
    public var reason: String
    public var description: String { "refusing git source '\(source)': \(reason)" }
}
