import Foundation

extension NephoVersion {
    /// The wire protocol's version, exchanged in the handshake. Bump it on any change an
    /// older peer would misread; client and daemon must agree exactly.
    public static let protocolVersion = 1
}

extension NephoError.Code {
    /// The client and the daemon use different `NEPHO_HOME` folders.
    public static let homeMismatch = NephoError.Code(rawValue: -32021)
    /// The daemon cannot be reached, or could not be started.
    public static let daemonUnavailable = NephoError.Code(rawValue: -32022)
}

/// The methods nephod answers itself, not the engine: the handshake and daemon control,
/// and the notifications that carry streams (see docs/protocol.md). Declared once here, like `APIMethods`.
public struct DaemonMethods: Sendable {
    /// First call of every connection.
    public let handshake = DaemonMethod<HandshakeParams, HandshakeResult>("nepho.handshake")
    /// Answers `{}`: a liveness check and the benchmark's round trip.
    public let ping = DaemonMethod<NoParams, NoParams>("daemon.ping")
    public let status = DaemonMethod<NoParams, DaemonStatus>("daemon.status")
    /// Stops the daemon after answering.
    public let stop = DaemonMethod<NoParams, DaemonStopResult>("daemon.stop")
    /// The notification carrying one item of a stream (`StreamItem`).
    public let streamItem = "stream.item"
    /// The notification ending a stream (`StreamEnd`).
    public let streamEnd = "stream.end"
    /// A notification with no params, sent while a request is answered or a stream waits,
    /// so that a client can tell a busy daemon from a stopped one.
    public let keepAlive = "daemon.keepalive"
    /// A notification with one line of a request's progress (`ProgressNote`), sent only
    /// while a request that asked for progress is answered.
    public let progress = "request.progress"

    /// The name of every daemon method declared above.
    public var names: [String] {
        Mirror(reflecting: self).children.compactMap { ($0.value as? any WireMethod)?.name }
    }

    init() {}
}

/// nephod's own methods: `DaemonRPC.handshake`, …
public let DaemonRPC = DaemonMethods()

/// The client's cloud provider settings: every `AWS_*` variable of the environment of
/// the command (profile, region, endpoints, retries, credentials), plus its ssh agent
/// (`SSH_AUTH_SOCK`), proxy variables and `NEPHO_EVENTS`, which git and HTTP need to act as the user.
/// The daemon runs the request, and any build it starts, with these. Values are never
/// logged or stored: `description` shows the names only.
public struct ProviderContext: Codable, Sendable, Equatable, CustomStringConvertible {
    public var environment: [String: String]

    public init(environment: [String: String] = [:]) { self.environment = environment }

    /// Variables besides `AWS_*` that travel with a request (`NEPHO_EVENTS=poll`: the
    /// request's builds poll for their events, docs/aws.md).
    public static let carriedVariables: Set<String> = [
        "NEPHO_EVENTS", "SSH_AUTH_SOCK", "http_proxy", "https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY",
        "all_proxy",
        "ALL_PROXY",
    ]

    /// The client's home and XDG base folders: a provider finds the user's files from
    /// them as the user's own tools would (the AWS shared files are `$HOME/.aws/…`, as
    /// the AWS CLI has them), not from the daemon's home or the passwd entry.
    public static let homeVariables: Set<String> = [
        "HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME",
    ]

    /// Set by `nephod stdio` in a context whose credentials a remote client forwarded
    /// (`--forward-credentials`): such a context serves that connection's requests and
    /// the builds they start, never as the nanny's fallback for other builds. Never
    /// captured from a client's environment.
    public static let forwardedMarker = "NEPHO_FORWARDED_CREDENTIALS"

    /// Whether a remote client forwarded this context's credentials.
    public var carriesForwardedCredentials: Bool { environment[Self.forwardedMarker] != nil }

    /// Keeps the provider variables of `environment`.
    public static func capture(from environment: [String: String]) -> ProviderContext {
        ProviderContext(
            environment: environment.filter {
                $0.key.hasPrefix("AWS_") || carriedVariables.contains($0.key)
                    || homeVariables.contains($0.key)
                    || isVagrantVariable($0.key)
            })
    }

    /// Variables a Vagrant build takes from the client (docs/vagrant.md): `PATH` (where
    /// vagrant is), `VAGRANT_*` (its home, default provider…) and `NEPHO_VAGRANT` (the
    /// vagrant program to run, a test hook).
    public static func isVagrantVariable(_ name: String) -> Bool {
        name == "PATH" || name == "NEPHO_VAGRANT" || name.hasPrefix("VAGRANT_")
    }

    /// `base` (normally the process's own environment) with this context's carried
    /// non-AWS variables in its place: in the daemon, a child such as git then uses the
    /// requesting client's ssh agent and proxies, not the daemon's.
    public func overlaying(_ base: [String: String]) -> [String: String] {
        var merged = base.filter { !Self.carriedVariables.contains($0.key) }
        for (key, value) in environment where Self.carriedVariables.contains(key) { merged[key] = value }
        return merged
    }

    public var description: String {
        "ProviderContext(\(environment.keys.sorted().joined(separator: ", ")))"
    }

}

public struct HandshakeParams: Codable, Sendable, Equatable {
    public var protocolVersion: Int
    /// The client's nepho release.
    public var clientVersion: String
    /// The client's resolved `NEPHO_HOME`; the daemon refuses another one.
    public var home: String
    public var context: ProviderContext

    public init(protocolVersion: Int, clientVersion: String, home: String, context: ProviderContext) {
        self.protocolVersion = protocolVersion
        self.clientVersion = clientVersion
        self.home = home
        self.context = context
    }
}

public struct HandshakeResult: Codable, Sendable, Equatable {
    public var protocolVersion: Int
    public var daemonVersion: String
    public var pid: Int32
    public var home: String

    public init(protocolVersion: Int, daemonVersion: String, pid: Int32, home: String) {
        self.protocolVersion = protocolVersion
        self.daemonVersion = daemonVersion
        self.pid = pid
        self.home = home
    }
}

/// What `nepho daemon:status` shows.
public struct DaemonStatus: Codable, Sendable, Equatable {
    public var pid: Int32
    public var version: String
    public var protocolVersion: Int
    public var startedAt: String
    public var uptimeSeconds: Double
    public var socket: String
    public var database: String
    public var home: String
    /// Connections open now, this one included.
    public var clients: Int
    /// Build monitors the daemon supervises.
    public var monitors: Int
    /// `auto-start`, `systemd` (socket activation) or `manual`.
    public var startedBy: String
    /// Seconds without clients after which an on-demand daemon exits; nil: never.
    public var idleTimeoutSeconds: Double?
    /// Where the daemon's log goes (a file, or `stderr`/journal).
    public var log: String

    public init(
        pid: Int32, version: String, protocolVersion: Int, startedAt: String, uptimeSeconds: Double,
        socket: String,
        database: String, home: String, clients: Int, monitors: Int, startedBy: String,
        idleTimeoutSeconds: Double?,
        log: String
    ) {
        self.pid = pid
        self.version = version
        self.protocolVersion = protocolVersion
        self.startedAt = startedAt
        self.uptimeSeconds = uptimeSeconds
        self.socket = socket
        self.database = database
        self.home = home
        self.clients = clients
        self.monitors = monitors
        self.startedBy = startedBy
        self.idleTimeoutSeconds = idleTimeoutSeconds
        self.log = log
    }
}

public struct DaemonStopResult: Codable, Sendable, Equatable {
    public var pid: Int32
    public init(pid: Int32) { self.pid = pid }
}

/// One provider event of a build (a CloudFormation stack event, a Vagrant step).
public struct BuildEvent: Codable, Sendable, Equatable {
    public var eventID: String
    public var timestamp: String
    public var logicalID: String?
    public var resourceType: String?
    public var status: String?
    public var reason: String?

    public init(
        eventID: String, timestamp: String, logicalID: String? = nil, resourceType: String? = nil,
        status: String? = nil, reason: String? = nil
    ) {
        self.eventID = eventID
        self.timestamp = timestamp
        self.logicalID = logicalID
        self.resourceType = resourceType
        self.status = status
        self.reason = reason
    }
}
