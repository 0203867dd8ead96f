/// A request that got no complete HTTP answer. It names the host and what failed;
/// it never carries headers or bodies, so no credential can leak through it.
public struct HTTPError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, coarsely, for retry decisions.
    public enum Kind: String, Sendable {
        /// Host name did not resolve.
        case resolve
        /// TCP connection refused or unreachable.
        case connect
        /// Connect or total time limit passed.
        case timeout
        /// TLS handshake or certificate verification failed.
        case tls
        /// The connection broke while sending or receiving (reset, closed early).
        case connectionLost
        /// The request or the response body is larger than the client's limit.
        case tooLarge
        /// The request was cancelled by its task.
        case cancelled
        /// Anything else libcurl reported.
        case other
    }

    public var kind: Kind
    /// `host` or `host:port`.
    public var host: String
    /// A readable cause, from libcurl or the client.
    public var reason: String

    public init(kind: Kind, host: String, reason: String) {
        self.kind = kind
        self.host = host
        self.reason = reason
    }

    /// True for failures where the request may not have reached the server, or its
    /// answer was lost: worth a retry for idempotent or token-carrying calls.
    public var isTransient: Bool {
        switch kind {
        case .connect, .timeout, .connectionLost: return true
        case .resolve, .tls, .tooLarge, .cancelled, .other: return false
        }
    }

    public var description: String { "HTTP request to \(host) failed (\(kind.rawValue)): \(reason)" }
}
