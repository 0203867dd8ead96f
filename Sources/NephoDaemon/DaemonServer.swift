import Foundation
import Logging
import NephoProtocol
import NephoSupport

#if canImport(Glibc)
    import Glibc
#endif

/// nephod's server: listens on the Unix socket, checks each peer's uid, serves every
/// connection on its own, routes requests and streams to the engine, and stops on
/// request, on SIGTERM, or after an idle period when it was started on demand.
public final class DaemonServer: @unchecked Sendable {
    public let configuration: DaemonConfiguration
    /// The number of build monitors supervised; the formations issue sets it.
    public var monitorCount: @Sendable () -> Int = { 0 }

    private let logger: Logger
    private let router: Router
    private let startedAt = Date()
    private let lock = NSLock()
    private var listener: Int32 = -1
    private var boundPath: String?
    private var boundInode: ino_t?
    private var listenerClosed = false
    private var connections: [Int: Connection] = [:]
    private var nextConnectionID = 1
    private var lastActivity = Date()
    private var stopped = false
    private var stopWaiters: [CheckedContinuation<Void, Never>] = []

    public init(configuration: DaemonConfiguration, engine: any NephoService, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        self.router = Router(
            engine: engine, keepAliveInterval: configuration.keepAliveInterval,
            replyLimit: configuration.maximumLineLength, logger: logger)
        registerDaemonMethods()
    }

    /// Every method name the daemon answers.
    public var methodNames: [String] { router.methodNames }

    /// Binds (or adopts) the listening socket and starts accepting. Throws
    /// `UnsafeSocketPathError` or `AlreadyRunningError` when it must not listen.
    public func start() throws {
        if let inherited = configuration.inheritedListener {
            listener = inherited
        } else {
            let socket = configuration.paths.socket
            if try SocketGuard.prepare(socket: socket) == .live {
                throw AlreadyRunningError(socket: socket.path)
            }
            listener = try UnixSocket.listen(path: socket.path, mode: 0o600)
            boundPath = socket.path
            var info = stat()
            if lstat(socket.path, &info) == 0 { boundInode = info.st_ino }
        }
        logger.info(
            "nephod \(NephoVersion.current) listening",
            metadata: [
                "socket": "\(configuration.paths.socket.path)", "pid": "\(getpid())",
                "origin": "\(configuration.origin.rawValue)",
            ])
        Thread.detachNewThread { [self] in acceptLoop() }
        startWatch(idle: configuration.idleTimeout)
        if let ready = configuration.readinessDescriptor {
            _ = UnixSocket.send(ready, Array("READY \(getpid())\n".utf8)) || write(ready, "READY\n", 6) > 0
            Glibc.close(ready)
        }
        Systemd.notify(
            "READY=1\nSTATUS=listening on \(configuration.paths.socket.path)",
            environment: ProcessInfo.processInfo.environment)
    }

    /// Returns once the daemon has stopped.
    public func waitUntilStopped() async {
        await withCheckedContinuation { continuation in
            let done = lock.withLock {
                if stopped { return true }
                stopWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    /// Stops accepting, closes every connection and removes the socket file we created.
    public func stop(reason: String) {
        let (waiters, open): ([CheckedContinuation<Void, Never>], [Connection]) = lock.withLock {
            guard !stopped else { return ([], []) }
            stopped = true
            defer { stopWaiters = [] }
            return (stopWaiters, Array(connections.values))
        }
        guard !waiters.isEmpty || !open.isEmpty || listener >= 0 else { return }
        logger.info("nephod stopping: \(reason)")
        Systemd.notify("STOPPING=1", environment: ProcessInfo.processInfo.environment)
        if let boundPath, let boundInode {
            // Remove the socket only while it is still ours (not a newer daemon's).
            var onPath = stat()
            if lstat(boundPath, &onPath) == 0, onPath.st_ino == boundInode { unlink(boundPath) }
        }
        // Wakes the accept loop, which closes the descriptor itself: closing it here could
        // let a new socket take its number while the loop still accepts on it. Under the lock,
        // so the loop cannot close it between the check and the shutdown.
        lock.withLock {
            if !listenerClosed && listener >= 0 { shutdown(listener, Int32(SHUT_RDWR)) }
        }
        for connection in open { connection.close(reason: nil) }
        for waiter in waiters { waiter.resume() }
    }

    public var isStopped: Bool { lock.withLock { stopped } }

    // MARK: connections

    private func acceptLoop() {
        let ownUID = getuid()
        while !isStopped, let fd = UnixSocket.accept(listener) {
            if isStopped {
                Glibc.close(fd)
                break
            }
            guard let peer = UnixSocket.peerCredentials(fd) else {
                logger.warning("refused a connection whose peer credentials cannot be read")
                Glibc.close(fd)
                continue
            }
            guard peer.uid == ownUID else {
                logger.warning(
                    "refused a connection from another user",
                    metadata: ["peer.uid": "\(peer.uid)", "peer.pid": "\(peer.pid)"])
                Glibc.close(fd)
                continue
            }
            let open = lock.withLock { connections.count }
            guard open < configuration.maximumConnections else {
                logger.warning(
                    "refused a connection: \(open) are open (the most is \(configuration.maximumConnections))",
                    metadata: ["peer.pid": "\(peer.pid)"])
                let refusal = RPCErrorObject(
                    NephoError(
                        .daemonUnavailable,
                        "nephod (pid \(getpid())) has \(open) connections open, the most it takes; close some clients"
                    ))
                if let line = try? OrderedJSONSink.encode(
                    RPCResponse<NoParams>(id: .null, outcome: .failure(refusal)))
                {
                    _ = UnixSocket.send(fd, Array(line) + [10])
                }
                Glibc.close(fd)
                continue
            }
            let connection = lock.withLock {
                defer { nextConnectionID += 1 }
                let connection = Connection(
                    id: nextConnectionID, fd: fd, peer: peer,
                    maximumQueued: configuration.maximumQueuedMessages,
                    logger: logger)
                connections[connection.id] = connection
                lastActivity = Date()
                return connection
            }
            logger.debug(
                "client connected",
                metadata: ["connection.id": "\(connection.id)", "peer.pid": "\(peer.pid)"])
            let router = self.router
            let maximum = configuration.maximumLineLength
            let limit = configuration.handshakeTimeLimit
            DispatchQueue.global().asyncAfter(deadline: .now() + limit) { [logger] in
                guard connection.handshake == nil, !connection.isClosed else { return }
                logger.info("closing a connection that made no handshake within \(limit) s")
                connection.close(reason: "no handshake within \(limit) s")
            }
            Thread.detachNewThread { [self] in
                connection.serve(maximumLineLength: maximum) { item in
                    await router.handle(item, on: connection, maximumLineLength: maximum)
                }
                lock.withLock {
                    connections[connection.id] = nil
                    lastActivity = Date()
                }
                logger.debug("client disconnected", metadata: ["connection.id": "\(connection.id)"])
            }
        }
        lock.withLock {
            listenerClosed = true
            if configuration.inheritedListener == nil { Glibc.close(listener) }
        }
    }

    /// Once a second (faster for short idle times): exits when idle long enough, or when
    /// the socket file we bound or the home folder has been removed (a deleted test home,
    /// a `rm -rf ~/.nepho`): nobody could reach this daemon any more.
    private func startWatch(idle: Double?) {
        let step = max(0.05, min(1.0, (idle ?? 4) / 4))
        let home = configuration.paths.home.path
        Thread.detachNewThread { [self] in
            while !isStopped {
                usleep(UInt32(step * 1_000_000))
                if let boundPath, let boundInode {
                    var info = stat()
                    if lstat(boundPath, &info) != 0 || info.st_ino != boundInode {
                        stop(reason: "the socket file \(boundPath) was removed or replaced")
                        break
                    }
                }
                if !FileManager.default.fileExists(atPath: home) {
                    stop(reason: "NEPHO_HOME \(home) was removed")
                    break
                }
                guard let idle else { continue }
                let idleFor: Double? = lock.withLock {
                    connections.isEmpty ? Date().timeIntervalSince(lastActivity) : nil
                }
                if let idleFor, idleFor >= idle, monitorCount() == 0 {
                    stop(reason: "idle for \(Int(idleFor)) s with no clients and no monitors")
                }
            }
        }
    }

    // MARK: daemon methods

    public func status(clients: Int? = nil) -> DaemonStatus {
        DaemonStatus(
            pid: getpid(), version: NephoVersion.current, protocolVersion: NephoVersion.protocolVersion,
            startedAt: Timestamp.string(startedAt, fractionalSeconds: false),
            uptimeSeconds: Date().timeIntervalSince(startedAt),
            socket: configuration.paths.socket.path, database: configuration.paths.database.path,
            home: configuration.paths.home.path,
            clients: clients ?? lock.withLock { connections.count }, monitors: monitorCount(),
            startedBy: configuration.origin.rawValue, idleTimeoutSeconds: configuration.idleTimeout,
            log: configuration.logDestination)
    }

    private func registerDaemonMethods() {
        let home = configuration.paths.home.standardizedFileURL.path
        router.register(DaemonRPC.handshake) { [self] params, connection in
            guard params.protocolVersion == NephoVersion.protocolVersion else {
                throw NephoError(
                    .versionMismatch,
                    "nephod \(NephoVersion.current) (pid \(getpid())) speaks protocol \(NephoVersion.protocolVersion), "
                        + "this nepho speaks protocol \(params.protocolVersion). Stop the running daemon "
                        + "(`nepho daemon:stop`, or `kill \(getpid())`; under systemd: `systemctl --user restart nephod`) "
                        + "and run the command again.")
            }
            let theirs = URL(fileURLWithPath: params.home).standardizedFileURL.path
            guard theirs == home else {
                throw NephoError(
                    .homeMismatch,
                    "the nephod on this socket serves NEPHO_HOME=\(home), but this command uses NEPHO_HOME=\(theirs). "
                        + "Each NEPHO_HOME needs its own daemon: give it its own XDG_RUNTIME_DIR, "
                        + "or use the same NEPHO_HOME.")
            }
            connection.handshake = params
            logger.debug(
                "handshake",
                metadata: ["client.version": "\(params.clientVersion)", "context": "\(params.context)"])
            return Router.Reply(
                outcome: .success(
                    AnyResult(
                        HandshakeResult(
                            protocolVersion: NephoVersion.protocolVersion,
                            daemonVersion: NephoVersion.current,
                            pid: getpid(), home: home))))
        }
        router.register(DaemonRPC.ping) { _, _ in Router.Reply(outcome: .success(AnyResult(NoParams())))
        }
        router.register(DaemonRPC.status) { [self] _, _ in
            Router.Reply(outcome: .success(AnyResult(status())))
        }
        router.register(DaemonRPC.stop) { [self] _, _ in
            Router.Reply(
                outcome: .success(AnyResult(DaemonStopResult(pid: getpid()))),
                afterWrite: { [self] in stop(reason: "daemon.stop requested") })
        }
    }
}

/// Another daemon already answers on the socket.
public struct AlreadyRunningError: Error, CustomStringConvertible, Sendable {
    public var socket: String
    public var description: String { "a nephod is already listening on \(socket)" }
}
