import Foundation
import NephoSupport

/// How a daemon runs: where it listens and stores, who started it, when it gives up.
public struct DaemonConfiguration: Sendable {
    /// Who started the daemon; decides idle exit and who owns the socket file.
    public enum Origin: String, Sendable {
        /// Spawned by a `nepho` client that found no daemon: exits when idle.
        case autoStart = "auto-start"
        /// Handed its listening socket by systemd (`LISTEN_FDS`): exits when idle,
        /// systemd keeps the socket and starts it again on the next connection.
        case systemd
        /// Run by hand or by `systemctl start nephod.service`: runs until stopped.
        case manual
    }

    public var paths: NephoPaths
    public var origin: Origin
    /// Seconds without clients or monitors before an auto-started or socket-activated
    /// daemon exits; nil never.
    public var idleTimeout: Double?
    /// A listening socket to use instead of binding `paths.socket` (systemd, tests).
    public var inheritedListener: Int32?
    /// Messages a connection may have waiting to be written before it is cut off.
    public var maximumQueuedMessages: Int
    public var maximumLineLength: Int
    /// Where stderr goes, for `daemon:status` (a file path, or "stderr").
    public var logDestination: String
    /// A pipe to write "READY\n" to once listening (the auto-starting client waits on it).
    public var readinessDescriptor: Int32?
    /// Seconds between `daemon.keepalive` notifications while a request is being answered
    /// or a stream is open: a client that hears nothing for longer knows the daemon is stuck.
    public var keepAliveInterval: Double
    /// Seconds a connection has to make its handshake before it is closed.
    public var handshakeTimeLimit: Double
    /// Connections open at once (all of this user's); one more is refused.
    public var maximumConnections: Int

    public init(
        paths: NephoPaths, origin: Origin = .manual, idleTimeout: Double? = nil,
        inheritedListener: Int32? = nil,
        maximumQueuedMessages: Int = 1024, maximumLineLength: Int = 4 << 20,
        logDestination: String = "stderr",
        readinessDescriptor: Int32? = nil, keepAliveInterval: Double = 5, handshakeTimeLimit: Double = 10,
        maximumConnections: Int = 256
    ) {
        self.keepAliveInterval = keepAliveInterval
        self.handshakeTimeLimit = handshakeTimeLimit
        self.maximumConnections = maximumConnections
        self.paths = paths
        self.origin = origin
        self.idleTimeout = idleTimeout
        self.inheritedListener = inheritedListener
        self.maximumQueuedMessages = maximumQueuedMessages
        self.maximumLineLength = maximumLineLength
        self.logDestination = logDestination
        self.readinessDescriptor = readinessDescriptor
    }

    /// The default idle time of an on-demand daemon: 10 minutes.
    public static let defaultIdleTimeout: Double = 600
}
