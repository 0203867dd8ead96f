import Foundation

/// Sends one HTTP request and returns its whole answer; implementations are reusable
/// and safe to share between tasks.
public protocol HTTPClient: Sendable {
    func send(_ request: HTTPRequest) async throws -> HTTPResponse
}

/// One HTTP request: method, absolute URL, headers in order, and a body.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: URL
    /// Header fields in the order they are sent; names keep their case.
    public var headers: [(name: String, value: String)]
    public var body: Data

    public init(method: String, url: URL, headers: [(name: String, value: String)] = [], body: Data = Data())
    {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }

    /// The first value of header `name`, compared without case.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    /// Replaces every field called `name` (compared without case) with one.
    public mutating func setHeader(_ name: String, _ value: String) {
        headers.removeAll { $0.name.caseInsensitiveCompare(name) == .orderedSame }
        headers.append((name, value))
    }

    /// `host` or `host:port` of the URL, as errors name it.
    public var hostDescription: String {
        guard let host = url.host else { return url.absoluteString }
        if let port = url.port { return "\(host):\(port)" }
        return host
    }
}

/// A complete HTTP answer.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: Data

    public init(status: Int, headers: [(name: String, value: String)] = [], body: Data = Data()) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first value of header `name`, compared without case.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }
}

/// Limits applied to every request of a client.
public struct HTTPLimits: Sendable, Equatable {
    /// Seconds to set up the connection (TCP and TLS).
    public var connectTimeout: Double
    /// Seconds for the whole exchange, connection included.
    public var totalTimeout: Double
    /// Largest request body sent, in bytes.
    public var maxRequestBytes: Int
    /// Largest response body accepted, in bytes; a longer answer is an error.
    public var maxResponseBytes: Int

    public init(
        connectTimeout: Double = 10, totalTimeout: Double = 60, maxRequestBytes: Int = 64 << 20,
        maxResponseBytes: Int = 32 << 20
    ) {
        self.connectTimeout = connectTimeout
        self.totalTimeout = totalTimeout
        self.maxRequestBytes = maxRequestBytes
        self.maxResponseBytes = maxResponseBytes
    }
}
